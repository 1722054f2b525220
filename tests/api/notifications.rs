//! Who hears what (DESIGN §6) in the in-app feed, written in the same transaction as the
//! change, and never an internal comment to an observer.

use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    who_hears_what_along_the_closed_loop,
    a_refused_or_rolled_back_change_tells_nobody,
    notices_to_any_number_of_recipients_are_all_written_each_to_its_user
);

async fn feed(c: &County, token: &str) -> Vec<Value> {
    let r = c.app.get("/api/v1/notifications?limit=200", token).await;
    r.assert_status(200)["items"].as_array().unwrap().clone()
}

/// The kinds of notifications about `issue` a user has, oldest first.
async fn heard(c: &County, token: &str, issue: i64) -> Vec<String> {
    let mut items: Vec<Value> = feed(c, token)
        .await
        .into_iter()
        .filter(|n| n["issue_id"] == issue)
        .collect();
    items.reverse();
    items
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn who_hears_what_along_the_closed_loop(db: Db) {
    let c = County::new(db).await;
    let id = c.file("who hears").await;
    assert_eq!(heard(&c, &c.staff_a, id).await, vec!["assigned"]);
    assert_eq!(heard(&c, &c.head_a, id).await, vec!["assigned"]);
    assert!(
        heard(&c, &c.obs1, id).await.is_empty(),
        "the observer filed it; nothing to tell"
    );

    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.staff_a),
            json!({ "body": "内部意见X", "internal": true }),
        )
        .await
        .assert_status(201);
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "request_info", "comment": "请补充营业执照" }),
    )
    .await;
    c.step(
        &c.obs1,
        id,
        json!({ "action": "provide_info", "comment": "已上传" }),
    )
    .await;
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "return", "comment": "退单理由Y" }),
    )
    .await;
    assert_eq!(
        heard(&c, &c.head_a, id).await,
        vec!["assigned", "observer_replied", "returned"]
    );
    assert_eq!(heard(&c, &c.sup, id).await, vec!["returned"]);
    c.step(
        &c.sup,
        id,
        json!({ "action": "dispatch", "department_id": c.dept_b }),
    )
    .await;
    assert_eq!(heard(&c, &c.staff_b, id).await, vec!["assigned"]);
    c.step(
        &c.sup,
        id,
        json!({ "action": "chase", "comment": "催办意见Z" }),
    )
    .await;
    c.step(&c.sup, id, json!({ "action": "escalate" })).await;
    assert_eq!(
        heard(&c, &c.head_b, id).await,
        vec!["assigned", "chased", "escalated"]
    );
    c.step(&c.staff_b, id, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.staff_b,
        id,
        json!({ "action": "resolve", "comment": "已接通临时用电" }),
    )
    .await;
    c.step(
        &c.obs1,
        id,
        json!({ "action": "reopen", "comment": "仍未送电" }),
    )
    .await;
    assert_eq!(
        heard(&c, &c.staff_b, id).await,
        vec!["assigned", "chased", "reopened"]
    );
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.staff_b),
            json!({ "body": "明天上午送电" }),
        )
        .await
        .assert_status(201);
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.obs1),
            json!({ "body": "好的" }),
        )
        .await
        .assert_status(201);
    assert_eq!(
        heard(&c, &c.staff_b, id).await,
        vec!["assigned", "chased", "reopened", "observer_replied"]
    );

    // The observer heard every status change made by others, and the public comment.
    assert_eq!(
        heard(&c, &c.obs1, id).await,
        vec![
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "comment"
        ]
    );
    let mine = feed(&c, &c.obs1).await;
    let text = serde_json::to_string(&mine).unwrap();
    assert!(
        text.contains("请补充营业执照") && text.contains("已接通临时用电"),
        "public comments reach the observer"
    );
    for secret in ["内部意见X", "退单理由Y", "催办意见Z"] {
        assert!(!text.contains(secret), "{secret} reached the observer");
    }
    // The department's clerk of A never heard of B's work; another observer heard nothing.
    assert!(heard(&c, &c.obs2, id).await.is_empty());
    assert_eq!(
        heard(&c, &c.staff_a, id).await,
        vec!["assigned", "observer_replied"]
    );

    // An issue nobody owns goes to the supervisors.
    let q = c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "q", "description": "d" })).await;
    let q = q.assert_status(201)["id"].as_i64().unwrap();
    assert_eq!(heard(&c, &c.sup, q).await, vec!["unrouted"]);
}

