//! The SLA engine end to end: policies and calendars over HTTP, deadlines on issues, and
//! the worker firing warnings, breaches, escalations and auto-closes exactly once, across a
//! restart.

use std::time::Duration;

use chrono::{Datelike, NaiveDateTime};
use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    policies_and_calendars_are_read_by_all_and_set_by_supervisors,
    a_filed_issue_carries_working_time_deadlines_on_the_official_calendar,
    warning_breach_escalation_and_auto_close_each_fire_once_across_a_restart,
    waiting_for_information_pauses_the_resolve_clock,
    every_page_counts_paused_clocks_from_when_they_stopped_and_shows_when_resolved_issues_close,
    reopening_and_extensions_move_the_resolve_deadline,
    a_calendar_change_moves_running_deadlines,
    two_instances_on_one_database_fire_each_timer_once,
    a_timer_fired_twice_is_recorded_once,
    a_state_the_service_does_not_know_is_an_error_never_a_default,
    the_department_hears_the_yellow_card_and_heads_and_supervisors_the_red,
    an_extension_must_be_asked_for_before_the_resolve_deadline,
    filing_and_dispatch_start_four_timers_at_the_deadlines_the_issue_shows,
    rules_changed_through_one_instance_apply_to_the_next_filing_through_another,
);

/// What an issue's stored timers are, by kind, oldest kind name first.
async fn timers_of(c: &County, id: i64) -> Vec<(String, NaiveDateTime, bool)> {
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    store
        .read(move |conn| {
            use diesel::prelude::*;
            use observer_desk::db::schema::sla_timers;
            Ok(sla_timers::table
                .filter(sla_timers::issue_id.eq(id))
                .select((
                    sla_timers::kind,
                    sla_timers::due_at,
                    sla_timers::fired_at.is_null(),
                ))
                .order(sla_timers::kind.asc())
                .load::<(String, NaiveDateTime, bool)>(conn)?)
        })
        .await
        .unwrap()
}

async fn filing_and_dispatch_start_four_timers_at_the_deadlines_the_issue_shows(db: Db) {
    let c = County::new(db).await;
    // Filed straight to department A: the answer to the filing already carries the clocks.
    let filed = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "approval_delay", "title": "straight in", "description": "d" }))
        .await;
    let answer = filed.assert_status(201).clone();
    let id = answer["id"].as_i64().unwrap();
    let read = c.issue(&c.obs1, id).await.body;
    for field in ["ack_due_at", "resolve_due_at", "version", "status"] {
        assert_eq!(answer[field], read[field], "{field}");
    }
    for clock in ["acknowledge", "resolve"] {
        assert_eq!(answer["sla"][clock]["due_at"], read["sla"][clock]["due_at"]);
        assert_eq!(answer["sla"][clock]["state"], "running");
    }
    // Unrouted, then dispatched by a supervisor: the other way a clock starts.
    let queued = c.file_as(&c.obs1, json!({ "project_id": c.project_q, "category": "other", "title": "queued", "description": "d" })).await;
    let queued = queued.assert_status(201)["id"].as_i64().unwrap();
    assert!(timers_of(&c, queued).await.is_empty());
    c.step(
        &c.sup,
        queued,
        json!({ "action": "dispatch", "department_id": c.dept_b }),
    )
    .await;
    for id in [id, queued] {
        let issue = c.issue(&c.sup, id).await.body;
        let timers = timers_of(&c, id).await;
        let kinds: Vec<&str> = timers.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            kinds,
            ["ack_breach", "ack_warn", "resolve_breach", "resolve_warn"]
        );
        assert!(timers.iter().all(|t| t.2), "none has fired yet");
        let due = |kind: &str| timers.iter().find(|t| t.0 == kind).unwrap().1;
        assert_eq!(due("ack_breach"), parse(&issue["ack_due_at"]));
        assert_eq!(due("resolve_breach"), parse(&issue["resolve_due_at"]));
        assert!(due("ack_warn") < due("ack_breach"));
        assert!(due("resolve_warn") < due("resolve_breach"));
    }
}

