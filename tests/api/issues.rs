//! The closed loop: filing, routing, the happy path, races and paging.

use std::collections::BTreeSet;

use serde_json::json;

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;
use observer_desk::domain::issue::Status;

on_both_databases!(
    an_issue_goes_from_filing_to_closed_with_a_rating,
    routing_prefers_a_rule_then_the_milestone_then_the_project_then_the_queue,
    an_unrouted_issue_is_dispatched_by_a_supervisor_and_a_return_sends_it_back,
    filing_checks_project_milestone_follower_and_fields,
    concurrent_filings_get_distinct_consecutive_numbers,
    two_acknowledgements_at_once_have_exactly_one_winner,
    a_resolve_racing_a_withdraw_has_exactly_one_winner,
    steps_that_keep_the_state_queue_at_the_same_moment_instead_of_failing,
    a_stale_if_match_is_refused_with_412,
    paging_loses_and_repeats_nothing_while_issues_are_filed,
    list_filters_narrow_the_result,
    the_supervisors_desk_filters_find_pending_extensions_escalations_and_returns,
    reopen_extension_escalation_and_chase_leave_their_marks,
    the_timeline_refuses_updates_and_deletes,
    observers_never_see_an_escalation_or_an_extension_request_in_any_view_of_an_issue,
    issues_and_pages_of_1_kib_or_more_are_gzipped_for_clients_that_accept_it,
    a_department_lists_every_issue_it_ever_had_newest_first_a_page_at_a_time,
    a_list_without_filters_shows_what_the_status_filters_show_together_to_every_caller,
    an_observer_pages_through_their_own_and_their_projects_issues_however_many_they_follow,
    every_page_shows_an_issue_and_its_clocks_as_the_issues_own_read_does,
    a_page_shows_every_change_to_an_issue_at_once_whichever_instance_made_it,
    pages_read_while_issues_change_never_go_back_in_time,
);

/// Every item a caller's list shows, following the cursor `limit` at a time.
async fn listed_items(c: &County, token: &str, query: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/issues?{query}&cursor={cur}"),
            None => format!("/api/v1/issues?{query}"),
        };
        let page = c.app.get(&path, token).await;
        items.extend(page.assert_status(200)["items"].as_array().unwrap().clone());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

/// Every id a caller's list shows, following the cursor `limit` at a time.
async fn listed(c: &County, token: &str, query: &str) -> Vec<i64> {
    let items = listed_items(c, token, query).await;
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

async fn a_department_lists_every_issue_it_ever_had_newest_first_a_page_at_a_time(db: Db) {
    let c = County::new(db).await;
    let mut filed = Vec::new();
    for n in 0..5 {
        filed.push(c.file(&format!("A 的问题 {n}")).await);
    }
    // One moves on to B; A still lists it, and B lists only it.
    c.step(
        &c.sup,
        filed[1],
        json!({ "action": "transfer", "department_id": c.dept_b }),
    )
    .await;
    let newest_first: Vec<i64> = filed.iter().rev().copied().collect();
    assert_eq!(listed(&c, &c.staff_a, "limit=2").await, newest_first);
    assert_eq!(listed(&c, &c.staff_b, "limit=2").await, vec![filed[1]]);
    // Filters narrow a department's list as they narrow anyone's.
    assert_eq!(
        listed(
            &c,
            &c.staff_a,
            &format!("limit=2&department_id={}", c.dept_b)
        )
        .await,
        vec![filed[1]]
    );
    c.step(&c.staff_a, filed[3], json!({ "action": "acknowledge" }))
        .await;
    assert_eq!(
        listed(&c, &c.staff_a, "limit=2&status=in_progress").await,
        vec![filed[3]]
    );
}

async fn a_list_without_filters_shows_what_the_status_filters_show_together_to_every_caller(
    db: Db,
) {
    // The page a list opens on has statements of its own; a filtered page is built per call.
    // Both must apply the same rule of who sees what.
    let c = County::new(db).await;
    let mut filed = Vec::new();
    for n in 0..4 {
        filed.push(c.file(&format!("P 的问题 {n}")).await);
    }
    c.step(
        &c.sup,
        filed[1],
        json!({ "action": "transfer", "department_id": c.dept_b }),
    )
    .await;
    c.step(&c.staff_a, filed[2], json!({ "action": "acknowledge" }))
        .await;
    let private = c.file_as(&c.obs2, json!({ "project_id": c.project_p, "category": "other", "title": "私密", "description": "d", "private": true })).await;
    let private = private.assert_status(201)["id"].as_i64().unwrap();
    let on_q = c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "q", "description": "d" })).await;
    let on_q = on_q.assert_status(201)["id"].as_i64().unwrap();
    let mut seen = Vec::new();
    for (name, token) in c.callers() {
        let plain = listed(&c, token, "limit=2").await;
        let mut filtered = Vec::new();
        for status in Status::ALL {
            filtered.extend(listed(&c, token, &format!("limit=2&status={status}")).await);
        }
        filtered.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(plain, filtered, "{name}");
        seen.push(plain);
    }
    // And the rule itself, in the order of `County::callers`, so that the two paths cannot
    // agree on a wrong answer.
    let newest_first = |ids: &[&[i64]]| {
        let mut ids = ids.concat();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    };
    let everything = newest_first(&[&filed, &[private, on_q]]);
    let routed_to_a = newest_first(&[&filed, &[private]]);
    let expected = [
        newest_first(&[&filed, &[on_q]]),
        routed_to_a.clone(),
        vec![],
        routed_to_a.clone(),
        routed_to_a,
        vec![filed[1]],
        vec![filed[1]],
        everything.clone(),
        everything,
    ];
    assert_eq!(seen, expected);
}

