//! A phone on one bar of signal: retried writes with `Idempotency-Key`, delta sync with
//! `updated_since`, and `ETag` / `If-None-Match` / `If-Match`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::{Db, Resp};
use crate::on_both_databases;

on_both_databases!(
    a_retried_filing_comment_and_step_return_the_first_answer_and_happen_once,
    the_same_key_sent_at_the_same_moment_files_one_issue,
    a_key_reused_with_another_body_is_refused_and_keys_belong_to_their_user,
    a_key_is_forgotten_after_its_retention,
    delta_sync_under_concurrent_writes_loses_and_repeats_nothing,
    issues_that_leave_or_enter_the_view_are_announced_to_the_phone,
    comments_and_notifications_sync_by_updated_since,
    an_unchanged_object_answers_304_and_a_stale_if_match_412,
);

async fn with_key(c: &County, token: &str, path: &str, key: &str, body: Value) -> Resp {
    c.app
        .send(
            "POST",
            path,
            Some(token),
            &[("Idempotency-Key", key)],
            Some(("application/json", body.to_string())),
        )
        .await
}

fn filing(c: &County, title: &str) -> Value {
    json!({ "project_id": c.project_p, "category": "utility_supply", "title": title, "description": "停电三天" })
}

async fn count_issues(c: &County) -> usize {
    c.app
        .get("/api/v1/issues?limit=200", &c.sup)
        .await
        .assert_status(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn a_retried_filing_comment_and_step_return_the_first_answer_and_happen_once(db: Db) {
    let c = County::new(db).await;
    let first = with_key(&c, &c.obs1, "/api/v1/issues", "file-1", filing(&c, "断电")).await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    // The phone never heard the answer and sends the same request again, with other spacing.
    let raw = serde_json::to_string_pretty(&filing(&c, "断电")).unwrap();
    let again = c
        .app
        .send(
            "POST",
            "/api/v1/issues",
            Some(&c.obs1),
            &[("Idempotency-Key", "file-1")],
            Some(("application/json", raw)),
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.text, first.text, "the same body, the same id");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(count_issues(&c).await, 1);
    let id = first.body["id"].as_i64().unwrap();

    let path = format!("/api/v1/issues/{id}/comments");
    let body = json!({ "body": "补充：现场照片稍后上传" });
    let a = with_key(&c, &c.obs1, &path, "comment-1", body.clone()).await;
    let b = with_key(&c, &c.obs1, &path, "comment-1", body).await;
    a.assert_status(201);
    assert_eq!((b.status, &b.text), (201, &a.text));
    let comments = c.app.get(&path, &c.obs1).await;
    assert_eq!(comments.body["items"].as_array().unwrap().len(), 1);

    let path = format!("/api/v1/issues/{id}/transitions");
    let step = json!({ "action": "acknowledge", "comment": "已收到" });
    let a = with_key(&c, &c.staff_a, &path, "ack-1", step.clone()).await;
    let b = with_key(&c, &c.staff_a, &path, "ack-1", step).await;
    a.assert_status(200);
    assert_eq!(
        (b.status, &b.text),
        (200, &a.text),
        "not 409: it is a replay"
    );
    let kinds = c.event_kinds(&c.sup, id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "acknowledge").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "comment").count(), 1);

    // A refused request is not remembered: fixed, it may be sent again with its key.
    let bad = with_key(
        &c,
        &c.obs1,
        "/api/v1/issues",
        "file-2",
        json!({ "project_id": c.project_p }),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    let good = with_key(
        &c,
        &c.obs1,
        "/api/v1/issues",
        "file-2",
        filing(&c, "又断电"),
    )
    .await;
    good.assert_status(201);
    // A key that is no key is a clear 400.
    let long = "k".repeat(300);
    with_key(&c, &c.obs1, "/api/v1/issues", &long, filing(&c, "x"))
        .await
        .assert_problem(400, "invalid_header");
}

async fn the_same_key_sent_at_the_same_moment_files_one_issue(db: Db) {
    let c = County::new(db).await;
    for round in 0..3 {
        let key = format!("storm-{round}");
        let tries = (0..8).map(|_| with_key(&c, &c.obs1, "/api/v1/issues", &key, filing(&c, &key)));
        let answers = futures_util::future::join_all(tries).await;
        let ids: BTreeSet<i64> = answers
            .iter()
            .map(|r| r.assert_status(201)["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
        let replays = answers
            .iter()
            .filter(|r| r.header("idempotent-replayed").is_some())
            .count();
        assert_eq!(replays, 7, "round {round}");
    }
    assert_eq!(count_issues(&c).await, 3);
}

async fn a_key_reused_with_another_body_is_refused_and_keys_belong_to_their_user(db: Db) {
    let c = County::new(db).await;
    with_key(&c, &c.obs1, "/api/v1/issues", "k", filing(&c, "一"))
        .await
        .assert_status(201);
    let other = with_key(&c, &c.obs1, "/api/v1/issues", "k", filing(&c, "二")).await;
    other.assert_problem(422, "idempotency_key_reused");
    // The same key on another route is another request too.
    let id = c.file("for a comment").await;
    with_key(
        &c,
        &c.obs1,
        &format!("/api/v1/issues/{id}/comments"),
        "k",
        json!({ "body": "x" }),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    // Another observer's "k" is theirs alone.
    let theirs = with_key(&c, &c.obs2, "/api/v1/issues", "k", filing(&c, "二")).await;
    theirs.assert_status(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_eq!(count_issues(&c).await, 3);
}

async fn a_key_is_forgotten_after_its_retention(db: Db) {
    let c = County::new_with(db, |s| {
        s.idempotency_ttl = Duration::from_secs(1);
        s.sla_tick = Duration::from_millis(100);
    })
    .await;
    let first = with_key(&c, &c.obs1, "/api/v1/issues", "old", filing(&c, "t")).await;
    let soon = with_key(&c, &c.obs1, "/api/v1/issues", "old", filing(&c, "t")).await;
    assert_eq!(soon.body["id"], first.body["id"]);
    actix_web::rt::time::sleep(Duration::from_millis(1600)).await;
    // The worker has purged it from the database, not only stopped honouring it.
    let url = c.app.database_url().to_string();
    let db = actix_web::rt::task::spawn_blocking(move || {
        observer_desk::db::Db::connect(&url, 1).unwrap()
    })
    .await
    .unwrap();
    let kept: i64 = db
        .read(|conn| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let n: N =
                diesel::sql_query("SELECT COUNT(*) AS n FROM idempotency_keys").get_result(conn)?;
            Ok(n.n)
        })
        .await
        .unwrap();
    assert_eq!(kept, 0, "keys past their retention are deleted");
    let late = with_key(
        &c,
        &c.obs1,
        "/api/v1/issues",
        "old",
        filing(&c, "other body"),
    )
    .await;
    late.assert_status(201);
    assert_ne!(late.body["id"], first.body["id"], "the key was free again");
    assert_eq!(count_issues(&c).await, 2);
}

/// One sync pass as a phone runs it: every page of `updated_since`, merged into `local`.
/// Returns the `next_updated_since` to use next time.
async fn sync_pass(
    c: &County,
    token: &str,
    since: Option<&str>,
    local: &mut BTreeMap<i64, (String, String)>,
) -> String {
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut next_since = None;
    loop {
        let mut q = String::from("/api/v1/issues?limit=4");
        if let Some(s) = since {
            q.push_str(&format!("&updated_since={}", s.replace('+', "%2B")));
        }
        if let Some(cur) = &cursor {
            q.push_str(&format!("&cursor={cur}"));
        }
        let page = c.app.get(&q, token).await;
        let body = page.assert_status(200);
        if next_since.is_none() {
            next_since = Some(body["next_updated_since"].as_str().unwrap().to_string());
        }
        for i in body["items"].as_array().unwrap() {
            let id = i["id"].as_i64().unwrap();
            assert!(seen.insert(id), "issue {id} came twice in one pass");
            local.insert(
                id,
                (
                    i["status"].as_str().unwrap().to_string(),
                    i["updated_at"].as_str().unwrap().to_string(),
                ),
            );
        }
        match body["next_cursor"].as_str() {
            Some(cur) => cursor = Some(cur.to_string()),
            None => break,
        }
    }
    next_since.unwrap()
}

async fn delta_sync_under_concurrent_writes_loses_and_repeats_nothing(db: Db) {
    let c = County::new(db).await;
    for i in 0..6 {
        c.file(&format!("before {i}")).await;
    }
    let writes = async {
        for i in 0..24 {
            let id = c.file(&format!("during {i}")).await;
            if i % 3 == 0 {
                c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
                    .await;
            }
            if i % 4 == 0 && id > 2 {
                // An older issue changes while the phone pages past it.
                c.step(&c.sup, id - 2, json!({ "action": "chase" })).await;
            }
        }
    };
    let syncs = async {
        let mut local = BTreeMap::new();
        let mut since = sync_pass(&c, &c.obs1, None, &mut local).await;
        for _ in 0..10 {
            since = sync_pass(&c, &c.obs1, Some(&since), &mut local).await;
        }
        (local, since)
    };
    let ((), (mut local, since)) = tokio::join!(writes, syncs);
    // Writes have stopped: one more sync, and the phone holds exactly the server's state.
    sync_pass(&c, &c.obs1, Some(&since), &mut local).await;
    let mut server = BTreeMap::new();
    sync_pass(&c, &c.obs1, None, &mut server).await;
    assert_eq!(server.len(), 30);
    assert_eq!(local, server);
}

async fn issues_that_leave_or_enter_the_view_are_announced_to_the_phone(db: Db) {
    let c = County::new(db).await;
    let theirs = c.file("filed by obs1, seen by obs2 as a follower").await;
    let mut local = BTreeMap::new();
    let since = sync_pass(&c, &c.obs2, None, &mut local).await;
    assert!(local.contains_key(&theirs));
    // obs2 stops following project P.
    c.app
        .patch(
            &format!("/api/v1/projects/{}", c.project_p),
            &c.sup,
            json!({ "observer_ids": [c.obs1_id] }),
        )
        .await
        .assert_status(200);
    let q = |s: &str| format!("/api/v1/issues?updated_since={}", s.replace('+', "%2B"));
    let r = c.app.get(&q(&since), &c.obs2).await;
    let body = r.assert_status(200);
    crate::openapi::assert_matches_schema(&crate::openapi::spec(), "IssuePage", body);
    assert_eq!(body["removed_ids"], json!([theirs]));
    assert_eq!(body["resync"], json!(false));
    assert!(body["items"].as_array().unwrap().is_empty());
    c.app
        .get(&format!("/api/v1/issues/{theirs}"), &c.obs2)
        .await
        .assert_problem(404, "not_found");
    // Following again brings it back, though the issue itself did not change.
    let since = body["next_updated_since"].as_str().unwrap().to_string();
    c.app
        .patch(
            &format!("/api/v1/projects/{}", c.project_p),
            &c.sup,
            json!({ "observer_ids": [c.obs1_id, c.obs2_id] }),
        )
        .await
        .assert_status(200);
    let body = c.app.get(&q(&since), &c.obs2).await.body.clone();
    let ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![theirs]);
    assert_eq!(body["removed_ids"], json!([]));
    // A user whose role or department changes is told to sync afresh.
    let staff = c.app.get("/api/v1/users?limit=200", &c.admin).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "staff-b")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let before = c.app.get("/api/v1/issues", &c.staff_b).await.body["next_updated_since"]
        .as_str()
        .unwrap()
        .to_string();
    c.app
        .patch(
            &format!("/api/v1/users/{staff}"),
            &c.admin,
            json!({ "department_id": c.dept_a }),
        )
        .await
        .assert_status(200);
    let body = c.app.get(&q(&before), &c.staff_b).await.body.clone();
    assert_eq!(body["resync"], json!(true));
    // Without updated_since there is nothing to announce.
    let plain = c.app.get("/api/v1/issues", &c.obs2).await.body.clone();
    assert!(plain.get("removed_ids").is_none());
}

async fn comments_and_notifications_sync_by_updated_since(db: Db) {
    let c = County::new(db).await;
    let id = c.file("comments").await;
    let path = format!("/api/v1/issues/{id}/comments");
    for i in 0..3 {
        c.app
            .post(&path, Some(&c.obs1), json!({ "body": format!("旧 {i}") }))
            .await
            .assert_status(201);
    }
    let listed = c.app.get(&path, &c.obs1).await.body.clone();
    let spec = crate::openapi::spec();
    crate::openapi::assert_matches_schema(&spec, "CommentList", &listed);
    crate::openapi::assert_matches_schema(&spec, "Comment", &listed["items"][0]);
    assert!(listed["next_updated_since"].is_string());
    let fresh = just_after(listed["items"][2]["updated_at"].as_str().unwrap());
    let newer = c
        .app
        .post(&path, Some(&c.staff_a), json!({ "body": "新" }))
        .await;
    newer.assert_status(201);
    let q = |s: &str| format!("{path}?updated_since={}", s.replace('+', "%2B"));
    let got = c.app.get(&q(&fresh), &c.obs1).await;
    let bodies: Vec<&str> = got.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["新"]);
    // Paging: oldest first, two at a time, nothing lost.
    let p1 = c
        .app
        .get(&format!("{path}?limit=2"), &c.obs1)
        .await
        .body
        .clone();
    let cur = p1["next_cursor"].as_str().unwrap().to_string();
    let p2 = c
        .app
        .get(&format!("{path}?limit=2&cursor={cur}"), &c.obs1)
        .await
        .body
        .clone();
    let all: Vec<&str> = p1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["items"].as_array().unwrap())
        .map(|x| x["body"].as_str().unwrap())
        .collect();
    assert_eq!(all, vec!["旧 0", "旧 1", "旧 2", "新"]);

    // Notifications: reading one changes it, and a sync brings the change.
    let feed = c
        .app
        .get("/api/v1/notifications", &c.obs1)
        .await
        .body
        .clone();
    crate::openapi::assert_matches_schema(&spec, "NotificationPage", &feed);
    let n = feed["items"][0]["id"].as_i64().unwrap();
    assert_eq!(feed["items"][0]["read"], false);
    let newest = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["updated_at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let fresh = just_after(&newest);
    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    c.app
        .post(
            &format!("/api/v1/notifications/{n}/read"),
            Some(&c.obs1),
            json!({}),
        )
        .await
        .assert_status(200);
    let changed = c
        .app
        .get(
            &format!(
                "/api/v1/notifications?updated_since={}",
                fresh.replace('+', "%2B")
            ),
            &c.obs1,
        )
        .await
        .body
        .clone();
    let items = changed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{changed}");
    assert_eq!(items[0]["id"], n);
    assert_eq!(items[0]["read"], true);
}

async fn if_none_match(c: &County, path: &str, token: &str, tag: &str) -> Resp {
    c.app
        .send("GET", path, Some(token), &[("If-None-Match", tag)], None)
        .await
}

/// A millisecond after an instant, as a query value.
fn just_after(t: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(t).unwrap() + chrono::Duration::milliseconds(1);
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn an_unchanged_object_answers_304_and_a_stale_if_match_412(db: Db) {
    let c = County::new(db).await;
    let id = c.file("etag").await;
    let path = format!("/api/v1/issues/{id}");
    let first = c.issue(&c.obs1, id).await;
    let tag = first.header("etag").unwrap();
    let again = if_none_match(&c, &path, &c.obs1, &tag).await;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let changed = if_none_match(&c, &path, &c.obs1, &tag).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag").unwrap(), tag);
    // The old tag on a step: 412, and the step did not happen.
    let stale = c
        .app
        .send(
            "POST",
            &format!("{path}/transitions"),
            Some(&c.staff_a),
            &[("If-Match", &tag)],
            Some((
                "application/json",
                json!({ "action": "resolve", "comment": "已解决" }).to_string(),
            )),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(c.issue(&c.sup, id).await.body["status"], "in_progress");
    // The other single reads honour If-None-Match too.
    for p in [
        format!("/api/v1/projects/{}", c.project_p),
        format!("/api/v1/departments/{}", c.dept_a),
        "/api/v1/me".to_string(),
        format!("/api/v1/users/{}", c.obs1_id),
    ] {
        let r = c.app.get(&p, &c.sup).await;
        let tag = r
            .header("etag")
            .unwrap_or_else(|| panic!("{p} has no ETag"));
        let r = if_none_match(&c, &p, &c.sup, &tag).await;
        assert_eq!(r.status, 304, "{p}");
    }
}
