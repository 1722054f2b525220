//! Users: who may create, read, list and change them.

use serde_json::json;

use crate::helpers::{Db, PASSWORD, TestApp};
use crate::on_both_databases;

on_both_databases!(
    an_admin_creates_a_user_who_can_then_log_in,
    an_observer_cannot_create_a_user,
    only_admins_supervisors_and_heads_list_users,
    a_user_reads_themselves_but_not_a_stranger,
    a_taken_username_is_a_conflict,
    department_roles_need_an_existing_department,
    weak_passwords_and_bad_fields_are_named,
    the_last_admin_cannot_be_demoted_or_deactivated,
    two_concurrent_demotions_leave_one_admin,
    a_user_edits_their_own_profile_but_not_their_role,
    a_stale_if_match_is_refused,
    lists_page_with_a_cursor_and_filter_by_updated_since,
);

async fn an_admin_creates_a_user_who_can_then_log_in(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let dept = app.create_department(&admin, "FGJ").await;
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({
                "username": "Li.Ming",
                "password": PASSWORD,
                "display_name": "李明",
                "role": "department_staff",
                "department_id": dept,
                "email": "liming@pinglu.gov.cn",
                "locale": "en",
            }),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["username"], "li.ming");
    assert_eq!(body["display_name"], "李明");
    assert_eq!(body["department_id"], dept);
    assert_eq!(body["locale"], "en");
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/users/{}", body["id"]))
    );
    let token = app.token("li.ming", PASSWORD).await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.assert_status(200)["email"], "liming@pinglu.gov.cn");
}

async fn an_observer_cannot_create_a_user(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let dept = app.create_department(&admin, "ZRZY").await;
    for (name, role, d) in [
        ("obs", "observer", None),
        ("staff", "department_staff", Some(dept)),
        ("sup", "supervisor", None),
    ] {
        let token = app.user_token(&admin, name, role, d).await;
        let r = app
            .post(
                "/api/v1/users",
                Some(&token),
                json!({ "username": "sneaky", "password": PASSWORD, "display_name": "x", "role": "admin" }),
            )
            .await;
        r.assert_problem(403, "forbidden");
    }
    // Nothing was written.
    let list = app.get("/api/v1/users?limit=200", &admin).await;
    assert!(
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["username"] != "sneaky")
    );
}

async fn only_admins_supervisors_and_heads_list_users(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let a = app.create_department(&admin, "AAA").await;
    let b = app.create_department(&admin, "BBB").await;
    app.create_user(&admin, "staff-a", "department_staff", Some(a))
        .await;
    app.create_user(&admin, "staff-b", "department_staff", Some(b))
        .await;
    let head = app
        .user_token(&admin, "head-a", "department_head", Some(a))
        .await;
    let sup = app.user_token(&admin, "sup", "supervisor", None).await;
    let obs = app.user_token(&admin, "obs", "observer", None).await;
    let staff = app.token("staff-a", PASSWORD).await;

    let names = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    let all = app.get("/api/v1/users", &sup).await;
    assert_eq!(names(&all).len(), 6);
    let mine = app.get("/api/v1/users", &head).await;
    let mut mine = names(&mine);
    mine.sort();
    assert_eq!(mine, vec!["head-a", "staff-a"]);
    app.get(&format!("/api/v1/users?department_id={b}"), &head)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/users", &obs)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/users", &staff)
        .await
        .assert_problem(403, "forbidden");
    let observers = app.get("/api/v1/users?role=observer", &admin).await;
    assert_eq!(names(&observers), vec!["obs"]);
}

async fn a_user_reads_themselves_but_not_a_stranger(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let a = app.create_department(&admin, "AAA").await;
    let obs1 = app.create_user(&admin, "obs1", "observer", None).await;
    let obs2 = app.create_user(&admin, "obs2", "observer", None).await;
    let staff = app
        .create_user(&admin, "staff", "department_staff", Some(a))
        .await;
    let t1 = app.token("obs1", PASSWORD).await;
    app.get(&format!("/api/v1/users/{obs1}"), &t1)
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/users/{obs2}"), &t1)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/users/{staff}"), &t1)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/users/999999", &admin)
        .await
        .assert_problem(404, "not_found");
    let head = app
        .user_token(&admin, "head", "department_head", Some(a))
        .await;
    app.get(&format!("/api/v1/users/{staff}"), &head)
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/users/{obs1}"), &head)
        .await
        .assert_problem(404, "not_found");
}

async fn a_taken_username_is_a_conflict(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "wang", "observer", None).await;
    let r = app
        .post("/api/v1/users", Some(&admin), json!({ "username": "WANG", "password": PASSWORD, "display_name": "王", "role": "observer" }))
        .await;
    r.assert_problem(409, "username_taken");
}

async fn department_roles_need_an_existing_department(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let body = |role: &str, dept: Option<i64>| json!({ "username": "someone", "password": PASSWORD, "display_name": "x", "role": role, "department_id": dept });
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            body("department_staff", None),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "department_id");
    assert_eq!(r.body["errors"][0]["code"], "required");
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            body("department_head", Some(424242)),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "unknown");
    let dept = app.create_department(&admin, "AAA").await;
    let r = app
        .post("/api/v1/users", Some(&admin), body("observer", Some(dept)))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "not_allowed");
}

async fn weak_passwords_and_bad_fields_are_named(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "username": "x", "password": "short", "display_name": " ", "role": "observer", "email": "not-an-email", "locale": "fr" }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let mut fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec!["display_name", "email", "locale", "password", "username"]
    );
}

