//! The stand-alone dashboard (`/dashboard`) in headless Chromium: a supervisor of the demo
//! county signs in, sees the charts drawn, downloads the CSV, switches to English.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use observer_desk::config::Secret;
use serde_json::json;

use crate::browser::{Driver, browser};
use crate::helpers::{Db, TestApp};
use crate::on_both_databases;

on_both_databases!(a_supervisor_sees_the_charts_downloads_the_csv_and_switches_to_english);

pub(crate) const DEMO_PASSWORD: &str = "demo-password-for-tests";
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
    d.screenshot("dashboard.png").await;
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
    d.quit().await;
}