async fn an_extension_must_be_asked_for_before_the_resolve_deadline(db: Db) {
    let c = fast_county(db).await;
    // Resolve within 1.2 s of working time (round the clock).
    set_policy(&c, 0.01, 0.02, 50, 5.0).await;
    let late = c.file("too late to ask").await;
    c.step(&c.staff_a, late, json!({ "action": "acknowledge" }))
        .await;
    let due = parse(&c.issue(&c.sup, late).await.body["resolve_due_at"]);
    while chrono::Utc::now().naive_utc() <= due + chrono::Duration::milliseconds(200) {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let r = c.act(&c.staff_a, late, json!({ "action": "request_extension", "comment": "来不及了", "extension_minutes": 60 })).await;
    r.assert_problem(409, "invalid_transition");
    assert_eq!(
        c.issue(&c.sup, late).await.body["extension_requested_minutes"],
        Value::Null
    );
    // In time, it is accepted.
    set_policy(&c, 30.0, 60.0, 80, 5.0).await;
    let early = c.file("in time").await;
    c.step(&c.staff_a, early, json!({ "action": "acknowledge" }))
        .await;
    let ok = c
        .step(
            &c.staff_a,
            early,
            json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 60 }),
        )
        .await;
    assert_eq!(ok["extension_requested_minutes"], 60);
}

async fn feed(c: &County, token: &str, query: &str) -> Value {
    c.app
        .get(&format!("/api/v1/notifications{query}"), token)
        .await
        .assert_status(200)
        .clone()
}

fn kinds_for(feed: &Value, issue: i64) -> Vec<String> {
    let mut k: Vec<String> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["issue_id"] == issue && n["kind"].as_str().unwrap().starts_with("sla_"))
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

async fn the_department_hears_the_yellow_card_and_heads_and_supervisors_the_red(db: Db) {
    let c = fast_county(db).await;
    set_policy(&c, 0.02, 0.04, 50, 5.0).await;
    // The head reads English.
    let head_id = c.app.get("/api/v1/me", &c.head_a).await.body["id"]
        .as_i64()
        .unwrap();
    c.app
        .patch(
            &format!("/api/v1/users/{head_id}"),
            &c.admin,
            json!({ "locale": "en" }),
        )
        .await
        .assert_status(200);
    let id = c.file("heard").await;
    wait_for(&c, id, Duration::from_secs(20), |e| {
        count(e, "sla_breach", Some("resolve")) >= 1
    })
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let staff = feed(&c, &c.staff_a, "").await;
    assert_eq!(
        kinds_for(&staff, id),
        vec!["sla_warning", "sla_warning"],
        "the clerk hears both yellow cards"
    );
    let head = feed(&c, &c.head_a, "?limit=200").await;
    let head_kinds = kinds_for(&head, id);
    assert_eq!(
        head_kinds.iter().filter(|k| *k == "sla_breach").count(),
        2,
        "{head_kinds:?}"
    );
    let breach = head["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "sla_breach")
        .unwrap();
    let spec: Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let props = spec["components"]["schemas"]["Notification"]["properties"]
        .as_object()
        .unwrap();
    assert!(
        breach
            .as_object()
            .unwrap()
            .keys()
            .all(|k| props.contains_key(k)),
        "Notification drifted from openapi.yaml"
    );
    assert!(
        breach["title"]
            .as_str()
            .unwrap()
            .starts_with("Red card: issue 20"),
        "{breach}"
    );
    let sup = feed(&c, &c.sup, "?limit=200").await;
    assert_eq!(
        kinds_for(&sup, id)
            .iter()
            .filter(|k| *k == "sla_breach")
            .count(),
        2
    );
    assert!(
        sup["items"][0]["title"].as_str().unwrap().contains("红牌")
            || sup["items"][0]["title"].as_str().unwrap().contains("督办")
    );
    // Observers are not told of departments' cards; other departments hear nothing.
    assert!(kinds_for(&feed(&c, &c.obs1, "").await, id).is_empty());
    assert_eq!(feed(&c, &c.staff_b, "").await["unread_count"], 0);

    // Unread counts, marking read, and nobody reads another's notification.
    // The clerk also heard of the new assignment.
    let before = staff["unread_count"].as_i64().unwrap();
    assert_eq!(before, 3);
    let first = staff["items"][0]["id"].as_i64().unwrap();
    c.app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&c.head_a),
            json!({}),
        )
        .await
        .assert_problem(404, "not_found");
    let r = c
        .app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&c.staff_a),
            json!({}),
        )
        .await;
    assert_eq!(r.assert_status(200)["unread_count"], 2);
    let unread = feed(&c, &c.staff_a, "?unread=true").await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 2);
    assert_eq!(unread["unread_count"], 2);
    let r = c
        .app
        .post(
            "/api/v1/notifications/read-all",
            Some(&c.staff_a),
            json!({}),
        )
        .await;
    assert_eq!(r.assert_status(200)["unread_count"], 0);
    assert_eq!(
        feed(&c, &c.staff_a, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "read ones stay in the feed"
    );
    c.app
        .get("/api/v1/notifications?unread=maybe", &c.staff_a)
        .await
        .assert_problem(400, "invalid_query");
}

