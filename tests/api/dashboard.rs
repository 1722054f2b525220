//! The dashboard in a real browser: headless Chromium, driven over the WebDriver protocol
//! through chromedriver, signs in as a supervisor of the demo county, sees the charts
//! drawn, downloads the CSV, switches to English. Debian's `chromium` and `chromium-driver`
//! packages are needed; `.ci/run` installs them and sets `OBSERVER_DESK_TEST_REQUIRE_BROWSER=1`,
//! which turns a missing browser into a failure instead of a notice.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use observer_desk::config::Secret;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;

on_both_databases!(a_supervisor_sees_the_charts_downloads_the_csv_and_switches_to_english);

const DEMO_PASSWORD: &str = "demo-password-for-tests";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

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

/// chromedriver on a port of its own, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
    client: awc::Client,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let url = format!("http://127.0.0.1:{port}");
        let mut d = Driver {
            child,
            url,
            client,
            session: String::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(mut r) = d.client.get(format!("{}/status", d.url)).send().await
                && r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1800", "--lang=zh-CN"],
                "prefs": {
                    "download.default_directory": downloads.to_string_lossy(),
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let v = d.call("POST", "/session", Some(caps)).await;
        d.session = v["sessionId"].as_str().expect("a session").to_string();
        d
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}/session", self.url)
        } else {
            format!("{}/session/{}{path}", self.url, self.session)
        };
        let req = self.client.request(
            awc::http::Method::from_bytes(method.as_bytes()).unwrap(),
            url,
        );
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .expect("webdriver answers");
        let v: Value = res
            .json()
            .limit(64 * 1024 * 1024)
            .await
            .expect("webdriver JSON");
        assert!(res.status().is_success(), "{method} {path}: {v}");
        v["value"].clone()
    }

    /// Loads a page.
    pub(crate) async fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().expect("an element").to_string()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks the element `css` finds; found again when the page redrew it meanwhile.
    pub(crate) async fn click(&self, css: &str) {
        for _ in 0..5 {
            let e = self.find(css).await;
            let url = format!("{}/session/{}/element/{e}/click", self.url, self.session);
            let mut res = self
                .client
                .post(url)
                .send_json(&json!({}))
                .await
                .expect("webdriver answers");
            if res.status().is_success() {
                return;
            }
            let v: Value = res.json().await.unwrap_or_default();
            assert_eq!(
                v["value"]["error"], "stale element reference",
                "click {css}: {v}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} kept being redrawn");
    }

    pub(crate) async fn script(&self, js: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": js, "args": [] })),
        )
        .await
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
}

/// The demo's issues are spread over the last twelve days, which on the first days of a
/// month lie in the month before: observers file a few now, so that "this month" has issues
/// for at least two departments whatever the date.
async fn file_this_month_for_two_departments(app: &TestApp) {
    let mut departments = std::collections::BTreeSet::new();
    for n in 1..=25 {
        let observer = app.token(&format!("observer{n:02}"), DEMO_PASSWORD).await;
        let projects = app.get("/api/v1/projects?limit=200", &observer).await;
        for p in projects.body["items"].as_array().unwrap() {
            let followed = !p["observer_ids"].as_array().unwrap().is_empty();
            let lead = p["lead_department_id"].as_i64();
            if let (true, Some(lead)) = (followed, lead)
                && !departments.contains(&lead)
            {
                let filed = app
                    .post(
                        "/api/v1/issues",
                        Some(&observer),
                        json!({ "project_id": p["id"], "category": "other", "title": "本月新问题", "description": "看板测试" }),
                    )
                    .await;
                if filed.status == 201 {
                    let department = filed.body["department_id"].as_i64().unwrap_or(lead);
                    if departments.is_empty() {
                        resolve_at_once(app, filed.body["id"].as_i64().unwrap(), department).await;
                    }
                    departments.insert(department);
                }
            }
            if departments.len() >= 2 {
                return;
            }
        }
    }
    panic!("the demo county let no observer file for two departments: {departments:?}");
}

/// The department's clerk acknowledges and resolves the issue: a bar of real height.
async fn resolve_at_once(app: &TestApp, issue: i64, department: i64) {
    let sup = app.token("supervisor01", DEMO_PASSWORD).await;
    let code = app
        .get(&format!("/api/v1/departments/{department}"), &sup)
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let clerk = app.token(&format!("{code}.staff"), DEMO_PASSWORD).await;
    for step in [
        json!({ "action": "acknowledge" }),
        json!({ "action": "resolve", "comment": "已办结" }),
    ] {
        app.post(
            &format!("/api/v1/issues/{issue}/transitions"),
            Some(&clerk),
            step,
        )
        .await
        .assert_status(200);
    }
}

