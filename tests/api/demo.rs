//! `--demo` loads a living county on an empty database, and only there.

use std::collections::BTreeSet;

use observer_desk::config::Secret;
use observer_desk::startup::Application;

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;

on_both_databases!(the_demo_county_is_loaded_once_with_issues_in_every_state);

const DEMO_PASSWORD: &str = "demo-password-for-tests";

async fn the_demo_county_is_loaded_once_with_issues_in_every_state(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.demo = true;
        s.demo_password = Some(Secret::new(DEMO_PASSWORD));
    })
    .await;
    let sup = app.token("supervisor01", DEMO_PASSWORD).await;
    let observers = app.get("/api/v1/users?role=observer&limit=200", &sup).await;
    let names: Vec<&str> = observers.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 25);
    assert_eq!(names.first(), Some(&"observer01"));
    assert_eq!(names.last(), Some(&"observer25"));
    let departments = app.get("/api/v1/departments", &sup).await;
    assert_eq!(departments.body["items"].as_array().unwrap().len(), 9);
    let projects = app.get("/api/v1/projects", &sup).await;
    let projects = projects.body["items"].as_array().unwrap().clone();
    assert_eq!(projects.len(), 12);
    assert!(
        projects
            .iter()
            .all(|p| p["observer_ids"].as_array().is_some_and(|o| !o.is_empty())),
        "every project is followed"
    );
    let signed: f64 = projects
        .iter()
        .filter(|p| p["code"].as_str().unwrap().starts_with("PL-2026"))
        .map(|p| p["investment_wan"].as_f64().unwrap())
        .sum();
    assert_eq!(
        signed, 737_700.0,
        "eleven signed projects worth 7,377 million yuan"
    );
    let milestones = app
        .get(
            &format!("/api/v1/projects/{}/milestones", projects[0]["id"]),
            &sup,
        )
        .await;
    assert!(milestones.body["items"].as_array().unwrap().len() >= 5);

    let issues = app.get("/api/v1/issues?limit=200", &sup).await;
    let issues = issues.body["items"].as_array().unwrap().clone();
    assert!(issues.len() >= 30, "a few dozen issues");
    let states: BTreeSet<&str> = issues
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    for s in [
        "unassigned",
        "assigned",
        "in_progress",
        "awaiting_info",
        "resolved",
        "closed",
        "withdrawn",
    ] {
        assert!(states.contains(s), "no demo issue is {s}");
    }
    // Timelines were written by the real workflow.
    let closed = issues.iter().find(|i| i["status"] == "closed").unwrap();
    let events = app
        .get(&format!("/api/v1/issues/{}/events", closed["id"]), &sup)
        .await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["filed", "routed", "acknowledge", "resolve", "confirm"]
    );

    // An observer sees a part of it, never all.
    let obs = app.token("observer01", DEMO_PASSWORD).await;
    let theirs = app.get("/api/v1/issues?limit=200", &obs).await;
    let n = theirs.body["items"].as_array().unwrap().len();
    assert!(
        n > 0 && n < issues.len(),
        "observer01 sees {n} of {}",
        issues.len()
    );
    // Clerks log in with the same password.
    app.token("xzsp.staff", DEMO_PASSWORD).await;
    app.token("gdgs.head", DEMO_PASSWORD).await;

    // Starting again with --demo on the same database loads nothing more.
    let mut settings = observer_desk::config::Settings::defaults(
        std::env::temp_dir().join(format!("od-demo-{}", std::process::id())),
    );
    settings.database_url = app.database_url().to_string();
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.jwt_secret = Some(Secret::new(crate::helpers::JWT_SECRET));
    settings.demo = true;
    settings.demo_password = Some(Secret::new(DEMO_PASSWORD));
    let again = Application::build(settings).await.unwrap();
    assert!(again.demo.is_none());
    let after = app.get("/api/v1/issues?limit=200", &sup).await;
    assert_eq!(after.body["items"].as_array().unwrap().len(), issues.len());
}