async fn an_observer_pages_through_their_own_and_their_projects_issues_however_many_they_follow(
    db: Db,
) {
    // An observer's page merges their own issues with each followed project's; past a number
    // of projects it is one statement again. Both sides of that line, a page of two at a time.
    let c = County::new(db).await;
    for projects in [3, 20] {
        let me = format!("many{projects}");
        let partner = format!("partner{projects}");
        let my_id = c.app.create_user(&c.admin, &me, "observer", None).await;
        let partner_id = c
            .app
            .create_user(&c.admin, &partner, "observer", None)
            .await;
        let mine = c.app.token(&me, crate::helpers::PASSWORD).await;
        let theirs = c.app.token(&partner, crate::helpers::PASSWORD).await;
        let mut followed = Vec::new();
        for n in 0..projects {
            let body = json!({ "code": format!("F{projects}-{n}"), "name": format!("项目 {n}"), "observer_ids": [my_id, partner_id] });
            let p = c.app.post("/api/v1/projects", Some(&c.sup), body).await;
            followed.push(p.assert_status(201)["id"].as_i64().unwrap());
        }
        let since = (chrono::Utc::now() - chrono::Duration::seconds(5))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut expected = Vec::new();
        // Spread over the first, a middle and the last project, each observer's issues
        // interleaved, a private one of each.
        for (k, project) in [followed[0], followed[projects / 2], followed[projects - 1]]
            .into_iter()
            .enumerate()
        {
            for (token, own) in [(&theirs, false), (&mine, true), (&theirs, false)] {
                let private = k == 1;
                let body = json!({ "project_id": project, "category": "other", "title": format!("第{k}项"), "description": "d", "private": private });
                let r = c.file_as(token, body).await;
                let id = r.assert_status(201)["id"].as_i64().unwrap();
                if own || !private {
                    expected.push(id);
                }
            }
        }
        // A project the observer does not follow: nothing of it.
        c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "q", "description": "d" }))
            .await
            .assert_status(201);
        expected.reverse();
        assert_eq!(
            listed(&c, &mine, "limit=2").await,
            expected,
            "{projects} projects"
        );
        assert_eq!(
            listed(&c, &mine, "limit=50").await,
            expected,
            "{projects} projects"
        );
        // A filter narrows each source: a sync, a status that holds them all, one that
        // holds none.
        let synced = listed(&c, &mine, &format!("limit=2&updated_since={since}")).await;
        assert_eq!(synced, expected, "{projects} projects, synced");
        let status = c.issue(&mine, expected[0]).await.body["status"].clone();
        let status = status.as_str().unwrap();
        let all = listed(&c, &mine, &format!("limit=2&status={status}")).await;
        assert_eq!(all, expected, "{projects} projects, {status}");
        assert!(listed(&c, &mine, "limit=2&status=closed").await.is_empty());
    }
}

async fn every_page_shows_an_issue_and_its_clocks_as_the_issues_own_read_does(db: Db) {
    let c = County::new(db).await;
    // Clocks in every state: running, paused (awaiting information), met and waiting to
    // close on its own (resolved), stopped (withdrawn), and none at all (an issue of a
    // project with no lead department, waiting for a supervisor to dispatch it).
    let running = c.file("时钟在走").await;
    let paused = c.file("等待补充材料").await;
    c.step(&c.staff_a, paused, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.staff_a,
        paused,
        json!({ "action": "request_info", "comment": "请补充材料" }),
    )
    .await;
    let resolved = c.file("已办结").await;
    c.step(&c.staff_a, resolved, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.staff_a,
        resolved,
        json!({ "action": "resolve", "comment": "已办结" }),
    )
    .await;
    let withdrawn = c.file("撤回").await;
    c.step(&c.obs1, withdrawn, json!({ "action": "withdraw" }))
        .await;
    let body = json!({ "project_id": c.project_q, "category": "other", "title": "待分派", "description": "d" });
    let r = c.file_as(&c.obs1, body).await;
    let unrouted = r.assert_status(201)["id"].as_i64().unwrap();
    assert!(r.body["department_id"].is_null(), "{}", r.body);
    // Newest first; a clerk of department A does not see the unrouted one.
    let of_p = vec![withdrawn, resolved, paused, running];
    let all = [vec![unrouted], of_p.clone()].concat();
    let by_project = format!("limit=50&project_id={}", c.project_p);
    for (who, token, seen_unfiltered) in [
        ("staff A", &c.staff_a, &of_p),
        ("supervisor", &c.sup, &all),
        ("reporter", &c.obs1, &all),
    ] {
        for (query, expected) in [
            ("limit=50", seen_unfiltered),
            ("limit=2", seen_unfiltered),
            (by_project.as_str(), &of_p),
        ] {
            let mut seen = Vec::new();
            for item in listed_items(&c, token, query).await {
                let id = item["id"].as_i64().unwrap();
                let own = c.issue(token, id).await;
                assert_eq!(
                    settled(&serde_json::to_vec(&item).unwrap()),
                    settled(&own.bytes),
                    "{who}, {query}: issue {id}"
                );
                seen.push(id);
            }
            assert_eq!(&seen, expected, "{who}, {query}");
        }
    }
}

