//! The web app on a desktop: how long headless Chromium takes to draw an observer's list of
//! 50 issues, and how many bytes the app shell costs on a first visit. Needs Debian's
//! `chromium` and `chromium-driver`. Run:
//!
//!     cargo bench --bench app_render
//!
//! The service runs in this process on a throw-away SQLite file; the browser is driven
//! through chromedriver with `fantoccini`. Figures go to stdout; benches/README.md keeps
//! the measured ones.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{ClientBuilder, Locator};
use observer_desk::config::{Secret, Settings};
use observer_desk::startup::Application;
use serde_json::{Value, json};

const PASSWORD: &str = "bench-password-long";
const ISSUES: usize = 50;
const RUNS: usize = 40;

type Error = Box<dyn std::error::Error>;

async fn call(
    client: &awc::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, Error> {
    let mut req = client.post(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut res = req.send_json(&body).await.map_err(|e| e.to_string())?;
    let v: Value = res.json().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("{path}: {v}").into());
    }
    Ok(v)
}

/// Median and 90th percentile of a series of milliseconds.
fn summary(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() * 9 / 10])
}

#[actix_web::main]
async fn main() -> Result<(), Error> {
    let (driver, chromium) = ("/usr/bin/chromedriver", "/usr/bin/chromium");
    if !std::path::Path::new(driver).exists() || !std::path::Path::new(chromium).exists() {
        eprintln!("app_render needs Debian's chromium and chromium-driver");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::defaults(dir.path().join("data"));
    settings.database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    settings.bind = "127.0.0.1:0".parse()?;
    settings.admin_password = Some(Secret::new("bench-admin-password"));
    settings.jwt_secret = Some(Secret::new("bench-jwt-secret-of-enough-length-0123456789"));
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());

    // A department, an observer following a project, and 50 issues filed by them.
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let login = |u: &'static str, p: &'static str| {
        let (client, base) = (&client, &base);
        async move {
            let v = call(
                client,
                base,
                "/api/v1/auth/login",
                None,
                json!({ "username": u, "password": p }),
            )
            .await?;
            Ok::<String, Error>(v["access_token"].as_str().unwrap_or_default().to_string())
        }
    };
    let admin = login("admin", "bench-admin-password").await?;
    let dept = call(
        &client,
        &base,
        "/api/v1/departments",
        Some(&admin),
        json!({ "code": "GXJ", "name": "县工信局" }),
    )
    .await?;
    let observer = call(&client, &base, "/api/v1/users", Some(&admin),
        json!({ "username": "observer", "password": PASSWORD, "display_name": "观察员", "role": "observer" })).await?;
    let project = call(&client, &base, "/api/v1/projects", Some(&admin),
        json!({ "code": "P-01", "name": "铝精深加工项目", "lead_department_id": dept["id"], "observer_ids": [observer["id"]] })).await?;
    let token = login("observer", PASSWORD).await?;
    for n in 0..ISSUES {
        call(&client, &base, "/api/v1/issues", Some(&token), json!({
            "project_id": project["id"], "category": "approval_delay", "priority": if n % 5 == 0 { "urgent" } else { "normal" },
            "title": format!("第 {n} 个问题：施工许可审批超过承诺时限"), "description": "已催办两次，仍未答复",
        })).await?;
    }

    // The shell's bytes on a first visit, gzip as the browser asks for it.
    let sw = client
        .get(format!("{base}/sw.js"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .body()
        .await?;
    let sw = String::from_utf8_lossy(&sw).to_string();
    let list = &sw[sw.find("FILES = [").ok_or("no FILES in sw.js")?..];
    let list = &list[..list.find("];").ok_or("no end of FILES")?];
    let (mut raw, mut gzip) = (0usize, 0usize);
    for path in list.split('"').skip(1).step_by(2).chain(["/sw.js"]) {
        let plain = client
            .get(format!("{base}{path}"))
            .insert_header(("Accept-Encoding", "identity"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .body()
            .limit(1 << 22)
            .await?;
        let packed = client
            .get(format!("{base}{path}"))
            .insert_header(("Accept-Encoding", "gzip"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .body()
            .limit(1 << 22)
            .await?;
        raw += plain.len();
        gzip += packed.len();
    }
    println!("app shell: {raw} bytes, {gzip} bytes gzip (budget 153600)");

    // The browser, signed in as the observer.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut chromedriver = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut caps = Capabilities::new();
    caps.insert("goog:chromeOptions".into(), json!({
        "binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"],
    }));
    let started = Instant::now();
    let browser = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if started.elapsed() > Duration::from_secs(20) => return Err(e.into()),
            Err(_) => actix_web::rt::time::sleep(Duration::from_millis(100)).await,
        }
    };
    browser.goto(&format!("{base}/")).await?;
    browser
        .wait()
        .for_element(Locator::Id("username"))
        .await?
        .send_keys("observer")
        .await?;
    browser
        .find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    browser.find(Locator::Id("signin")).await?.click().await?;
    browser
        .wait()
        .for_element(Locator::Css("#issue-list li"))
        .await?;

    // Each run: the list built from the API's answer and laid out (style and layout forced;
    // paint follows in the next frame). "screen" includes asking the API for the 50.
    let measured = browser.execute_async(&format!(r##"
        const done = arguments[arguments.length - 1];
        (async () => {{
          const api = await import("/app/api.js");
          const {{ myIssues, issueRow, byDeadline }} = await import("/app/screens/issues.js");
          const view = document.getElementById("view");
          const user = {{ role: "observer", id: 0 }};
          const page = await api.get("/api/v1/issues?limit=50");
          const render = [], screen = [];
          for (let i = 0; i < {RUNS}; i++) {{
            let t0 = performance.now();
            view.replaceChildren(Object.assign(document.createElement("ul"), {{ className: "issues" }}));
            view.firstChild.append(...byDeadline(page.items).map(issueRow));
            void view.offsetHeight;
            render.push(performance.now() - t0);
            t0 = performance.now();
            view.replaceChildren(await myIssues(user));
            void view.offsetHeight;
            screen.push(performance.now() - t0);
          }}
          done({{ rows: view.querySelectorAll("#issue-list li").length, render, screen }});
        }})().catch((e) => done({{ error: String(e) }}));
    "##), vec![]).await?;
    if let Some(e) = measured.get("error") {
        return Err(format!("in the page: {e}").into());
    }
    let series = |k: &str| -> Vec<f64> {
        measured[k]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (render, screen) = (summary(series("render")), summary(series("screen")));
    println!("rows drawn: {}", measured["rows"]);
    println!(
        "50 issues, list built and laid out: median {:.1} ms, p90 {:.1} ms ({RUNS} runs)",
        render.0, render.1
    );
    println!(
        "50 issues, screen (API answer + list): median {:.1} ms, p90 {:.1} ms ({RUNS} runs)",
        screen.0, screen.1
    );
    let _ = browser.close().await;
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
    handle.stop(true).await;
    Ok(())
}
