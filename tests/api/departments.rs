//! Departments: admins manage them, everyone signed in reads them, secrets stay inside.

use serde_json::json;

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    an_admin_creates_and_renames_a_department,
    only_admins_create_or_change_departments,
    a_department_code_is_unique,
    the_webhook_secret_never_leaves_and_the_url_only_to_supervisors,
    a_stale_department_if_match_is_refused,
);

async fn an_admin_creates_and_renames_a_department(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/departments",
            Some(&admin),
            json!({ "code": "fgj", "name": "县发展和改革局" }),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["code"], "FGJ");
    assert_eq!(body["name"], "县发展和改革局");
    let id = body["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/departments/{id}"),
            &admin,
            json!({ "name": "县发改局" }),
        )
        .await;
    assert_eq!(r.assert_status(200)["name"], "县发改局");
    let list = app.get("/api/v1/departments", &admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["next_cursor"], serde_json::Value::Null);
    app.get("/api/v1/departments/9999", &admin)
        .await
        .assert_problem(404, "not_found");
    app.patch("/api/v1/departments/9999", &admin, json!({ "name": "x" }))
        .await
        .assert_problem(404, "not_found");
}

async fn only_admins_create_or_change_departments(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let id = app.create_department(&admin, "AAA").await;
    let head = app
        .user_token(&admin, "head", "department_head", Some(id))
        .await;
    let sup = app.user_token(&admin, "sup", "supervisor", None).await;
    let obs = app.user_token(&admin, "obs", "observer", None).await;
    for token in [&head, &sup, &obs] {
        app.post(
            "/api/v1/departments",
            Some(token),
            json!({ "code": "BBB", "name": "b" }),
        )
        .await
        .assert_problem(403, "forbidden");
        app.patch(
            &format!("/api/v1/departments/{id}"),
            token,
            json!({ "name": "b" }),
        )
        .await
        .assert_problem(403, "forbidden");
        app.get(&format!("/api/v1/departments/{id}"), token)
            .await
            .assert_status(200);
    }
    assert_eq!(
        app.get(&format!("/api/v1/departments/{id}"), &admin)
            .await
            .body["name"],
        "AAA 局"
    );
    app.request("GET", "/api/v1/departments", None, None)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn a_department_code_is_unique(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    app.create_department(&admin, "AAA").await;
    let other = app.create_department(&admin, "BBB").await;
    app.post(
        "/api/v1/departments",
        Some(&admin),
        json!({ "code": "aaa", "name": "again" }),
    )
    .await
    .assert_problem(409, "department_code_taken");
    app.patch(
        &format!("/api/v1/departments/{other}"),
        &admin,
        json!({ "code": "AAA" }),
    )
    .await
    .assert_problem(409, "department_code_taken");
}

async fn the_webhook_secret_never_leaves_and_the_url_only_to_supervisors(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/departments",
            Some(&admin),
            json!({ "code": "ZJJ", "name": "住建局", "webhook_url": "https://bot.example.cn/hook?key=abc", "webhook_secret": "s3cret-s3cret-s3cret" }),
        )
        .await;
    let body = r.assert_status(201).clone();
    assert!(!r.text.contains("s3cret"));
    assert_eq!(body["webhook_secret_set"], true);
    assert_eq!(body["webhook_url"], "https://bot.example.cn/hook?key=abc");
    let id = body["id"].as_i64().unwrap();
    let staff = app
        .user_token(&admin, "staff", "department_staff", Some(id))
        .await;
    let seen = app.get(&format!("/api/v1/departments/{id}"), &staff).await;
    assert!(seen.body.get("webhook_url").is_none());
    assert!(!seen.text.contains("s3cret"));
    let bad = app.post("/api/v1/departments", Some(&admin), json!({ "code": "X1", "name": "x", "webhook_url": "ftp://x", "webhook_secret": "short" })).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2);
    let cleared = app
        .patch(
            &format!("/api/v1/departments/{id}"),
            &admin,
            json!({ "webhook_url": null, "webhook_secret": null }),
        )
        .await;
    assert_eq!(cleared.assert_status(200)["webhook_secret_set"], false);
}

async fn a_stale_department_if_match_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let id = app.create_department(&admin, "AAA").await;
    let path = format!("/api/v1/departments/{id}");
    let etag = app.get(&path, &admin).await.header("etag").unwrap();
    let body = || Some(("application/json", r#"{"name":"新名称"}"#.to_string()));
    app.send("PATCH", &path, Some(&admin), &[("If-Match", &etag)], body())
        .await
        .assert_status(200);
    app.send("PATCH", &path, Some(&admin), &[("If-Match", &etag)], body())
        .await
        .assert_problem(412, "precondition_failed");
    app.send(
        "PATCH",
        &path,
        Some(&admin),
        &[("If-Match", "\"garbage\"")],
        body(),
    )
    .await
    .assert_problem(412, "precondition_failed");
    app.send("PATCH", &path, Some(&admin), &[("If-Match", "*")], body())
        .await
        .assert_status(200);
}