async fn the_last_admin_cannot_be_demoted_or_deactivated(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/me", &admin).await.body["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/users/{me}");
    app.patch(&path, &admin, json!({ "role": "supervisor" }))
        .await
        .assert_problem(409, "last_admin");
    app.patch(&path, &admin, json!({ "active": false }))
        .await
        .assert_problem(409, "last_admin");
    app.get("/api/v1/me", &admin).await.assert_status(200);
    // With a second admin, the first may step down.
    app.create_user(&admin, "admin2", "admin", None).await;
    let r = app
        .patch(&path, &admin, json!({ "role": "supervisor" }))
        .await;
    assert_eq!(r.assert_status(200)["role"], "supervisor");
    let admin2 = app.token("admin2", PASSWORD).await;
    let id2 = app.get("/api/v1/me", &admin2).await.body["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v1/users/{id2}"),
        &admin2,
        json!({ "active": false }),
    )
    .await
    .assert_problem(409, "last_admin");
}

async fn two_concurrent_demotions_leave_one_admin(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let first = app.get("/api/v1/me", &admin).await.body["id"]
        .as_i64()
        .unwrap();
    let second = app.create_user(&admin, "admin2", "admin", None).await;
    for round in 0..4 {
        let (token_a, token_b) = (app.admin_token().await, app.token("admin2", PASSWORD).await);
        // Each admin deactivates the other at the same moment.
        let (path_a, path_b) = (
            format!("/api/v1/users/{second}"),
            format!("/api/v1/users/{first}"),
        );
        let (a, b) = tokio::join!(
            app.patch(&path_a, &token_a, json!({ "active": false })),
            app.patch(&path_b, &token_b, json!({ "active": false })),
        );
        let winners = [a.status, b.status].iter().filter(|s| **s == 200).count();
        assert_eq!(winners, 1, "round {round}: {} / {}", a.text, b.text);
        let (winner_token, loser, deactivated) = if a.status == 200 {
            (&token_a, &b, second)
        } else {
            (&token_b, &a, first)
        };
        // The loser was refused either by the last-admin rule or, if its request was
        // authenticated after the winner committed, because it is no longer active.
        assert!(
            loser.body["code"] == "last_admin" || loser.body["code"] == "invalid_token",
            "round {round}: {}",
            loser.text
        );
        let admins = app.get("/api/v1/users?role=admin", winner_token).await;
        let active = admins.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["active"] == true)
            .count();
        assert_eq!(active, 1, "round {round}");
        app.patch(
            &format!("/api/v1/users/{deactivated}"),
            winner_token,
            json!({ "active": true }),
        )
        .await
        .assert_status(200);
    }
}

async fn a_user_edits_their_own_profile_but_not_their_role(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "obs", "observer", None).await;
    let other = app.create_user(&admin, "obs2", "observer", None).await;
    let token = app.token("obs", PASSWORD).await;
    let path = format!("/api/v1/users/{id}");
    let r = app
        .patch(
            &path,
            &token,
            json!({ "display_name": "赵观察", "email": "zhao@example.cn", "locale": "en" }),
        )
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["display_name"], "赵观察");
    assert_eq!(body["locale"], "en");
    app.patch(&path, &token, json!({ "role": "admin" }))
        .await
        .assert_problem(403, "forbidden");
    app.patch(&path, &token, json!({ "active": false }))
        .await
        .assert_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/users/{other}"),
        &token,
        json!({ "display_name": "x" }),
    )
    .await
    .assert_problem(404, "not_found");
    // Clearing the email with an explicit null.
    let r = app.patch(&path, &token, json!({ "email": null })).await;
    assert_eq!(r.assert_status(200)["email"], serde_json::Value::Null);
    assert_eq!(app.get("/api/v1/me", &token).await.body["role"], "observer");
}

async fn a_stale_if_match_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "obs", "observer", None).await;
    let path = format!("/api/v1/users/{id}");
    let etag = app.get(&path, &admin).await.header("etag").unwrap();
    let r = app
        .send(
            "PATCH",
            &path,
            Some(&admin),
            &[("If-Match", &etag)],
            Some(("application/json", r#"{"display_name":"一"}"#.into())),
        )
        .await;
    r.assert_status(200);
    let new_etag = r.header("etag").unwrap();
    assert_ne!(etag, new_etag);
    let stale = app
        .send(
            "PATCH",
            &path,
            Some(&admin),
            &[("If-Match", &etag)],
            Some(("application/json", r#"{"display_name":"二"}"#.into())),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(app.get(&path, &admin).await.body["display_name"], "一");
}

async fn lists_page_with_a_cursor_and_filter_by_updated_since(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_user(&admin, &format!("user{i}"), "observer", None)
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=2&cursor={c}"),
            None => "/api/v1/users?limit=2".to_string(),
        };
        let page = app.get(&path, &admin).await;
        let body = page.assert_status(200);
        for u in body["items"].as_array().unwrap() {
            seen.push(u["username"].as_str().unwrap().to_string());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["admin", "user0", "user1", "user2", "user3"]);

    let since = app.get("/api/v1/users?role=observer", &admin).await.body["items"][3]["updated_at"]
        .as_str()
        .unwrap()
        .to_string();
    let since = since.replace('+', "%2B");
    let r = app
        .get(&format!("/api/v1/users?updated_since={since}"), &admin)
        .await;
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["user3"]);
    app.get("/api/v1/users?cursor=bogus", &admin)
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/api/v1/users?limit=0", &admin)
        .await
        .assert_problem(400, "invalid_query");
}
