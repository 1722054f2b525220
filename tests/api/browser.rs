//! Headless Chromium for the screens' tests, driven over WebDriver by `fantoccini` through
//! chromedriver. Debian's `chromium` and `chromium-driver` packages are needed; `.ci/run`
//! installs them and sets `OBSERVER_DESK_TEST_REQUIRE_BROWSER=1`, which turns a missing
//! browser into a failure instead of a notice.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub(crate) fn program(var: &str, default: &str) -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_string()));
    p.exists().then_some(p)
}

/// chromedriver and Chromium, or `None` (and a notice) where they are not installed; with
/// `OBSERVER_DESK_TEST_REQUIRE_BROWSER=1` (CI) their absence is a failure.
pub(crate) fn browser() -> Option<(PathBuf, PathBuf)> {
    match (
        program("OBSERVER_DESK_CHROMEDRIVER", "/usr/bin/chromedriver"),
        program("OBSERVER_DESK_CHROMIUM", "/usr/bin/chromium"),
    ) {
        (Some(d), Some(b)) => Some((d, b)),
        _ => {
            if std::env::var("OBSERVER_DESK_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!(
                    "OBSERVER_DESK_TEST_REQUIRE_BROWSER=1 but chromium / chromedriver are not installed"
                );
            }
            eprintln!(
                "NOTE: the browser test was NOT run: install Debian's chromium and chromium-driver"
            );
            None
        }
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.0, "params": self.1 });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One browser: chromedriver on a port of its own and a session in it; chromedriver is
/// stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    client: Client,
}

impl Drop for Driver {
    /// chromedriver and every browser process it started (its own process group), also when
    /// a test failed before it could end the session.
    fn drop(&mut self) {
        let group = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The browser processes chromedriver started, found by their process group and
        // stopped one by one (positive pids only: nothing outside the group is touched).
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp ...: the fields after the command's closing paren.
            let pgrp = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(2))
                .and_then(|g| g.parse::<u32>().ok());
            if pid != group && pgrp == Some(group) {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

impl Driver {
    pub(crate) async fn start(driver: &Path, browser: &Path, downloads: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": browser.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1800", "--lang=zh-CN"],
                "prefs": {
                    "download.default_directory": downloads.to_string_lossy(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) => assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "chromedriver did not start: {e}"
                ),
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        };
        Driver { child, client }
    }

    /// Loads a page.
    pub(crate) async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// Types into the element `css` finds; found again when the page redrew it meanwhile.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        for _ in 0..5 {
            let e = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            match e.send_keys(text).await {
                Ok(()) => return,
                Err(err) if err.is_stale_element_reference() => {
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("typing into {css}: {err}"),
            }
        }
        panic!("{css} kept being redrawn");
    }

    /// Clicks the element `css` finds; found again when the page redrew it meanwhile.
    pub(crate) async fn click(&self, css: &str) {
        for _ in 0..5 {
            let e = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            match e.click().await {
                Ok(()) => return,
                Err(err) if err.is_stale_element_reference() => {
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("click {css}: {err}"),
            }
        }
        panic!("{css} kept being redrawn");
    }

    pub(crate) async fn script(&self, js: &str) -> Value {
        self.client
            .execute(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// A script that calls `arguments[arguments.length - 1]` with its answer.
    pub(crate) async fn script_async(&self, js: &str) -> Value {
        self.client
            .execute_async(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Waits until `js` returns something truthy; returns it.
    pub(crate) async fn until(&self, what: &str, js: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(js).await;
            if !(v.is_null() || v == false || v == 0 || v == "") {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A Chrome DevTools Protocol command.
    pub(crate) async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp(cmd, params))
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    pub(crate) async fn window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window is resized");
    }

    pub(crate) async fn reload(&self) {
        self.client.refresh().await.expect("the page reloads");
    }

    /// Closes the page and goes on in a new, empty tab (the app closed and opened again).
    pub(crate) async fn close_and_open_a_tab(&self) {
        let fresh = self.client.new_window(true).await.expect("a new tab");
        self.client.close_window().await.expect("the tab closes");
        self.client
            .switch_to_window(fresh.handle)
            .await
            .expect("the new tab");
    }

    /// A PNG of the page, kept in `target/` and, with `OBSERVER_DESK_UPDATE_DOCS=1`, in `docs/`.
    pub(crate) async fn screenshot(&self, name: &str) -> Vec<u8> {
        let png = self.client.screenshot().await.expect("a screenshot");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let _ = std::fs::create_dir_all(root.join("target"));
        let _ = std::fs::write(root.join("target").join(name), &png);
        if std::env::var("OBSERVER_DESK_UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(root.join("docs").join(name), &png).unwrap();
        }
        png
    }

    /// The serious and critical accessibility violations axe-core finds on the page.
    pub(crate) async fn accessibility_violations(&self) -> Vec<String> {
        let axe = include_str!("../vendor/axe-core/axe.min.js");
        self.script(&format!("{axe}\n;return true;")).await;
        let found = self
            .script_async(
                "const done = arguments[arguments.length - 1]; \
                axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations \
                  .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                  .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))) \
                  .catch(e => done(['axe failed: ' + e]));",
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Ends the browser session.
    pub(crate) async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}
