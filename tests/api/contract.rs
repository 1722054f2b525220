//! What the contract fuzzer (schemathesis, `.ci/contract`) found, each kept as a regression:
//! requests the schema allows are accepted, requests it forbids are refused with a 4xx, and
//! the order of checks is the request's form (422), then its conditions (412).

use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    integers_written_as_floats_are_the_integers_they_equal,
    cursors_are_decimal_ids_and_anything_else_is_refused,
    descriptions_and_comments_keep_their_line_breaks_and_refuse_other_controls,
    null_is_refused_where_the_schema_gives_a_field_one_type,
    an_array_is_not_an_object_body,
    logout_refuses_what_cannot_be_a_token_and_takes_a_null_push_token,
    a_malformed_step_is_refused_as_such_whatever_its_if_match,
    any_idempotency_key_up_to_255_bytes_is_a_key_and_an_empty_one_is_none,
    a_report_period_may_be_long_but_not_backwards,
);

async fn integers_written_as_floats_are_the_integers_they_equal(db: Db) {
    let c = County::new(db).await;
    let r = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p as f64, "category": "other", "title": "浮点", "description": "x" }),
        )
        .await;
    assert_eq!(r.assert_status(201)["project_id"], c.project_p);
    let r = c
        .app
        .request(
            "PUT",
            "/api/v1/sla-policies",
            Some(&c.sup),
            Some(&json!([{ "category": "other", "priority": "normal", "ack_minutes": 480.0, "resolve_minutes": 2400, "warn_percent": 80.0, "auto_close_days": 5.0 }])),
        )
        .await;
    r.assert_status(200);
    // A fraction is still no integer.
    c.file_as(
        &c.obs1,
        json!({ "project_id": c.project_p as f64 + 0.5, "category": "other", "title": "x", "description": "x" }),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn cursors_are_decimal_ids_and_anything_else_is_refused(db: Db) {
    let c = County::new(db).await;
    for i in 0..3 {
        c.file(&format!("page {i}")).await;
    }
    let first = c.app.get("/api/v1/issues?limit=2", &c.sup).await;
    let cursor = first.assert_status(200)["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(cursor.bytes().all(|b| b.is_ascii_digit()), "{cursor}");
    let second = c
        .app
        .get(&format!("/api/v1/issues?limit=2&cursor={cursor}"), &c.sup)
        .await;
    assert_eq!(
        second.assert_status(200)["items"].as_array().unwrap().len(),
        1
    );
    // Any number is a position, even one past every id.
    c.app
        .get("/api/v1/issues?cursor=999999999999999999", &c.sup)
        .await
        .assert_status(200);
    for bad in ["", "-1", "abc", "aWQ6NDE", "1234567890123456789"] {
        c.app
            .get(&format!("/api/v1/issues?cursor={bad}"), &c.sup)
            .await
            .assert_problem(400, "invalid_cursor");
    }
}

async fn descriptions_and_comments_keep_their_line_breaks_and_refuse_other_controls(db: Db) {
    let c = County::new(db).await;
    let text = "第一行：施工许可证迟迟未批\n第二行：\t已催办两次\r\n第三行";
    let r = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p, "category": "other", "title": "多行", "description": format!("  {text}\n") }),
        )
        .await;
    let issue = r.assert_status(201).clone();
    assert_eq!(issue["description"], text);
    let id = issue["id"].as_i64().unwrap();
    let comment = c
        .app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.obs1),
            json!({ "body": "补充：\n1. 现场照片\n2. 联系人" }),
        )
        .await;
    assert_eq!(
        comment.assert_status(201)["body"],
        "补充：\n1. 现场照片\n2. 联系人"
    );
    for (field, bad) in [
        ("description", "a\u{0}b"),
        ("description", "a\u{7}b"),
        ("title", "a\nb"),
        ("description", " \n\t "),
    ] {
        let mut body = json!({ "project_id": c.project_p, "category": "other", "title": "t", "description": "d" });
        body[field] = json!(bad);
        let r = c.file_as(&c.obs1, body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{bad:?}");
    }
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.obs1),
            json!({ "body": "nul\u{0}" }),
        )
        .await
        .assert_problem(422, "validation_failed");
    c.act(
        &c.staff_a,
        id,
        json!({ "action": "chase", "comment": "nul\u{0}" }),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn null_is_refused_where_the_schema_gives_a_field_one_type(db: Db) {
    let c = County::new(db).await;
    let r = c
        .app
        .post(
            "/api/v1/projects",
            Some(&c.admin),
            json!({ "code": "N-01", "name": "空值", "stage": null }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "stage");
    let r = c
        .app
        .patch(
            &format!("/api/v1/milestones/{}", c.milestone_m),
            &c.admin,
            json!({ "status": null }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = c
        .app
        .patch(
            &format!("/api/v1/users/{}", c.obs1_id),
            &c.admin,
            json!({ "display_name": null }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    // Where the schema does allow null, it clears.
    c.app
        .patch(
            &format!("/api/v1/milestones/{}", c.milestone_m),
            &c.admin,
            json!({ "planned_date": null }),
        )
        .await
        .assert_status(200);
}

async fn an_array_is_not_an_object_body(db: Db) {
    let c = County::new(db).await;
    for (method, path) in [
        ("PATCH", format!("/api/v1/departments/{}", c.dept_a)),
        ("POST", "/api/v1/issues".to_string()),
    ] {
        let r = c
            .app
            .request(method, &path, Some(&c.admin), Some(&json!([])))
            .await;
        r.assert_problem(422, "validation_failed");
    }
    c.app
        .request(
            "PUT",
            "/api/v1/sla-policies",
            Some(&c.sup),
            Some(&json!({})),
        )
        .await
        .assert_problem(422, "validation_failed");
}

async fn logout_refuses_what_cannot_be_a_token_and_takes_a_null_push_token(db: Db) {
    let c = County::new(db).await;
    let login = c.app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    let token = login.body["refresh_token"].as_str().unwrap();
    for bad in [
        json!({ "refresh_token": "" }),
        json!({ "refresh_token": "x".repeat(300) }),
        json!({ "refresh_token": null }),
        // Checked also when the token would come from a cookie session.
        json!({ "push_token": "a\u{1}b" }),
    ] {
        c.app
            .post("/api/v1/auth/logout", None, bad)
            .await
            .assert_problem(422, "validation_failed");
    }
    let r = c
        .app
        .post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": token, "push_token": null }),
        )
        .await;
    assert_eq!(r.status, 204);
}

async fn a_malformed_step_is_refused_as_such_whatever_its_if_match(db: Db) {
    let c = County::new(db).await;
    let id = c.file("preconditions").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let send = |if_match: &'static str, body: Value| {
        let c = &c;
        async move {
            c.app
                .send(
                    "POST",
                    &format!("/api/v1/issues/{id}/transitions"),
                    Some(&c.staff_a),
                    &[("If-Match", if_match)],
                    Some(("application/json", body.to_string())),
                )
                .await
        }
    };
    let too_long =
        json!({ "action": "request_extension", "comment": "需要时间", "extension_minutes": 43201 });
    for stale in ["\"v1\"", "garbage", "", "W/\"x\""] {
        send(stale, too_long.clone())
            .await
            .assert_problem(422, "validation_failed");
        send(stale, json!({ "action": "chase" }))
            .await
            .assert_problem(412, "precondition_failed");
    }
}

async fn any_idempotency_key_up_to_255_bytes_is_a_key_and_an_empty_one_is_none(db: Db) {
    let c = County::new(db).await;
    let id = c.file("keys").await;
    let comment = |key: Vec<u8>| {
        let c = &c;
        async move {
            let mut req = c
                .app
                .client
                .post(format!("{}/api/v1/issues/{id}/comments", c.app.address))
                .insert_header(("Authorization", format!("Bearer {}", c.obs1)))
                .insert_header(("Content-Type", "application/json"));
            req = req.insert_header((
                "Idempotency-Key",
                awc::http::header::HeaderValue::from_bytes(&key).unwrap(),
            ));
            let mut res = req.send_body(r#"{"body":"同一条"}"#).await.unwrap();
            let body: Value =
                serde_json::from_slice(&res.body().await.unwrap()).unwrap_or_default();
            (
                res.status().as_u16(),
                res.headers().contains_key("idempotent-replayed"),
                body,
            )
        }
    };
    // A key with bytes outside ASCII is still a key: the retry is a replay.
    let latin1 = b"cl\xe9-\xe0-1".to_vec();
    let (s1, replayed1, first) = comment(latin1.clone()).await;
    let (s2, replayed2, again) = comment(latin1).await;
    assert_eq!((s1, replayed1, s2, replayed2), (201, false, 201, true));
    assert_eq!(first["id"], again["id"]);
    // An empty key is no key: each request stands alone.
    let (a, _, one) = comment(Vec::new()).await;
    let (b, replayed, two) = comment(Vec::new()).await;
    assert_eq!((a, b, replayed), (201, 201, false));
    assert_ne!(one["id"], two["id"]);
    let (status, _, body) = comment(vec![b'k'; 256]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_header"))
    );
}

async fn a_report_period_may_be_long_but_not_backwards(db: Db) {
    let c = County::new(db).await;
    c.file("in the period").await;
    let long = c
        .app
        .get(
            "/api/v1/reports/departments?from=0150-06-19&to=7589-01-23",
            &c.sup,
        )
        .await;
    let rows = long.assert_status(200)["items"].as_array().unwrap().clone();
    assert!(rows.iter().any(|r| r["received"] == 1), "{rows:?}");
    c.app
        .get(
            "/api/v1/reports/departments?from=2026-02-01&to=2026-01-01",
            &c.sup,
        )
        .await
        .assert_problem(400, "invalid_query");
}
