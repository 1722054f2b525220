//! Bad input on every route answers a 4xx problem+json, never a 5xx or an HTML page, and
//! writes nothing.

use serde_json::json;

use crate::helpers::{Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    malformed_wrongly_typed_and_oversized_bodies_get_problem_json_on_every_write_route,
    bad_path_parameters_and_queries_get_problem_json,
    unknown_routes_and_methods_get_problem_json,
);

/// Every route that takes a JSON body, with a valid-looking body for it.
pub(crate) fn write_routes(
    dept: i64,
    user: i64,
    project: i64,
    milestone: i64,
    issue: i64,
) -> Vec<(&'static str, String, serde_json::Value)> {
    vec![
        (
            "POST",
            "/api/v1/projects".into(),
            json!({ "code": "P9", "name": "n", "observer_ids": [] }),
        ),
        (
            "PATCH",
            format!("/api/v1/projects/{project}"),
            json!({ "name": "n" }),
        ),
        (
            "POST",
            format!("/api/v1/projects/{project}/milestones"),
            json!({ "kind": "other", "title": "t" }),
        ),
        (
            "PATCH",
            format!("/api/v1/milestones/{milestone}"),
            json!({ "title": "t" }),
        ),
        (
            "POST",
            "/api/v1/routing-rules".into(),
            json!({ "category": "other", "department_id": dept }),
        ),
        (
            "POST",
            "/api/v1/issues".into(),
            json!({ "project_id": project, "category": "other", "title": "t", "description": "d" }),
        ),
        (
            "POST",
            format!("/api/v1/issues/{issue}/transitions"),
            json!({ "action": "chase", "comment": "c" }),
        ),
        (
            "POST",
            format!("/api/v1/issues/{issue}/comments"),
            json!({ "body": "b" }),
        ),
        (
            "POST",
            "/api/v1/auth/login".into(),
            json!({ "username": "admin", "password": "x" }),
        ),
        (
            "POST",
            "/api/v1/auth/refresh".into(),
            json!({ "refresh_token": "x" }),
        ),
        (
            "POST",
            "/api/v1/auth/logout".into(),
            json!({ "refresh_token": "x" }),
        ),
        (
            "POST",
            "/api/v1/me/password".into(),
            json!({ "current_password": "x", "new_password": "y" }),
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({ "username": "u", "password": "p", "display_name": "d", "role": "observer" }),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{user}"),
            json!({ "display_name": "d" }),
        ),
        (
            "POST",
            "/api/v1/departments".into(),
            json!({ "code": "C", "name": "n" }),
        ),
        (
            "PATCH",
            format!("/api/v1/departments/{dept}"),
            json!({ "name": "n" }),
        ),
    ]
}

async fn malformed_wrongly_typed_and_oversized_bodies_get_problem_json_on_every_write_route(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let dept = app.create_department(&admin, "AAA").await;
    let user = app.create_user(&admin, "obs", "observer", None).await;
    let obs = app.token("obs", crate::helpers::PASSWORD).await;
    let project = app
        .post("/api/v1/projects", Some(&admin), json!({ "code": "P1", "name": "p", "lead_department_id": dept, "observer_ids": [user] }))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let milestone = app
        .post(
            &format!("/api/v1/projects/{project}/milestones"),
            Some(&admin),
            json!({ "kind": "other", "title": "t" }),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let issue = app
        .post(
            "/api/v1/issues",
            Some(&obs),
            json!({ "project_id": project, "category": "other", "title": "t", "description": "d" }),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let snapshot = || async {
        let mut all = String::new();
        for path in [
            "/api/v1/users",
            "/api/v1/departments",
            "/api/v1/projects",
            "/api/v1/issues",
            "/api/v1/routing-rules",
        ] {
            let mut list = app.get(path, &admin).await.body.clone();
            // The sync watermark moves with the clock; the rows are what must not.
            list.as_object_mut().unwrap().remove("next_updated_since");
            all.push_str(&list.to_string());
        }
        all.push_str(
            &app.get(&format!("/api/v1/issues/{issue}/events"), &admin)
                .await
                .text,
        );
        all
    };
    let before = snapshot().await;
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    for (method, path, valid) in write_routes(dept, user, project, milestone, issue) {
        let send = |content_type: &'static str, raw: String| {
            let (method, path, admin) = (method, path.clone(), admin.clone());
            let app = &app;
            async move {
                app.send(method, &path, Some(&admin), &[], Some((content_type, raw)))
                    .await
            }
        };
        // Broken before any field is read: a syntax error, 400.
        for raw in ["{", "{,}", "", "nul", "{]", "\u{0}"] {
            send("application/json", raw.into())
                .await
                .assert_problem(400, "malformed_json");
        }
        send("text/plain", valid.to_string())
            .await
            .assert_problem(415, "unsupported_media_type");
        send("application/json", huge.clone())
            .await
            .assert_problem(413, "payload_too_large");

        // Each field in turn given the wrong type: a 422 that names it.
        for key in valid.as_object().unwrap().keys() {
            let mut wrong = valid.clone();
            wrong[key] = json!({ "nested": [1, 2, 3] });
            let r = send("application/json", wrong.to_string()).await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(
                r.body["errors"][0]["field"],
                key.as_str(),
                "{method} {path}: {}",
                r.text
            );
        }
        let mut extra = valid.clone();
        extra["surprise"] = json!(1);
        let r = send("application/json", extra.to_string()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["code"], "unknown_field");
        let r = send("application/json", "42".into()).await;
        r.assert_problem(422, "validation_failed");
    }
    // Unknown enum values name the field too.
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "username": "u", "password": "p", "display_name": "d", "role": "mayor" }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "role");
    assert_eq!(r.body["errors"][0]["code"], "unknown_value");
    // Nothing was written by any of it.
    assert_eq!(snapshot().await, before);
}

async fn bad_path_parameters_and_queries_get_problem_json(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    for path in [
        "/api/v1/calendar/abc",
        "/api/v1/users/abc",
        "/api/v1/users/99999999999999999999999",
        "/api/v1/departments/1.5",
        "/api/v1/departments/-",
    ] {
        app.get(path, &admin)
            .await
            .assert_problem(400, "invalid_path_parameter");
    }
    let r = app
        .send(
            "PATCH",
            "/api/v1/users/x",
            Some(&admin),
            &[],
            Some(("application/json", "{}".into())),
        )
        .await;
    assert!(r.status == 400, "{}", r.text);
    for query in [
        "limit=abc",
        "limit=-1",
        "limit=100000",
        "updated_since=yesterday",
        "department_id=x",
        "role=mayor",
    ] {
        app.get(&format!("/api/v1/users?{query}"), &admin)
            .await
            .assert_problem(400, "invalid_query");
    }
    app.get("/api/v1/departments?cursor=%%%", &admin)
        .await
        .assert_status(400);
    app.get("/api/v1/departments?cursor=abc", &admin)
        .await
        .assert_problem(400, "invalid_cursor");
}

async fn unknown_routes_and_methods_get_problem_json(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    app.get("/api/v1/nothing-here", &admin)
        .await
        .assert_problem(404, "route_not_found");
    app.get("/no-such-page", &admin)
        .await
        .assert_problem(404, "route_not_found");
    app.get("/app/no-such-module.js", &admin)
        .await
        .assert_problem(404, "not_found");
    app.request("DELETE", "/api/v1/me", Some(&admin), None)
        .await
        .assert_problem(405, "method_not_allowed");
    app.request("PUT", "/api/v1/users", Some(&admin), None)
        .await
        .assert_problem(405, "method_not_allowed");
}