async fn a_page_shows_every_change_to_an_issue_at_once_whichever_instance_made_it(db: Db) {
    let c = County::new(db).await;
    let changed = c.file("将被受理").await;
    let commented = c.file("将有留言").await;
    let escalated = c.file("将被督办").await;
    // Pages are read from a second instance, changes made through the first.
    let (other, at) = c.app.sibling_at().await;
    let page = |token: String| {
        let (client, url) = (c.app.client.clone(), format!("{at}/api/v1/issues?limit=50"));
        async move {
            let mut res = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            let body: serde_json::Value = res.json().limit(4 << 20).await.unwrap();
            body["items"].as_array().unwrap().clone()
        }
    };
    // Each page as the issues' own reads (through the first instance) show them.
    let check = |token: String, who: &'static str| {
        let c = &c;
        let page = &page;
        async move {
            let items = page(token.clone()).await;
            assert!(items.len() >= 3, "{who}: {items:?}");
            for item in &items {
                let id = item["id"].as_i64().unwrap();
                let own = c.issue(&token, id).await;
                assert_eq!(
                    settled(&serde_json::to_vec(item).unwrap()),
                    settled(&own.bytes),
                    "{who}: issue {id}"
                );
            }
            items
        }
    };
    // Both kinds of reader have seen every issue once, the department first.
    check(c.staff_a.clone(), "staff A, before").await;
    check(c.obs1.clone(), "reporter, before").await;
    c.step(&c.staff_a, changed, json!({ "action": "acknowledge" }))
        .await;
    let before = c.issue(&c.staff_a, commented).await.body["updated_at"].clone();
    c.app
        .post(
            &format!("/api/v1/issues/{commented}/comments"),
            Some(&c.staff_a),
            json!({ "body": "已联系项目方" }),
        )
        .await
        .assert_status(201);
    c.step(&c.staff_a, escalated, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.sup,
        escalated,
        json!({ "action": "escalate", "comment": "请加快办理" }),
    )
    .await;
    let items = check(c.staff_a.clone(), "staff A, after").await;
    let of = |id: i64| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(of(changed)["status"], "in_progress");
    assert_ne!(
        of(commented)["updated_at"],
        before,
        "a comment moves updated_at"
    );
    assert_eq!(of(escalated)["escalation_level"], 1);
    // The reporter sees the same changes, and never the internal marks the department saw.
    let items = check(c.obs1.clone(), "reporter, after").await;
    for item in &items {
        assert!(item.get("escalation_level").is_none(), "{item}");
        assert!(item.get("extension_requested_minutes").is_none(), "{item}");
    }
    other.stop(true).await;
}

async fn pages_read_while_issues_change_never_go_back_in_time(db: Db) {
    let c = County::new(db).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(c.file(&format!("并发{n}")).await);
    }
    // Each issue is acknowledged, commented on twice and resolved, all issues at once, while
    // a clerk and the reporter read their pages one after another.
    let changes = futures_util::future::join_all(ids.iter().map(|&id| {
        let c = &c;
        async move {
            c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
                .await;
            for n in 0..2 {
                c.app
                    .post(
                        &format!("/api/v1/issues/{id}/comments"),
                        Some(&c.staff_a),
                        json!({ "body": format!("进展{n}") }),
                    )
                    .await
                    .assert_status(201);
            }
            c.step(
                &c.staff_a,
                id,
                json!({ "action": "resolve", "comment": "已办结" }),
            )
            .await;
        }
    }));
    let reads = |token: String| {
        let c = &c;
        async move {
            // Per issue: the latest (updated_at, status) a page showed.
            let mut seen: std::collections::HashMap<i64, (String, String)> = Default::default();
            for _ in 0..40 {
                for item in listed_items(c, &token, "limit=50").await {
                    let id = item["id"].as_i64().unwrap();
                    let now = (
                        item["updated_at"].as_str().unwrap().to_string(),
                        item["status"].as_str().unwrap().to_string(),
                    );
                    if let Some(before) = seen.get(&id) {
                        assert!(
                            now.0 >= before.0,
                            "issue {id} went back: {before:?} → {now:?}"
                        );
                        if now.0 == before.0 {
                            assert_eq!(now.1, before.1, "issue {id}: one updated_at, two states");
                        }
                    }
                    seen.insert(id, now);
                }
            }
        }
    };
    tokio::join!(changes, reads(c.staff_a.clone()), reads(c.obs1.clone()));
    // Once the changes are done, every page shows what the issues' own reads show.
    for token in [&c.staff_a, &c.obs1] {
        for item in listed_items(&c, token, "limit=50").await {
            let id = item["id"].as_i64().unwrap();
            assert_eq!(item["status"], "resolved", "issue {id}");
            let own = c.issue(token, id).await;
            assert_eq!(
                settled(&serde_json::to_vec(&item).unwrap()),
                settled(&own.bytes),
                "issue {id}"
            );
        }
    }
}