async fn a_supervisor_sees_the_charts_downloads_the_csv_and_switches_to_english(db: Db) {
    let Some((driver, browser)) = browser() else {
        return;
    };
    let app = TestApp::spawn_with(db, |s| {
        s.demo = true;
        s.demo_password = Some(Secret::new(DEMO_PASSWORD));
    })
    .await;
    file_this_month_for_two_departments(&app).await;
    let downloads = tempfile::tempdir().unwrap();
    let d = Driver::start(&driver, &browser, downloads.path()).await;
    d.open(&format!("{}/dashboard", app.address)).await;
    assert_eq!(
        d.script("return document.querySelector('h1').textContent")
            .await,
        "营商环境观察员 · 督查看板"
    );
    // A wrong password is told, in Chinese.
    d.type_into("#username", "supervisor01").await;
    d.type_into("#password", "wrong-password").await;
    d.click("#signin").await;
    let error = d
        .until(
            "the sign-in error",
            "return document.getElementById('login-error').textContent",
        )
        .await;
    assert!(error.as_str().unwrap().contains("登录失败"), "{error}");
    d.script("document.getElementById('password').value = ''")
        .await;
    d.type_into("#password", DEMO_PASSWORD).await;
    d.click("#signin").await;
    d.until(
        "the dashboard to load",
        "return document.body.dataset.ready === 'true'",
    )
    .await;
    // The bar chart: two bars for each department with issues this month, of real height.
    let bars = d
        .script("return [...document.querySelectorAll('#bars rect')].map(r => parseFloat(r.getAttribute('height')))")
        .await;
    let heights: Vec<f64> = bars
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert!(
        heights.len() >= 4 && heights.len().is_multiple_of(2),
        "{heights:?}"
    );
    assert!(
        heights.iter().any(|h| *h > 1.0),
        "some bar has height: {heights:?}"
    );
    // The trend: two lines through six months.
    let paths = d
        .script("return [...document.querySelectorAll('#trend path')].map(p => p.getAttribute('d').split(/[ML]/).filter(Boolean).length)")
        .await;
    assert_eq!(paths, json!([6, 6]));
    let labels = d
        .script("return document.querySelector('#bars text:last-of-type').textContent")
        .await;
    assert!(labels.as_str().is_some_and(|l| !l.is_empty()));
    // The overdue list and the ranking table are filled.
    let overdue_rows = d
        .script("return document.querySelectorAll('#overdue tbody tr').length")
        .await;
    assert!(overdue_rows.as_u64().unwrap() >= 1);
    let ranking_rows = d
        .script("return document.querySelectorAll('#ranking tbody tr').length")
        .await;
    assert_eq!(ranking_rows, 9, "the nine departments of the demo county");
    let totals = d
        .script("return document.querySelector('#totals b').textContent")
        .await;
    assert!(
        totals.as_str().unwrap().parse::<u32>().unwrap() > 0,
        "issues filed this month: {totals}"
    );
    // A screenshot for the README.
    let png = d.call("GET", "/screenshot", None).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("dashboard.png"), &png);
    if std::env::var("OBSERVER_DESK_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard.png"),
            &png,
        )
        .unwrap();
    }
    // Export: the CSV lands in the download folder, with its BOM and Chinese headers.
    d.click("#export").await;
    let started = Instant::now();
    let csv = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(downloads.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        if let Some(p) = done.first() {
            break std::fs::read(p).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no CSV downloaded"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.starts_with("单位编码,责任单位,收到问题数"), "{text}");
    assert_eq!(text.lines().count(), 10, "a header and nine departments");
    // English on the button, charts drawn again.
    d.click("#lang").await;
    let title = d
        .script("return document.querySelector('h1').textContent")
        .await;
    assert_eq!(
        title,
        "Business Environment Observers · Supervisor dashboard"
    );
    let legend = d
        .script("return document.querySelector('.legend [data-t=closure_rate]').textContent")
        .await;
    assert_eq!(legend, "Closure rate");
    d.call("DELETE", "", None).await;
}