async fn a_state_the_service_does_not_know_is_an_error_never_a_default(db: Db) {
    let c = County::new(db).await;
    let id = c.file("odd state").await;
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    // Someone edits the database by hand: a status and a timer kind nobody knows.
    store
        .write(move |conn| {
            use diesel::prelude::*;
            use observer_desk::db::schema::issues;
            // Written through the typed column first (what the service does)...
            diesel::update(issues::table.find(id))
                .set(issues::status.eq(observer_desk::domain::issue::Status::Resolved))
                .execute(conn)?;
            // ...then by hand, with texts no enum knows.
            diesel::sql_query(format!(
                "UPDATE sla_timers SET kind = 'ack_whenever' WHERE issue_id = {id}"
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "UPDATE issues SET status = 'half_done' WHERE id = {id}"
            ))
            .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let read = store
        .read(move |conn| Ok(observer_desk::db::issues::find(conn, id)?))
        .await;
    let e = read.expect_err("an unknown status is not read as some other status");
    assert_eq!(e.code, observer_desk::error::ErrorCode::Internal, "{e}");
    let timers = store
        .read(move |conn| {
            Ok(observer_desk::db::sla::due(
                conn,
                observer_desk::db::now() + chrono::TimeDelta::days(400),
                10,
            )?)
        })
        .await;
    assert!(
        timers.is_err(),
        "an unknown timer kind is not read as another kind"
    );
    // Over HTTP: a 500 problem, not a wrong answer.
    c.app
        .get(&format!("/api/v1/issues/{id}"), &c.sup)
        .await
        .assert_problem(500, "internal_error");
}

async fn a_timer_fired_twice_is_recorded_once(db: Db) {
    let c = County::new(db).await;
    let id = c.file("fired twice").await;
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    // The acknowledge warning, hours away: fire it by hand, twice, as two workers might.
    let timer = store
        .read(move |conn| {
            use diesel::prelude::*;
            use observer_desk::db::schema::sla_timers;
            Ok(sla_timers::table
                .filter(sla_timers::issue_id.eq(id))
                .filter(sla_timers::kind.eq("ack_warn"))
                .select(sla_timers::id)
                .first::<i64>(conn)?)
        })
        .await
        .unwrap();
    let now = observer_desk::db::now();
    let first = store
        .write(move |conn| observer_desk::workflow::timers::fire(conn, timer, now))
        .await
        .unwrap();
    let second = store
        .write(move |conn| observer_desk::workflow::timers::fire(conn, timer, now))
        .await
        .unwrap();
    assert!(first && !second, "first {first}, second {second}");
    assert_eq!(
        count(&events(&c, id).await, "sla_warning", Some("acknowledge")),
        1
    );
}

async fn two_instances_on_one_database_fire_each_timer_once(db: Db) {
    let c = fast_county(db).await;
    let other = c.app.sibling().await;
    set_policy(&c, 0.02, 0.04, 50, 0.00002).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(c.file(&format!("two workers {i}")).await);
    }
    for id in &ids {
        let e = wait_for(&c, *id, Duration::from_secs(20), |e| {
            count(e, "sla_breach", Some("resolve")) >= 1
        })
        .await;
        for (kind, clock) in [
            ("sla_warning", "acknowledge"),
            ("sla_breach", "acknowledge"),
            ("sla_warning", "resolve"),
            ("sla_breach", "resolve"),
        ] {
            assert_eq!(
                count(&e, kind, Some(clock)),
                1,
                "issue {id}: {kind} {clock}: {e:?}"
            );
        }
    }
    other.stop(true).await;
}

fn parse(ts: &Value) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(ts.as_str().expect("timestamp"))
        .expect("rfc3339")
        .naive_utc()
}