/// A JSON body as the client reads it, without what moves with the clock: the working
/// seconds left on a clock that runs and the read time of a page.
fn settled(bytes: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                // A paused clock's time left stands still: it is compared.
                if m.get("state").and_then(|s| s.as_str()) != Some("paused") {
                    m.remove("remaining_seconds");
                }
                m.remove("next_updated_since");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    strip(&mut v);
    v
}

async fn issues_and_pages_of_1_kib_or_more_are_gzipped_for_clients_that_accept_it(db: Db) {
    use std::io::Read;
    let c = County::new(db).await;
    for n in 0..3 {
        c.file(&format!("压缩 {n}")).await;
    }
    let id = c.file("压缩").await;
    let gunzip = |bytes: &[u8]| {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    let mut sizes = Vec::new();
    for path in [
        format!("/api/v1/issues/{id}"),
        "/api/v1/issues?limit=50".to_string(),
        "/api/v1/issues?status=closed".to_string(),
    ] {
        let plain = c.app.get(&path, &c.staff_a).await;
        let zipped = c
            .app
            .send(
                "GET",
                &path,
                Some(&c.staff_a),
                &[("Accept-Encoding", "br;q=1.0, gzip;q=0.8")],
                None,
            )
            .await;
        assert_eq!(zipped.status, 200, "{path}");
        assert_eq!(
            zipped.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(plain.header("content-encoding").is_none(), "{path}");
        // From 1 KiB an answer is gzipped and says it varies by `Accept-Encoding`, once; a
        // smaller one goes as it is, the same for every client.
        let big = plain.bytes.len() >= 1024;
        sizes.push(big);
        let vary = zipped
            .headers
            .get_all("vary")
            .filter(|v| {
                v.to_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("accept-encoding")
            })
            .count();
        if big {
            assert_eq!(zipped.header("content-encoding").as_deref(), Some("gzip"));
            assert_eq!(vary, 1, "{path}: one Vary");
            assert_eq!(
                settled(&gunzip(&zipped.bytes)),
                settled(&plain.bytes),
                "{path}"
            );
        } else {
            assert!(zipped.header("content-encoding").is_none(), "{path}");
            assert_eq!(vary, 0, "{path}: a small answer does not vary");
            assert_eq!(settled(&zipped.bytes), settled(&plain.bytes), "{path}");
        }
        // A client that refuses gzip gets JSON as it is, and a big answer still says it varies.
        let refused = c
            .app
            .send(
                "GET",
                &path,
                Some(&c.staff_a),
                &[("Accept-Encoding", "gzip;q=0")],
                None,
            )
            .await;
        assert!(refused.header("content-encoding").is_none(), "{path}");
        assert_eq!(settled(&refused.bytes), settled(&plain.bytes), "{path}");
        assert_eq!(
            refused.header("vary").is_some(),
            big,
            "{path}: {:?}",
            refused.header("vary")
        );
    }
    // The page of four is big and the empty page small, so both ways were taken.
    assert_eq!(&sizes[1..], &[true, false], "{sizes:?}");
    // The single read keeps its entity tag, and a matching one still gets 304 with no body.
    let path = format!("/api/v1/issues/{id}");
    let zipped = c
        .app
        .send(
            "GET",
            &path,
            Some(&c.obs1),
            &[("Accept-Encoding", "gzip")],
            None,
        )
        .await;
    let tag = zipped.header("etag").expect("etag");
    assert_eq!(Some(tag.clone()), c.issue(&c.obs1, id).await.header("etag"));
    let again = c
        .app
        .send(
            "GET",
            &path,
            Some(&c.obs1),
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
            None,
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());
}

async fn observers_never_see_an_escalation_or_an_extension_request_in_any_view_of_an_issue(db: Db) {
    let c = County::new(db).await;
    let id = c.file("internal facts").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 600 }),
    )
    .await;
    c.step(
        &c.sup,
        id,
        json!({ "action": "escalate", "comment": "督办" }),
    )
    .await;
    let internal = ["escalation_level", "extension_requested_minutes"];
    let staff_view = c.issue(&c.staff_a, id).await.body;
    assert_eq!(staff_view["escalation_level"], 1);
    assert_eq!(staff_view["extension_requested_minutes"], 600);
    // The reporter and another follower, through the single read, the list and a step.
    let mut observer_views = vec![
        c.issue(&c.obs1, id).await.body,
        c.issue(&c.obs2, id).await.body,
    ];
    let list = c.app.get("/api/v1/issues", &c.obs1).await;
    observer_views.extend(list.assert_status(200)["items"].as_array().unwrap().clone());
    observer_views.push(
        c.step(
            &c.obs1,
            id,
            json!({ "action": "withdraw", "comment": "撤回" }),
        )
        .await,
    );
    for view in &observer_views {
        assert_eq!(view["id"], id, "{view}");
        for field in internal {
            assert!(
                view.get(field).is_none(),
                "{field} shown to an observer: {view}"
            );
        }
    }
}