async fn a_refused_or_rolled_back_change_tells_nobody(db: Db) {
    let c = County::new(db).await;
    let id = c.file("refused").await;
    let before = (
        feed(&c, &c.obs1).await.len(),
        feed(&c, &c.staff_a).await.len(),
    );
    // Refused by the state machine, by the rules, and by a stale If-Match.
    c.act(
        &c.staff_a,
        id,
        json!({ "action": "resolve", "comment": "x" }),
    )
    .await
    .assert_problem(409, "invalid_transition");
    c.act(&c.staff_a, id, json!({ "action": "return" }))
        .await
        .assert_problem(422, "validation_failed");
    let path = format!("/api/v1/issues/{id}/transitions");
    let stale = c
        .app
        .send(
            "POST",
            &path,
            Some(&c.staff_a),
            &[("If-Match", "\"v99\"")],
            Some((
                "application/json",
                json!({ "action": "acknowledge" }).to_string(),
            )),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(
        (
            feed(&c, &c.obs1).await.len(),
            feed(&c, &c.staff_a).await.len()
        ),
        before
    );
}

/// Notices are written in groups of fixed sizes (16, 8, 4, 2, 1): a list of any length is
/// written whole, each row to its own user with its own text, and reads back in the feed.
async fn notices_to_any_number_of_recipients_are_all_written_each_to_its_user(db: Db) {
    use observer_desk::db::notifications::{NewNotification, insert_all};
    let c = County::new(db).await;
    let head = c.app.get("/api/v1/me", &c.head_a).await.assert_status(200)["id"]
        .as_i64()
        .unwrap();
    let staff = c.staff_a_id;
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    let at = chrono::Utc::now().naive_utc();
    let mut all = Vec::new();
    for count in [0usize, 1, 3, 31, 1201] {
        let written = store
            .write(move |conn| {
                let titles: Vec<String> = (0..count)
                    .map(|i| format!("批量通知 {count}/{i}"))
                    .collect();
                let rows: Vec<NewNotification<'_>> = titles
                    .iter()
                    .enumerate()
                    .map(|(i, title)| NewNotification {
                        user_id: if i.is_multiple_of(3) { head } else { staff },
                        issue_id: None,
                        kind: "inspection_alert",
                        title,
                        body: title,
                        data: "{}",
                        created_at: at,
                    })
                    .collect();
                Ok(insert_all(conn, &rows)?)
            })
            .await
            .unwrap();
        assert_eq!(written.len(), count, "every row of {count} was written");
        let to_head = written.iter().filter(|(_, user)| *user == head).count();
        assert_eq!(
            to_head,
            count.div_ceil(3),
            "each of {count} rows went to its own user"
        );
        all.extend(written);
    }
    let ids: std::collections::BTreeSet<i64> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), all.len(), "each row has an id of its own");
    // Each user's feed holds its own rows, each with the text written for it.
    for (token, user) in [(&c.head_a, head), (&c.staff_a, staff)] {
        let alerts: Vec<Value> = feed(&c, token)
            .await
            .into_iter()
            .filter(|n| n["kind"] == "inspection_alert")
            .collect();
        assert_eq!(alerts.len(), 200, "a full page of user {user}'s alerts");
        for n in alerts {
            let id = n["id"].as_i64().unwrap();
            assert!(
                all.contains(&(id, user)),
                "a row in user {user}'s feed was written for someone else: {n}"
            );
            assert_eq!(n["title"], n["body"], "{n}");
            let i: usize = n["title"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                i.is_multiple_of(3),
                user == head,
                "row {i} was written for user {user}: {n}"
            );
        }
    }
}