/// Every day, all day, in UTC: working time equals wall time.
fn round_the_clock() -> Value {
    json!({ "timezone": "UTC", "weekdays": [1, 2, 3, 4, 5, 6, 7], "hours": [["00:00", "24:00"]], "holidays": [], "workdays": [] })
}

/// Sets this year's and next year's calendars open all day, every day.
async fn round_the_clock_this_year_and_next(c: &County) {
    let year = chrono::Utc::now().year();
    for y in [year, year + 1] {
        c.app
            .request(
                "PUT",
                &format!("/api/v1/calendar/{y}"),
                Some(&c.sup),
                Some(&round_the_clock()),
            )
            .await
            .assert_status(200);
    }
}

/// A county whose clocks run all the time, with a fast worker.
pub(crate) async fn fast_county(db: Db) -> County {
    let c = County::new_with(db, |s| s.sla_tick = Duration::from_millis(100)).await;
    round_the_clock_this_year_and_next(&c).await;
    c
}

pub(crate) async fn set_policy(
    c: &County,
    ack_minutes: f64,
    resolve_minutes: f64,
    warn_percent: i32,
    auto_close_days: f64,
) {
    let body = json!([{
        "category": "approval_delay", "priority": "normal",
        "ack_minutes": ack_minutes, "resolve_minutes": resolve_minutes,
        "warn_percent": warn_percent, "auto_close_days": auto_close_days,
    }]);
    c.app
        .request("PUT", "/api/v1/sla-policies", Some(&c.sup), Some(&body))
        .await
        .assert_status(200);
}