async fn the_timeline_refuses_updates_and_deletes(db: Db) {
    let c = County::new(db).await;
    let id = c.file("append-only").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let before = c
        .app
        .get(&format!("/api/v1/issues/{id}/events"), &c.sup)
        .await
        .text;
    // Straight to the database, past the API: the database itself refuses.
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    for sql in [
        "UPDATE issue_events SET kind = 'forged'",
        "DELETE FROM issue_events",
    ] {
        let outcome = store
            .write(move |conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query(sql)
                    .execute(conn)
                    .map_err(observer_desk::error::AppError::internal)
            })
            .await;
        assert!(outcome.is_err(), "{sql} was allowed");
    }
    assert_eq!(
        c.app
            .get(&format!("/api/v1/issues/{id}/events"), &c.sup)
            .await
            .text,
        before
    );
}

async fn an_issue_goes_from_filing_to_closed_with_a_rating(db: Db) {
    let c = County::new(db).await;
    let r = c
        .file_as(
            &c.obs1,
            json!({
                "project_id": c.project_p, "category": "approval_delay", "priority": "urgent",
                "title": "施工许可证办理超时", "description": "材料齐全已二十天未批复",
                "location": { "lat": 34.84, "lng": 111.22 },
            }),
        )
        .await;
    let issue = r.assert_status(201).clone();
    let id = issue["id"].as_i64().unwrap();
    let number = issue["number"].as_str().unwrap();
    assert!(
        number.len() == 11 && number.ends_with("-000001"),
        "{number}"
    );
    assert_eq!(issue["status"], "assigned");
    assert_eq!(issue["department_id"], c.dept_a);
    assert_eq!(issue["priority"], "urgent");
    assert_eq!(issue["location"]["lat"], 34.84);
    assert_eq!(issue["reporter_id"], c.obs1_id);
    assert!(r.header("etag").is_some());

    let ack = c
        .step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    assert_eq!(ack["status"], "in_progress");
    assert_eq!(ack["assignee_id"], c.staff_a_id);
    assert!(ack["acknowledged_at"].is_string());
    let resolved = c
        .step(
            &c.staff_a,
            id,
            json!({ "action": "resolve", "comment": "已于今日批复" }),
        )
        .await;
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    let closed = c
        .step(&c.obs1, id, json!({ "action": "confirm", "rating": 5 }))
        .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["rating"], 5);
    assert!(closed["closed_at"].is_string());

    let events = c
        .app
        .get(&format!("/api/v1/issues/{id}/events"), &c.obs1)
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
    let resolve = &events.body["items"][3];
    assert_eq!(resolve["data"]["comment"], "已于今日批复");
    assert_eq!(resolve["data"]["from"], "in_progress");
    assert_eq!(resolve["data"]["to"], "resolved");
    assert!(resolve["actor_id"].is_i64() && resolve["at"].is_string());
    // Closed is final.
    c.act(&c.obs1, id, json!({ "action": "reopen", "comment": "x" }))
        .await
        .assert_problem(409, "invalid_transition");
}

async fn routing_prefers_a_rule_then_the_milestone_then_the_project_then_the_queue(db: Db) {
    let c = County::new(db).await;
    let dept_c = c.app.create_department(&c.admin, "CCC").await;
    let file = |project: i64, milestone: Option<i64>, category: &'static str| {
        let c = &c;
        async move {
            let r = c
                .file_as(&c.obs1, json!({ "project_id": project, "milestone_id": milestone, "category": category, "title": "t", "description": "d" }))
                .await;
            r.assert_status(201).clone()
        }
    };
    // No rule: the milestone's department, else the project's lead, else the queue.
    let by_milestone = file(c.project_p, Some(c.milestone_m), "utility_supply").await;
    assert_eq!(
        (
            by_milestone["status"].as_str(),
            by_milestone["department_id"].as_i64()
        ),
        (Some("assigned"), Some(c.dept_b))
    );
    let by_project = file(c.project_p, None, "utility_supply").await;
    assert_eq!(by_project["department_id"], c.dept_a);
    let queued = file(c.project_q, None, "utility_supply").await;
    assert_eq!(queued["status"], "unassigned");
    assert_eq!(queued["department_id"], serde_json::Value::Null);

    // A rule for the category and the park wins over the milestone.
    let rule = c
        .app
        .post(
            "/api/v1/routing-rules",
            Some(&c.sup),
            json!({ "category": "utility_supply", "park": "SME park", "department_id": dept_c }),
        )
        .await;
    let rule_id = rule.assert_status(201)["id"].as_i64().unwrap();
    let by_rule = file(c.project_p, Some(c.milestone_m), "utility_supply").await;
    assert_eq!(by_rule["department_id"], dept_c);
    let events = c
        .app
        .get(&format!("/api/v1/issues/{}/events", by_rule["id"]), &c.sup)
        .await;
    assert_eq!(
        events.body["items"][1]["data"],
        json!({ "by": "rule", "rule_id": rule_id, "department_id": dept_c })
    );
    // Other categories and parks are untouched by it.
    assert_eq!(
        file(c.project_p, Some(c.milestone_m), "land_supply").await["department_id"],
        c.dept_b
    );
    assert_eq!(
        file(c.project_q, None, "utility_supply").await["status"],
        "unassigned"
    );
    // Deleting the rule restores the fallback.
    let del = c
        .app
        .request(
            "DELETE",
            &format!("/api/v1/routing-rules/{rule_id}"),
            Some(&c.sup),
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        file(c.project_p, Some(c.milestone_m), "utility_supply").await["department_id"],
        c.dept_b
    );
    let listed = c.app.get("/api/v1/routing-rules", &c.sup).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
}

async fn an_unrouted_issue_is_dispatched_by_a_supervisor_and_a_return_sends_it_back(db: Db) {
    let c = County::new(db).await;
    let r = c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "t", "description": "d" })).await;
    let id = r.assert_status(201)["id"].as_i64().unwrap();
    c.act(&c.sup, id, json!({ "action": "dispatch" }))
        .await
        .assert_problem(422, "validation_failed");
    let d = c
        .step(
            &c.sup,
            id,
            json!({ "action": "dispatch", "department_id": c.dept_b }),
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["department_id"].as_i64()),
        (Some("assigned"), Some(c.dept_b))
    );
    // A return needs a reason, and sends the issue back to the queue.
    c.act(&c.staff_b, id, json!({ "action": "return" }))
        .await
        .assert_problem(422, "validation_failed");
    let back = c
        .step(
            &c.staff_b,
            id,
            json!({ "action": "return", "comment": "不属于本单位职责" }),
        )
        .await;
    assert_eq!(back["status"], "unassigned");
    assert_eq!(back["department_id"], serde_json::Value::Null);
    // The department that returned it can still read it, but can no longer act on it.
    c.issue(&c.staff_b, id).await.assert_status(200);
    c.act(&c.staff_b, id, json!({ "action": "acknowledge" }))
        .await
        .assert_problem(403, "forbidden");
    let again = c
        .step(
            &c.sup,
            id,
            json!({ "action": "dispatch", "department_id": c.dept_a }),
        )
        .await;
    assert_eq!(again["department_id"], c.dept_a);
    let t = c
        .step(
            &c.sup,
            id,
            json!({ "action": "transfer", "department_id": c.dept_b }),
        )
        .await;
    assert_eq!(t["department_id"], c.dept_b);
    c.act(
        &c.sup,
        id,
        json!({ "action": "transfer", "department_id": c.dept_b }),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn filing_checks_project_milestone_follower_and_fields(db: Db) {
    let c = County::new(db).await;
    let base = json!({ "project_id": c.project_p, "category": "approval_delay", "title": "t", "description": "d" });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let field_of = |r: &crate::helpers::Resp| {
        r.body["errors"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let r = c.file_as(&c.obs1, with("project_id", json!(99999))).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(field_of(&r), "project_id");
    let r = c.file_as(&c.obs3, base.clone()).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "not_followed");
    // A milestone of another project is refused.
    let other = c
        .app
        .post(
            &format!("/api/v1/projects/{}/milestones", c.project_q),
            Some(&c.sup),
            json!({ "kind": "other", "title": "x" }),
        )
        .await;
    let other = other.assert_status(201)["id"].as_i64().unwrap();
    let r = c.file_as(&c.obs1, with("milestone_id", json!(other))).await;
    assert_eq!(field_of(&r), "milestone_id");
    let r = c.file_as(&c.obs1, with("category", json!("bribery"))).await;
    assert_eq!(field_of(&r), "category");
    let r = c
        .file_as(
            &c.obs1,
            with("location", json!({ "lat": 91.0, "lng": 0.0 })),
        )
        .await;
    assert_eq!(field_of(&r), "location.lat");
    let r = c.file_as(&c.obs1, with("title", json!("  "))).await;
    assert_eq!(field_of(&r), "title");
    // Only observers file issues.
    for token in [&c.staff_a, &c.head_a, &c.sup, &c.admin] {
        c.file_as(token, base.clone())
            .await
            .assert_problem(403, "forbidden");
    }
    // Nothing was filed by any of it.
    let all = c.app.get("/api/v1/issues", &c.sup).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 0);
}

async fn concurrent_filings_get_distinct_consecutive_numbers(db: Db) {
    let c = County::new(db).await;
    let filings = (0..12).map(|i| {
        c.file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "other", "title": format!("t{i}"), "description": "d" }))
    });
    let results = futures_util::future::join_all(filings).await;
    let mut numbers = BTreeSet::new();
    for r in &results {
        numbers.insert(r.assert_status(201)["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 12, "duplicate numbers: {numbers:?}");
    let seqs: Vec<u32> = numbers.iter().map(|n| n[5..].parse().unwrap()).collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<u32>>());
}

/// Of two racing requests exactly one succeeds and the other is told 409; true when the
/// first won.
fn exactly_one_winner(round: usize, a: &crate::helpers::Resp, b: &crate::helpers::Resp) -> bool {
    let wins = [a.status, b.status].iter().filter(|s| **s == 200).count();
    assert_eq!(wins, 1, "round {round}: {} / {}", a.text, b.text);
    let loser = if a.status == 200 { b } else { a };
    assert_eq!(loser.status, 409, "round {round}: {}", loser.text);
    a.status == 200
}

async fn two_acknowledgements_at_once_have_exactly_one_winner(db: Db) {
    let c = County::new(db).await;
    for round in 0..8 {
        let id = c.file(&format!("race {round}")).await;
        let (a, b) = tokio::join!(
            c.act(&c.staff_a, id, json!({ "action": "acknowledge" })),
            c.act(&c.head_a, id, json!({ "action": "acknowledge" })),
        );
        exactly_one_winner(round, &a, &b);
        let events = c
            .app
            .get(&format!("/api/v1/issues/{id}/events"), &c.sup)
            .await;
        let acks = events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "acknowledge")
            .count();
        assert_eq!(
            acks, 1,
            "round {round}: one acknowledgement in the timeline"
        );
    }
}