async fn events(c: &County, id: i64) -> Vec<Value> {
    c.app
        .get(&format!("/api/v1/issues/{id}/events"), &c.sup)
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn count(events: &[Value], kind: &str, clock: Option<&str>) -> usize {
    events
        .iter()
        .filter(|e| e["kind"] == kind && clock.is_none_or(|k| e["data"]["clock"] == k))
        .count()
}

/// Polls until `done` holds for the issue's events (at most `within`).
async fn wait_for(
    c: &County,
    id: i64,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let until = std::time::Instant::now() + within;
    loop {
        let e = events(c, id).await;
        if done(&e) || std::time::Instant::now() > until {
            return e;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn policies_and_calendars_are_read_by_all_and_set_by_supervisors(db: Db) {
    let c = County::new(db).await;
    let policies = c.app.get("/api/v1/sla-policies", &c.obs1).await;
    let list = policies.assert_status(200).as_array().unwrap().clone();
    assert_eq!(list.len(), 16, "every category in both priorities");
    let urgent = list
        .iter()
        .find(|p| p["category"] == "approval_delay" && p["priority"] == "urgent")
        .unwrap();
    assert_eq!(
        urgent["resolve_minutes"], 420.0,
        "urgent: the same working day"
    );
    let normal = list
        .iter()
        .find(|p| p["category"] == "approval_delay" && p["priority"] == "normal")
        .unwrap();
    assert_eq!(
        normal["ack_minutes"], 420.0,
        "acknowledged within a working day"
    );
    assert_eq!(normal["resolve_minutes"], 5.0 * 420.0);

    let body = json!([{ "category": "other", "priority": "urgent", "ack_minutes": 30, "resolve_minutes": 240, "warn_percent": 75, "auto_close_days": 2 }]);
    for token in [&c.obs1, &c.staff_a, &c.head_a] {
        c.app
            .request("PUT", "/api/v1/sla-policies", Some(token), Some(&body))
            .await
            .assert_problem(403, "forbidden");
    }
    let set = c
        .app
        .request("PUT", "/api/v1/sla-policies", Some(&c.sup), Some(&body))
        .await;
    let other = set
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "other" && p["priority"] == "urgent")
        .unwrap()
        .clone();
    assert_eq!(
        (
            other["ack_minutes"].as_f64(),
            other["warn_percent"].as_i64()
        ),
        (Some(30.0), Some(75))
    );
    let bad = json!([{ "category": "other", "priority": "urgent", "ack_minutes": 0, "resolve_minutes": -5, "warn_percent": 150, "auto_close_days": 0 }]);
    let r = c
        .app
        .request("PUT", "/api/v1/sla-policies", Some(&c.sup), Some(&bad))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 4);

    let y2026 = c.app.get("/api/v1/calendar/2026", &c.staff_a).await;
    let y2026 = y2026.assert_status(200);
    assert_eq!(y2026["source"], "official");
    assert_eq!(y2026["fallback"], false);
    assert!(
        y2026["workdays"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-02-14")),
        "the make-up Saturday"
    );
    assert_eq!(
        y2026["hours"],
        json!([["08:30", "12:00"], ["14:30", "18:00"]])
    );
    let y2031 = c.app.get("/api/v1/calendar/2031", &c.staff_a).await;
    assert_eq!(y2031.body["fallback"], true);
    assert_eq!(y2031.body["weekdays"], json!([1, 2, 3, 4, 5]));
    let mut cal = y2031.body.clone();
    for k in ["year", "source", "fallback"] {
        cal.as_object_mut().unwrap().remove(k);
    }
    cal["holidays"] = json!(["2031-10-01"]);
    c.app
        .request("PUT", "/api/v1/calendar/2031", Some(&c.staff_a), Some(&cal))
        .await
        .assert_problem(403, "forbidden");
    let set = c
        .app
        .request("PUT", "/api/v1/calendar/2031", Some(&c.sup), Some(&cal))
        .await;
    assert_eq!(set.assert_status(200)["source"], "custom");
    assert_eq!(
        c.app.get("/api/v1/calendar/2031", &c.obs1).await.body["holidays"],
        json!(["2031-10-01"])
    );
    cal["holidays"] = json!(["2030-10-01"]);
    c.app
        .request("PUT", "/api/v1/calendar/2031", Some(&c.sup), Some(&cal))
        .await
        .assert_problem(422, "validation_failed");
    cal["holidays"] = json!([]);
    cal["hours"] = json!([["18:00", "08:00"]]);
    c.app
        .request("PUT", "/api/v1/calendar/2031", Some(&c.sup), Some(&cal))
        .await
        .assert_problem(422, "validation_failed");
    c.app
        .get("/api/v1/calendar/1999", &c.sup)
        .await
        .assert_problem(400, "invalid_path_parameter");
}

async fn a_filed_issue_carries_working_time_deadlines_on_the_official_calendar(db: Db) {
    let c = County::new(db).await;
    let id = c.file("deadlines").await;
    let issue = c.issue(&c.obs1, id).await.body;
    let created = parse(&issue["created_at"]);
    let (ack, resolve) = (parse(&issue["ack_due_at"]), parse(&issue["resolve_due_at"]));
    // Whatever the hour now, a working day of acknowledgement is at least 7 wall hours away.
    assert!(
        ack - created >= chrono::Duration::hours(7),
        "{created} → {ack}"
    );
    assert!(resolve > ack);
    assert_eq!(issue["sla"]["acknowledge"]["state"], "running");
    assert_eq!(issue["sla"]["resolve"]["state"], "running");
    let left = issue["sla"]["acknowledge"]["remaining_seconds"]
        .as_i64()
        .unwrap();
    assert!(
        (7 * 3600 - 60..=7 * 3600).contains(&left),
        "working time left {left}"
    );
    let acked = c
        .step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    assert_eq!(acked["sla"]["acknowledge"]["state"], "met");
    assert_eq!(
        acked["sla"]["acknowledge"]["remaining_seconds"],
        Value::Null
    );
}

async fn warning_breach_escalation_and_auto_close_each_fire_once_across_a_restart(db: Db) {
    let c = fast_county(db).await;
    // 3 s to acknowledge, 6 s to resolve, warnings at half time; escalation every 6 s.
    set_policy(&c, 0.05, 0.1, 50, 0.00005).await;
    let late = c.file("nobody answers").await;
    let met = c.file("answered at once").await;
    c.step(&c.staff_a, met, json!({ "action": "acknowledge" }))
        .await;
    c.step(
        &c.staff_a,
        met,
        json!({ "action": "resolve", "comment": "已办结" }),
    )
    .await;

    // Down before anything fell due, and down long enough for the breaches to fall due.
    let c = c.restart_after(Duration::from_secs(7)).await;
    let e = wait_for(&c, late, Duration::from_secs(30), |e| {
        count(e, "sla_escalation", None) >= 1
    })
    .await;
    assert_eq!(count(&e, "sla_warning", Some("acknowledge")), 1, "{e:?}");
    assert_eq!(count(&e, "sla_warning", Some("resolve")), 1, "{e:?}");
    assert_eq!(count(&e, "sla_breach", Some("acknowledge")), 1, "{e:?}");
    assert_eq!(count(&e, "sla_breach", Some("resolve")), 1, "{e:?}");
    let escalations = count(&e, "sla_escalation", None);
    assert!(escalations >= 1);
    let issue = c.issue(&c.sup, late).await.body;
    assert_eq!(issue["overdue"], true);
    assert!(issue["escalation_level"].as_i64().unwrap() >= 2);
    assert_eq!(issue["sla"]["resolve"]["state"], "breached");
    assert!(
        issue["sla"]["resolve"]["remaining_seconds"]
            .as_i64()
            .unwrap()
            < 0,
        "overdue by"
    );
    // The observer sees the red card, not the department's yellow ones.
    let mine = c
        .app
        .get(&format!("/api/v1/issues/{late}/events"), &c.obs1)
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(count(&mine, "sla_breach", None), 2);
    assert_eq!(count(&mine, "sla_warning", None), 0);

    // The resolved issue nobody confirmed closed by itself, once, and was never late.
    let e = wait_for(&c, met, Duration::from_secs(20), |e| {
        count(e, "auto_close", None) >= 1
    })
    .await;
    assert_eq!(count(&e, "auto_close", None), 1);
    assert_eq!(count(&e, "sla_breach", None), 0);
    let closed = c.issue(&c.obs1, met).await.body;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["sla"]["resolve"]["state"], "met");

    // Another restart repeats nothing.
    let c = c.restart_after(Duration::from_millis(200)).await;
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let after = events(&c, late).await;
    for (kind, clock) in [
        ("sla_warning", "acknowledge"),
        ("sla_warning", "resolve"),
        ("sla_breach", "acknowledge"),
        ("sla_breach", "resolve"),
    ] {
        assert_eq!(
            count(&after, kind, Some(clock)),
            1,
            "{kind} {clock} after a second restart"
        );
    }
    assert_eq!(count(&events(&c, met).await, "auto_close", None), 1);
}

async fn waiting_for_information_pauses_the_resolve_clock(db: Db) {
    let c = fast_county(db).await;
    set_policy(&c, 30.0, 60.0, 80, 5.0).await;
    let id = c.file("paused").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let before = parse(&c.issue(&c.sup, id).await.body["resolve_due_at"]);
    let waiting = c
        .step(
            &c.staff_a,
            id,
            json!({ "action": "request_info", "comment": "请补充材料" }),
        )
        .await;
    assert_eq!(waiting["sla"]["resolve"]["state"], "paused");
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let frozen = c.issue(&c.sup, id).await.body["sla"]["resolve"]["remaining_seconds"]
        .as_i64()
        .unwrap();
    let again = c.issue(&c.sup, id).await.body["sla"]["resolve"]["remaining_seconds"]
        .as_i64()
        .unwrap();
    assert_eq!(frozen, again, "a paused clock does not run");
    let resumed = c
        .step(
            &c.obs1,
            id,
            json!({ "action": "provide_info", "comment": "已补充" }),
        )
        .await;
    let after = parse(&resumed["resolve_due_at"]);
    let added = (after - before).num_milliseconds();
    assert!(
        (1_000..=4_000).contains(&added),
        "the waiting time (whole working seconds) is added back: {added} ms"
    );
    assert_eq!(resumed["sla"]["resolve"]["state"], "running");
}

/// A page reads the clock marks of the paused and resolved issues among its issues (the
/// others' views do not show them): each shows them as the issue's own read does, however
/// many a page holds and wherever they stand in it.
async fn every_page_counts_paused_clocks_from_when_they_stopped_and_shows_when_resolved_issues_close(
    db: Db,
) {
    let c = fast_county(db).await;
    set_policy(&c, 30.0, 60.0, 80, 5.0).await;
    let mut marked = Vec::new();
    for (n, action) in [
        "request_info",
        "resolve",
        "",
        "request_info",
        "resolve",
        "request_info",
    ]
    .into_iter()
    .enumerate()
    {
        let id = c.file(&format!("第{n}件")).await;
        if action.is_empty() {
            continue;
        }
        c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
            .await;
        c.step(
            &c.staff_a,
            id,
            json!({ "action": action, "comment": "办理中" }),
        )
        .await;
        marked.push(id);
    }
    // Every second of this county's calendar is working time: a paused clock counted from
    // now would be a second or two short of one counted from when it stopped.
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    for (who, token) in [
        ("clerk", &c.staff_a),
        ("supervisor", &c.sup),
        ("reporter", &c.obs1),
    ] {
        let r = c
            .app
            .request("GET", "/api/v1/issues?limit=50", Some(token), None)
            .await;
        let page = r.assert_status(200);
        for &id in &marked {
            let listed = page["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["id"] == id))
                .unwrap_or_else(|| panic!("{who}'s page lists issue {id}: {page}"));
            let own = c.issue(token, id).await;
            assert_eq!(listed["sla"], own.body["sla"], "{who}'s page, issue {id}");
            let sla = &listed["sla"];
            assert!(
                sla["resolve"]["state"] == "paused" || sla["auto_close_at"].is_string(),
                "{who}: issue {id} is paused or closes by itself: {sla}"
            );
        }
    }
}

async fn reopening_and_extensions_move_the_resolve_deadline(db: Db) {
    let c = fast_county(db).await;
    set_policy(&c, 30.0, 60.0, 80, 5.0).await;
    let id = c.file("extended").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let before = parse(&c.issue(&c.sup, id).await.body["resolve_due_at"]);
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 90 }),
    )
    .await;
    let approved = c
        .step(&c.sup, id, json!({ "action": "approve_extension" }))
        .await;
    assert_eq!(
        parse(&approved["resolve_due_at"]) - before,
        chrono::Duration::minutes(90)
    );
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "resolve", "comment": "已办结" }),
    )
    .await;
    let resolved = c.issue(&c.sup, id).await.body;
    assert!(resolved["sla"]["auto_close_at"].is_string());
    let reopened = c
        .step(
            &c.obs1,
            id,
            json!({ "action": "reopen", "comment": "未解决" }),
        )
        .await;
    let new_due = parse(&reopened["resolve_due_at"]);
    let since = parse(&reopened["updated_at"]);
    assert_eq!(
        new_due - since,
        chrono::Duration::minutes(150),
        "a new deadline from the reopening, with the extension"
    );
    assert_eq!(reopened["sla"]["resolve"]["state"], "running");
    assert_eq!(reopened["sla"]["auto_close_at"], Value::Null);
}