async fn a_resolve_racing_a_withdraw_has_exactly_one_winner(db: Db) {
    let c = County::new(db).await;
    for round in 0..8 {
        let id = c.file(&format!("race {round}")).await;
        c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
            .await;
        let (a, b) = tokio::join!(
            c.act(
                &c.staff_a,
                id,
                json!({ "action": "resolve", "comment": "done" })
            ),
            c.act(&c.obs1, id, json!({ "action": "withdraw" })),
        );
        let a_won = exactly_one_winner(round, &a, &b);
        let now = c.issue(&c.sup, id).await;
        let expected = if a_won { "resolved" } else { "withdrawn" };
        assert_eq!(now.body["status"], expected);
    }
}

/// Without If-Match a caller asks for the step on whatever the issue is now: two such steps
/// at one moment are applied one after the other, never refused for each other.
async fn steps_that_keep_the_state_queue_at_the_same_moment_instead_of_failing(db: Db) {
    let c = County::new(db).await;
    let id = c.file("chased from all sides").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let chases = (0..6).map(|i| {
        c.act(
            &c.sup,
            id,
            json!({ "action": "chase", "comment": format!("催办 {i}") }),
        )
    });
    let path = format!("/api/v1/issues/{id}/comments");
    let comments = (0..3).map(|i| {
        c.app.post(
            &path,
            Some(&c.obs1),
            json!({ "body": format!("现场补充 {i}") }),
        )
    });
    let (chased, commented) = tokio::join!(
        futures_util::future::join_all(chases),
        futures_util::future::join_all(comments)
    );
    for r in &chased {
        r.assert_status(200);
    }
    for r in &commented {
        r.assert_status(201);
    }
    let kinds = c.event_kinds(&c.sup, id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "chase").count(), 6);
    assert_eq!(kinds.iter().filter(|k| *k == "comment").count(), 3);
}

async fn a_stale_if_match_is_refused_with_412(db: Db) {
    let c = County::new(db).await;
    let id = c.file("etag").await;
    let tag = c.issue(&c.staff_a, id).await.header("etag").unwrap();
    let body = || {
        Some((
            "application/json",
            json!({ "action": "acknowledge" }).to_string(),
        ))
    };
    let path = format!("/api/v1/issues/{id}/transitions");
    let ok = c
        .app
        .send(
            "POST",
            &path,
            Some(&c.staff_a),
            &[("If-Match", &tag)],
            body(),
        )
        .await;
    ok.assert_status(200);
    assert_ne!(ok.header("etag").unwrap(), tag);
    let stale = c
        .app
        .send(
            "POST",
            &path,
            Some(&c.staff_a),
            &[("If-Match", &tag)],
            Some((
                "application/json",
                json!({ "action": "resolve", "comment": "x" }).to_string(),
            )),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(c.issue(&c.sup, id).await.body["status"], "in_progress");
    // A comment does not change the issue's ETag.
    let tag = c.issue(&c.staff_a, id).await.header("etag").unwrap();
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.obs1),
            json!({ "body": "进展如何？" }),
        )
        .await
        .assert_status(201);
    assert_eq!(c.issue(&c.staff_a, id).await.header("etag").unwrap(), tag);
}

async fn paging_loses_and_repeats_nothing_while_issues_are_filed(db: Db) {
    let c = County::new(db).await;
    let mut before = BTreeSet::new();
    for i in 0..13 {
        before.insert(c.file(&format!("before {i}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut filed_during = 0;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/issues?limit=4&cursor={cur}"),
            None => "/api/v1/issues?limit=4".to_string(),
        };
        let page = c.app.get(&path, &c.staff_a).await;
        for item in page.assert_status(200)["items"].as_array().unwrap() {
            seen.push(item["id"].as_i64().unwrap());
        }
        // New issues arrive between pages.
        c.file(&format!("during {filed_during}")).await;
        filed_during += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "an issue was listed twice: {seen:?}"
    );
    assert!(
        before.is_subset(&unique),
        "an issue was lost: {before:?} vs {seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
}

async fn list_filters_narrow_the_result(db: Db) {
    let c = County::new(db).await;
    let a = c.file("a").await;
    let b = c.file("b").await;
    c.step(&c.staff_a, b, json!({ "action": "acknowledge" }))
        .await;
    let q = c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "q", "description": "d" })).await;
    let q = q.assert_status(201)["id"].as_i64().unwrap();
    let ids = |path: String| {
        let c = &c;
        async move {
            let r = c.app.get(&path, &c.sup).await;
            r.assert_status(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("/api/v1/issues?status=assigned".into()).await, vec![a]);
    assert_eq!(
        ids("/api/v1/issues?status=in_progress".into()).await,
        vec![b]
    );
    assert_eq!(
        ids(format!("/api/v1/issues?project_id={}", c.project_q)).await,
        vec![q]
    );
    assert_eq!(
        ids(format!("/api/v1/issues?department_id={}", c.dept_a)).await,
        vec![b, a]
    );
    assert_eq!(
        ids(format!("/api/v1/issues?reporter_id={}", c.obs1_id)).await,
        vec![q, b, a]
    );
    assert_eq!(
        ids("/api/v1/issues?overdue=true".into()).await,
        Vec::<i64>::new()
    );
    for bad in ["status=open", "overdue=maybe", "project_id=x", "limit=0"] {
        c.app
            .get(&format!("/api/v1/issues?{bad}"), &c.sup)
            .await
            .assert_problem(400, "invalid_query");
    }
}

async fn the_supervisors_desk_filters_find_pending_extensions_escalations_and_returns(db: Db) {
    let c = County::new(db).await;
    let plain = c.file("plain").await;
    let extended = c.file("extension asked").await;
    let escalated = c.file("escalated").await;
    let returned = c.file("returned").await;
    c.step(
        &c.staff_a,
        extended,
        json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 480 }),
    )
    .await;
    c.step(
        &c.sup,
        escalated,
        json!({ "action": "escalate", "comment": "督办" }),
    )
    .await;
    c.step(
        &c.staff_a,
        returned,
        json!({ "action": "return", "comment": "不属本单位" }),
    )
    .await;
    let ids = |token: &str, query: &str| {
        let c = &c;
        let (token, path) = (token.to_string(), format!("/api/v1/issues?{query}"));
        async move {
            c.app.get(&path, &token).await.assert_status(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(&c.sup, "extension_pending=true").await, vec![extended]);
    assert_eq!(ids(&c.sup, "escalated=true").await, vec![escalated]);
    assert_eq!(
        ids(&c.sup, "returned=true&status=unassigned").await,
        vec![returned]
    );
    assert_eq!(
        ids(
            &c.sup,
            "extension_pending=false&escalated=false&returned=false"
        )
        .await,
        vec![plain]
    );
    // A department sees its own marks; a denied request is no longer pending.
    assert_eq!(
        ids(&c.staff_a, "extension_pending=true").await,
        vec![extended]
    );
    c.step(&c.sup, extended, json!({ "action": "deny_extension" }))
        .await;
    assert_eq!(
        ids(&c.sup, "extension_pending=true").await,
        Vec::<i64>::new()
    );
    // The marks are internal: an observer may not even ask.
    for q in ["extension_pending=true", "escalated=false", "returned=true"] {
        c.app
            .get(&format!("/api/v1/issues?{q}"), &c.obs1)
            .await
            .assert_problem(403, "forbidden");
    }
    c.app
        .get("/api/v1/issues?returned=yes", &c.sup)
        .await
        .assert_problem(400, "invalid_query");
}

async fn reopen_extension_escalation_and_chase_leave_their_marks(db: Db) {
    let c = County::new(db).await;
    let id = c.file("marks").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let ext = c.step(&c.staff_a, id, json!({ "action": "request_extension", "comment": "需协调电力公司", "extension_minutes": 2880 })).await;
    assert_eq!(ext["extension_requested_minutes"], 2880);
    c.act(
        &c.staff_a,
        id,
        json!({ "action": "request_extension", "comment": "again", "extension_minutes": 10 }),
    )
    .await
    .assert_problem(409, "invalid_transition");
    let denied = c
        .step(
            &c.sup,
            id,
            json!({ "action": "deny_extension", "comment": "不予延期" }),
        )
        .await;
    assert_eq!(
        denied["extension_requested_minutes"],
        serde_json::Value::Null
    );
    c.act(&c.sup, id, json!({ "action": "approve_extension" }))
        .await
        .assert_problem(409, "invalid_transition");
    let esc = c
        .step(
            &c.sup,
            id,
            json!({ "action": "escalate", "comment": "督办" }),
        )
        .await;
    assert_eq!(esc["escalation_level"], 1);
    c.step(
        &c.sup,
        id,
        json!({ "action": "chase", "comment": "请于本周内办结" }),
    )
    .await;
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "resolve", "comment": "已办结" }),
    )
    .await;
    let reopened = c
        .step(
            &c.obs1,
            id,
            json!({ "action": "reopen", "comment": "并未解决" }),
        )
        .await;
    assert_eq!(reopened["status"], "in_progress");
    assert_eq!(reopened["reopen_count"], 1);
    assert_eq!(reopened["resolved_at"], serde_json::Value::Null);
    let head_assigns = c
        .step(
            &c.head_a,
            id,
            json!({ "action": "assign", "assignee_id": c.staff_a_id }),
        )
        .await;
    assert_eq!(head_assigns["assignee_id"], c.staff_a_id);
    // Supervisors see every step; the observer sees none of the internal ones.
    let kinds = c.event_kinds(&c.sup, id).await;
    assert_eq!(
        kinds,
        vec![
            "filed",
            "routed",
            "acknowledge",
            "request_extension",
            "deny_extension",
            "escalate",
            "chase",
            "resolve",
            "reopen",
            "assign"
        ]
    );
    let kinds = c.event_kinds(&c.obs1, id).await;
    assert_eq!(
        kinds,
        vec![
            "filed",
            "routed",
            "acknowledge",
            "resolve",
            "reopen",
            "assign"
        ]
    );
    // Fields that belong to other actions are refused.
    let r = c
        .act(
            &c.staff_a,
            id,
            json!({ "action": "request_info", "comment": "?", "rating": 3 }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "rating");
    c.act(&c.obs1, id, json!({ "action": "fly" }))
        .await
        .assert_problem(422, "validation_failed");
}