/// Each instance holds the rules a filing follows as last read. A routing rule, a policy and
/// a calendar set through one instance still apply to the very next filing through another.
async fn rules_changed_through_one_instance_apply_to_the_next_filing_through_another(db: Db) {
    let c = County::new(db).await;
    let dept_c = c.app.create_department(&c.admin, "CCC").await;
    let (other, at) = c.app.sibling_at().await;
    // Files an issue through the other instance: (department, ack and resolve time in hours).
    let file = || {
        let (client, url, token) = (
            c.app.client.clone(),
            format!("{at}/api/v1/issues"),
            c.obs1.clone(),
        );
        let body = json!({ "project_id": c.project_p, "milestone_id": c.milestone_m, "category": "utility_supply", "title": "t", "description": "d" });
        async move {
            let mut res = client
                .post(url)
                .bearer_auth(token)
                .send_json(&body)
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 201);
            let issue: Value = res.json().await.unwrap();
            let created = parse(&issue["created_at"]);
            let hours = |at: &Value| (parse(at) - created).num_minutes() as f64 / 60.0;
            (
                issue["department_id"].as_i64().unwrap(),
                hours(&issue["ack_due_at"]),
                hours(&issue["resolve_due_at"]),
            )
        }
    };
    // The other instance reads the rules as they are: the milestone's department, a
    // resolve deadline of 70 working hours on the official calendar.
    let (department, _, resolve_before) = file().await;
    assert_eq!(department, c.dept_b);
    assert!(resolve_before > 70.0, "{resolve_before} hours");

    // Through the first instance, one change at a time, each seen by the next filing
    // through the other: a rule,
    c.app
        .post(
            "/api/v1/routing-rules",
            Some(&c.sup),
            json!({ "category": "utility_supply", "park": "SME park", "department_id": dept_c }),
        )
        .await
        .assert_status(201);
    let (department, _, resolve) = file().await;
    assert_eq!((department, resolve), (dept_c, resolve_before));
    // a policy (10 working hours to resolve instead of 70),
    let policy = json!([{ "category": "utility_supply", "priority": "normal", "ack_minutes": 60, "resolve_minutes": 600, "warn_percent": 80, "auto_close_days": 5 }]);
    c.app
        .request("PUT", "/api/v1/sla-policies", Some(&c.sup), Some(&policy))
        .await
        .assert_status(200);
    let (_, _, resolve) = file().await;
    assert!(resolve < resolve_before, "{resolve} hours");
    // and a calendar open all day: an hour and ten, which 1 and 10 working hours would
    // not both be on any other.
    round_the_clock_this_year_and_next(&c).await;
    assert_eq!(file().await, (dept_c, 1.0, 10.0));

    // Deleting the rule through the first instance restores the milestone's department.
    let rules = c.app.get("/api/v1/routing-rules", &c.sup).await;
    let rule = rules.body["items"][0]["id"].as_i64().unwrap();
    let deleted = c
        .app
        .request(
            "DELETE",
            &format!("/api/v1/routing-rules/{rule}"),
            Some(&c.sup),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(file().await, (c.dept_b, 1.0, 10.0));
    other.stop(true).await;
}

async fn a_calendar_change_moves_running_deadlines(db: Db) {
    let c = County::new(db).await;
    let running = c.file("running").await;
    let acked = c.file("acknowledged").await;
    c.step(&c.staff_a, acked, json!({ "action": "acknowledge" }))
        .await;
    let before = c.issue(&c.sup, running).await.body;
    let acked_before = c.issue(&c.sup, acked).await.body;
    round_the_clock_this_year_and_next(&c).await;
    let after = c.issue(&c.sup, running).await.body;
    let created = parse(&after["created_at"]);
    // Round the clock, a working day of 7 hours is 7 wall hours.
    assert_eq!(
        parse(&after["ack_due_at"]) - created,
        chrono::Duration::hours(7)
    );
    assert_eq!(
        parse(&after["resolve_due_at"]) - created,
        chrono::Duration::hours(35)
    );
    assert_ne!(before["resolve_due_at"], after["resolve_due_at"]);
    // A met clock stays where it was met; a running one moves.
    let acked_after = c.issue(&c.sup, acked).await.body;
    assert_eq!(acked_before["ack_due_at"], acked_after["ack_due_at"]);
    assert_ne!(
        acked_before["resolve_due_at"],
        acked_after["resolve_due_at"]
    );
}
