//! Inspection filings (督查报备) and "no disturbance without cause": filing and who sees what,
//! matching a reported visit, frequency alerts, anonymous ratings.

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::{Db, Resp};
use crate::on_both_databases;

on_both_databases!(
    a_department_files_changes_cancels_and_records_inspections_and_each_role_sees_its_share,
    a_reported_visit_is_matched_within_the_window_and_an_unfiled_one_goes_to_the_supervisors,
    too_many_inspections_of_a_project_alert_once_per_threshold_a_joint_one_counting_once,
    ratings_are_given_once_by_observers_and_never_name_the_rater_on_any_route,
    the_reports_count_filings_unfiled_visits_alerts_and_ratings_exactly,
);

async fn the_reports_count_filings_unfiled_visits_alerts_and_ratings_exactly(db: Db) {
    let c = County::new(db).await;
    // Only a day's limit, so that the alerts are those of this data set's days.
    put(
        &c,
        &c.sup,
        json!({ "per_day": 1, "per_week": 100, "per_month": 100 }),
    )
    .await
    .assert_status(200);
    let t = today();
    let d = |n: i64| t + TimeDelta::days(n);
    let f1 = filed(&c, &c.staff_a, plan(&c, c.dept_a, t, &[c.dept_b])).await;
    c.app
        .patch(
            &format!("/api/v1/inspections/{f1}"),
            &c.staff_a,
            json!({ "status": "done", "outcome": "合格" }),
        )
        .await
        .assert_status(200);
    rate(&c, f1, &c.obs1, 4, "").await.assert_status(201);
    rate(&c, f1, &c.obs2, 2, "").await.assert_status(201);
    filed(&c, &c.staff_a, plan(&c, c.dept_a, d(1), &[])).await;
    let f3 = filed(&c, &c.staff_a, plan(&c, c.dept_a, d(2), &[])).await;
    c.app
        .patch(
            &format!("/api/v1/inspections/{f3}"),
            &c.staff_a,
            json!({ "status": "cancelled" }),
        )
        .await
        .assert_status(200);
    // A second filing on one day: the day's alert, counting one of A's and one of B's.
    filed(&c, &c.staff_b, plan(&c, c.dept_b, d(1), &[])).await;
    // B's unfiled visit three days ago, reported twice; an unnamed one five days ago.
    report_visit(&c, &c.obs1, Some(c.dept_b), d(-3)).await;
    report_visit(&c, &c.obs2, Some(c.dept_b), d(-3)).await;
    report_visit(&c, &c.obs1, None, d(-5)).await;
    assert_eq!(alerts(&c).await.len(), 1);

    let report = c
        .app
        .get(
            &format!("/api/v1/reports/departments?from={}&to={}", d(-10), d(10)),
            &c.sup,
        )
        .await;
    let rows = report.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    let row = |dept: i64| {
        rows.iter()
            .find(|r| r["department_id"] == dept)
            .cloned()
            .unwrap()
    };
    let figures = |r: &Value| {
        (
            r["inspections_filed"].as_i64().unwrap(),
            r["unfiled_visits"].as_i64().unwrap(),
            r["inspection_alerts"].as_i64().unwrap(),
            r["inspection_ratings"].as_i64().unwrap(),
            r["inspection_rating_avg"].as_f64(),
        )
    };
    assert_eq!(figures(&row(c.dept_a)), (2, 0, 1, 2, Some(3.0)));
    assert_eq!(figures(&row(c.dept_b)), (1, 1, 1, 0, None));

    // The month's bulletin: the county's totals, and each department's row as the report of
    // that month has it.
    let month = format!("{:04}-{:02}", t.year(), t.month());
    let bulletin = c
        .app
        .get(&format!("/api/v1/reports/monthly?month={month}"), &c.sup)
        .await;
    let b = bulletin.assert_status(200).clone();
    let first = t.with_day(1).unwrap();
    let last = if t.month() == 12 {
        NaiveDate::from_ymd_opt(t.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(t.year(), t.month() + 1, 1)
    }
    .unwrap()
        - TimeDelta::days(1);
    let in_month = |day: NaiveDate| first <= day && day <= last;
    let totals = &b["totals"]["inspections"];
    let filed_in_month = [t, d(1), d(1)].iter().filter(|x| in_month(**x)).count() as i64;
    let visits_in_month = [d(-3), d(-5)].iter().filter(|x| in_month(**x)).count() as i64;
    assert_eq!(totals["inspections_filed"], filed_in_month);
    assert_eq!(totals["unfiled_visits"], visits_in_month);
    assert_eq!(totals["inspection_alerts"], 1);
    assert_eq!(totals["inspection_ratings"], 2);
    assert_eq!(totals["inspection_rating_avg"], 3.0);
    let monthly = c
        .app
        .get(
            &format!("/api/v1/reports/departments?from={first}&to={last}"),
            &c.sup,
        )
        .await;
    let month_rows = monthly.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    for r in b["departments"].as_array().unwrap() {
        let same = month_rows
            .iter()
            .find(|m| m["department_id"] == r["department_id"])
            .unwrap();
        assert_eq!(figures(r), figures(same));
    }
}

fn today() -> NaiveDate {
    (chrono::Utc::now() + TimeDelta::hours(8)).date_naive()
}

fn plan(c: &County, dept: i64, on: NaiveDate, joint: &[i64]) -> Value {
    json!({
        "department_id": dept, "project_id": c.project_p, "planned_on": on.to_string(),
        "window_from": "09:00", "window_until": "11:30",
        "purpose": "安全生产检查", "basis": "《安全生产法》第六十五条",
        "inspectors": ["张检查", "李执法"], "joint_department_ids": joint,
    })
}

async fn file(c: &County, token: &str, body: Value) -> Resp {
    c.app.post("/api/v1/inspections", Some(token), body).await
}

async fn filed(c: &County, token: &str, body: Value) -> i64 {
    file(c, token, body).await.assert_status(201)["id"]
        .as_i64()
        .unwrap()
}

fn ids(r: &Resp) -> Vec<i64> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn a_department_files_changes_cancels_and_records_inspections_and_each_role_sees_its_share(
    db: Db,
) {
    let c = County::new(db).await;
    let tomorrow = today() + TimeDelta::days(1);
    let r = file(&c, &c.staff_a, plan(&c, c.dept_a, tomorrow, &[c.dept_b])).await;
    let body = r.assert_status(201).clone();
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["inspectors"], json!(["张检查", "李执法"]));
    assert_eq!(body["joint_department_ids"], json!([c.dept_b]));
    assert_eq!(body["status"], "planned");

    // Only a department's own staff and heads file for it, for today or later.
    file(&c, &c.staff_a, plan(&c, c.dept_b, tomorrow, &[]))
        .await
        .assert_problem(403, "forbidden");
    for token in [&c.obs1, &c.sup, &c.admin] {
        file(&c, token, plan(&c, c.dept_a, tomorrow, &[]))
            .await
            .assert_problem(403, "forbidden");
    }
    let r = file(
        &c,
        &c.head_a,
        plan(&c, c.dept_a, today() - TimeDelta::days(1), &[]),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "in_the_past");
    let mut own = plan(&c, c.dept_a, tomorrow, &[c.dept_a]);
    file(&c, &c.staff_a, own.clone())
        .await
        .assert_problem(422, "validation_failed");
    own["joint_department_ids"] = json!([]);
    own["project_id"] = json!(999_999);
    file(&c, &c.staff_a, own)
        .await
        .assert_problem(422, "validation_failed");
    let mut late = plan(&c, c.dept_a, tomorrow, &[]);
    late["window_from"] = json!("12:00");
    file(&c, &c.staff_a, late)
        .await
        .assert_problem(422, "validation_failed");

    // Who sees it: supervisors, the filing and the joining departments, the project's
    // observers (without the inspectors' names); nobody else.
    let path = format!("/api/v1/inspections/{id}");
    for token in [&c.sup, &c.staff_a, &c.staff_b, &c.head_b] {
        assert_eq!(ids(&c.app.get("/api/v1/inspections", token).await), [id]);
        c.app.get(&path, token).await.assert_status(200);
    }
    let seen = c.app.get(&path, &c.obs1).await;
    assert!(seen.assert_status(200).get("inspectors").is_none());
    assert_eq!(seen.body["purpose"], "安全生产检查");
    let listed = c.app.get("/api/v1/inspections", &c.obs1).await;
    assert!(listed.body["items"][0].get("inspectors").is_none());
    let dept_c = c.app.create_department(&c.admin, "CCC").await;
    let staff_c = c
        .app
        .user_token(&c.admin, "staff-c", "department_staff", Some(dept_c))
        .await;
    for token in [&c.obs3, &staff_c] {
        assert!(ids(&c.app.get("/api/v1/inspections", token).await).is_empty());
        c.app
            .get(&path, token)
            .await
            .assert_problem(404, "not_found");
    }

    // The filing department changes it (with If-Match) and cancels it; the joining one may not.
    c.app
        .patch(&path, &c.staff_b, json!({ "purpose": "改" }))
        .await
        .assert_problem(403, "forbidden");
    c.app
        .patch(&path, &staff_c, json!({ "purpose": "改" }))
        .await
        .assert_problem(404, "not_found");
    let r = c
        .app
        .send(
            "PATCH",
            &path,
            Some(&c.head_a),
            &[("If-Match", "\"v1\"")],
            Some((
                "application/json",
                json!({ "purpose": "消防检查", "inspectors": ["王检查"] }).to_string(),
            )),
        )
        .await;
    assert_eq!(r.assert_status(200)["purpose"], "消防检查");
    assert_eq!(r.header("etag").as_deref(), Some("\"v2\""));
    c.app
        .send(
            "PATCH",
            &path,
            Some(&c.head_a),
            &[("If-Match", "\"v1\"")],
            Some(("application/json", json!({ "purpose": "再改" }).to_string())),
        )
        .await
        .assert_problem(412, "precondition_failed");
    let r = c
        .app
        .patch(&path, &c.staff_a, json!({ "status": "cancelled" }))
        .await;
    assert_eq!(r.assert_status(200)["status"], "cancelled");
    c.app
        .patch(&path, &c.staff_a, json!({ "purpose": "取消之后" }))
        .await
        .assert_problem(409, "conflict");

    // One planned for today is recorded once it took place, with what it found.
    let now = filed(&c, &c.staff_a, plan(&c, c.dept_a, today(), &[])).await;
    let now_path = format!("/api/v1/inspections/{now}");
    c.app
        .patch(
            &now_path,
            &c.staff_a,
            json!({ "status": "done", "outcome": "无问题", "took_place_on": tomorrow.to_string() }),
        )
        .await
        .assert_problem(422, "validation_failed");
    c.app
        .patch(&now_path, &c.staff_a, json!({ "status": "done" }))
        .await
        .assert_problem(422, "validation_failed");
    let r = c
        .app
        .patch(
            &now_path,
            &c.staff_a,
            json!({ "status": "done", "outcome": "未发现问题" }),
        )
        .await;
    assert_eq!(r.assert_status(200)["took_place_on"], today().to_string());

    // Filters and paging.
    let q = |s: &str| format!("/api/v1/inspections?{s}");
    assert_eq!(ids(&c.app.get(&q("status=cancelled"), &c.sup).await), [id]);
    assert_eq!(ids(&c.app.get(&q("status=done"), &c.sup).await), [now]);
    assert_eq!(
        ids(&c
            .app
            .get(&q(&format!("department_id={}", c.dept_b)), &c.sup)
            .await),
        [id]
    );
    assert_eq!(
        ids(&c
            .app
            .get(&q(&format!("from={tomorrow}&to={tomorrow}")), &c.sup)
            .await),
        [id]
    );
    assert_eq!(
        ids(&c
            .app
            .get(&q(&format!("project_id={}", c.project_q)), &c.sup)
            .await),
        Vec::<i64>::new()
    );
    let first = c.app.get(&q("limit=1"), &c.sup).await;
    assert_eq!(ids(&first), [id]);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&c
            .app
            .get(&q(&format!("limit=1&cursor={cursor}")), &c.sup)
            .await),
        [now]
    );
    c.app
        .get(&q("status=lost"), &c.sup)
        .await
        .assert_problem(400, "invalid_query");
    c.app
        .get(&q("from=tomorrow"), &c.sup)
        .await
        .assert_problem(400, "invalid_query");
}

async fn report_visit(c: &County, token: &str, visiting: Option<i64>, on: NaiveDate) -> Value {
    let r = c
        .file_as(
            token,
            json!({ "project_id": c.project_p, "category": "inspection_disturbance",
                    "title": "有人来检查", "description": "未提前告知",
                    "visiting_department_id": visiting, "visited_on": on.to_string() }),
        )
        .await;
    r.assert_status(201).clone()
}

async fn feed_kinds(c: &County, token: &str) -> Vec<String> {
    let r = c.app.get("/api/v1/notifications?limit=100", token).await;
    r.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn a_reported_visit_is_matched_within_the_window_and_an_unfiled_one_goes_to_the_supervisors(
    db: Db,
) {
    let c = County::new(db).await;
    let filing = filed(&c, &c.staff_a, plan(&c, c.dept_a, today(), &[c.dept_b])).await;
    // The filing department's visit today, and a joining department's the day before (the
    // window's edge): both are the filed inspection, for its department to answer.
    for (visiting, on) in [
        (c.dept_a, today()),
        (c.dept_b, today() - TimeDelta::days(1)),
    ] {
        let issue = report_visit(&c, &c.obs1, Some(visiting), on).await;
        assert_eq!(issue["inspection_id"], filing);
        assert_eq!(issue["unfiled_inspection"], false);
        assert_eq!(issue["visited_on"], on.to_string());
        assert_eq!(issue["department_id"], c.dept_a);
        assert_eq!(issue["status"], "assigned");
    }
    assert!(
        !feed_kinds(&c, &c.sup)
            .await
            .contains(&"unfiled_inspection".to_string())
    );

    // A day beyond the window: unfiled, sent to the department that came, and the supervisors
    // are told at once; the timeline says why.
    let issue = report_visit(&c, &c.obs1, Some(c.dept_b), today() - TimeDelta::days(2)).await;
    assert_eq!(issue["unfiled_inspection"], true);
    assert_eq!(issue["inspection_id"], Value::Null);
    assert_eq!(issue["department_id"], c.dept_b);
    assert!(
        feed_kinds(&c, &c.sup)
            .await
            .contains(&"unfiled_inspection".to_string())
    );
    let id = issue["id"].as_i64().unwrap();
    let events = c
        .app
        .get(&format!("/api/v1/issues/{id}/events"), &c.sup)
        .await;
    let routed = events.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "routed")
        .cloned()
        .unwrap();
    assert_eq!(routed["data"]["by"], "unfiled_inspection");
    // Nobody named and nothing filed near the day: to the supervisors' queue.
    let issue = report_visit(&c, &c.obs2, None, today() - TimeDelta::days(5)).await;
    assert_eq!(issue["unfiled_inspection"], true);
    assert_eq!(issue["status"], "unassigned");
    assert_eq!(issue["department_id"], Value::Null);
    // The issue reads the same later, for the observer and for the department.
    let again = c.app.get(&format!("/api/v1/issues/{id}"), &c.obs1).await;
    assert_eq!(again.assert_status(200)["unfiled_inspection"], true);
    let listed = c
        .app
        .get(
            &format!("/api/v1/issues?project_id={}", c.project_p),
            &c.sup,
        )
        .await;
    let item = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(item["visiting_department_id"], c.dept_b);

    // A cancelled filing matches nothing.
    let cancelled = filed(&c, &c.staff_b, plan(&c, c.dept_b, today(), &[])).await;
    c.app
        .patch(
            &format!("/api/v1/inspections/{cancelled}"),
            &c.staff_b,
            json!({ "status": "cancelled" }),
        )
        .await
        .assert_status(200);
    let issue = report_visit(&c, &c.obs1, Some(c.dept_b), today()).await;
    // B joins A's filing today: that one matches, never the cancelled one.
    assert_eq!(issue["inspection_id"], filing);

    // Other categories report no visit; a visit is not in the future; the department exists.
    let r = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "approval_delay", "title": "t", "description": "d", "visited_on": today().to_string() }))
        .await;
    r.assert_problem(422, "validation_failed");
    let r = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "inspection_disturbance", "title": "t", "description": "d", "visited_on": (today() + TimeDelta::days(1)).to_string() }))
        .await;
    r.assert_problem(422, "validation_failed");
    let r = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "inspection_disturbance", "title": "t", "description": "d", "visiting_department_id": 999_999 }))
        .await;
    r.assert_problem(422, "validation_failed");
}

/// The first Monday of the month after next: a week and its next inside one month.
fn monday_ahead() -> NaiveDate {
    let t = today();
    let (y, m) = if t.month() >= 11 {
        (t.year() + 1, t.month() - 10)
    } else {
        (t.year(), t.month() + 2)
    };
    let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
    first + TimeDelta::days(i64::from((7 - first.weekday().num_days_from_monday()) % 7))
}

async fn alerts(c: &County) -> Vec<(String, String, i64, i64)> {
    let r = c.app.get("/api/v1/inspection-alerts", &c.sup).await;
    r.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["period"].as_str().unwrap().to_string(),
                a["period_start"].as_str().unwrap().to_string(),
                a["inspections"].as_i64().unwrap(),
                a["threshold"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn too_many_inspections_of_a_project_alert_once_per_threshold_a_joint_one_counting_once(
    db: Db,
) {
    let c = County::new(db).await;
    let d0 = monday_ahead();
    let (tue, next_mon) = (d0 + TimeDelta::days(1), d0 + TimeDelta::days(7));
    // A joint inspection of two departments is one inspection.
    filed(&c, &c.staff_a, plan(&c, c.dept_a, d0, &[c.dept_b])).await;
    assert!(alerts(&c).await.is_empty());
    // A second on the same day crosses the day's limit (1), once.
    filed(&c, &c.staff_b, plan(&c, c.dept_b, d0, &[])).await;
    let day = ("day".to_string(), d0.to_string(), 2, 1);
    assert_eq!(alerts(&c).await, std::slice::from_ref(&day));
    // A third that week crosses the week's (2).
    let third = filed(&c, &c.staff_a, plan(&c, c.dept_a, tue, &[])).await;
    let week = ("week".to_string(), d0.to_string(), 3, 2);
    assert_eq!(alerts(&c).await, [day.clone(), week.clone()]);
    // Cancelled, it no longer counts: a fourth in the month makes three, not four.
    c.app
        .patch(
            &format!("/api/v1/inspections/{third}"),
            &c.staff_a,
            json!({ "status": "cancelled" }),
        )
        .await
        .assert_status(200);
    filed(&c, &c.staff_a, plan(&c, c.dept_a, next_mon, &[])).await;
    assert_eq!(alerts(&c).await, [day.clone(), week.clone()]);
    // A fifth crosses the month's (3); a sixth on a crossed day alerts nothing new.
    filed(&c, &c.staff_b, plan(&c, c.dept_b, next_mon, &[])).await;
    let first_of_month = d0.with_day(1).unwrap();
    let month = ("month".to_string(), first_of_month.to_string(), 4, 3);
    let next_day = ("day".to_string(), next_mon.to_string(), 2, 1);
    let next_week = ("week".to_string(), next_mon.to_string(), 2, 2);
    let now = alerts(&c).await;
    assert!(now.contains(&month) && now.contains(&next_day), "{now:?}");
    assert!(!now.contains(&next_week));
    filed(&c, &c.staff_b, plan(&c, c.dept_b, d0, &[])).await;
    assert_eq!(alerts(&c).await.len(), now.len());
    assert!(
        feed_kinds(&c, &c.sup)
            .await
            .contains(&"inspection_alert".to_string())
    );

    // Unfiled visits observers report count too (one department's visit on one day once).
    filed(&c, &c.staff_a, plan(&c, c.dept_a, today(), &[])).await;
    let before = alerts(&c).await.len();
    report_visit(&c, &c.obs1, Some(c.dept_b), today()).await;
    report_visit(&c, &c.obs2, Some(c.dept_b), today()).await;
    let after = alerts(&c).await;
    assert_eq!(after.len(), before + 1);
    assert!(
        after.contains(&("day".to_string(), today().to_string(), 2, 1)),
        "{after:?}"
    );

    // The thresholds are the supervisors'; the alerts are theirs and the admins'.
    c.app
        .get("/api/v1/inspection-alerts", &c.staff_a)
        .await
        .assert_problem(403, "forbidden");
    let r = c.app.get("/api/v1/inspection-limits", &c.sup).await;
    assert_eq!(
        r.assert_status(200).clone(),
        json!({ "per_day": 1, "per_week": 2, "per_month": 3 })
    );
    put(
        &c,
        &c.staff_a,
        json!({ "per_day": 2, "per_week": 4, "per_month": 8 }),
    )
    .await
    .assert_problem(403, "forbidden");
    put(
        &c,
        &c.sup,
        json!({ "per_day": 5, "per_week": 4, "per_month": 8 }),
    )
    .await
    .assert_problem(422, "validation_failed");
    put(
        &c,
        &c.sup,
        json!({ "per_day": 2, "per_week": 4, "per_month": 8 }),
    )
    .await
    .assert_status(200);
    assert_eq!(
        c.app.get("/api/v1/inspection-limits", &c.admin).await.body["per_day"],
        2
    );
}

async fn put(c: &County, token: &str, body: Value) -> Resp {
    c.app
        .request("PUT", "/api/v1/inspection-limits", Some(token), Some(&body))
        .await
}

async fn rate(c: &County, id: i64, token: &str, score: i64, comment: &str) -> Resp {
    c.app
        .post(
            &format!("/api/v1/inspections/{id}/ratings"),
            Some(token),
            json!({ "score": score, "comment": comment }),
        )
        .await
}

async fn ratings_are_given_once_by_observers_and_never_name_the_rater_on_any_route(db: Db) {
    let c = County::new(db).await;
    let id = filed(&c, &c.staff_a, plan(&c, c.dept_a, today(), &[])).await;
    rate(&c, id, &c.obs1, 4, "态度很好")
        .await
        .assert_problem(409, "conflict");
    c.app
        .patch(
            &format!("/api/v1/inspections/{id}"),
            &c.staff_a,
            json!({ "status": "done", "outcome": "整改两项" }),
        )
        .await
        .assert_status(200);
    rate(&c, id, &c.obs1, 6, "")
        .await
        .assert_problem(422, "validation_failed");
    let r = rate(&c, id, &c.obs1, 4, "检查人员态度很好").await;
    assert_eq!(
        r.assert_status(201).clone(),
        json!({ "inspection_id": id, "rated": true })
    );
    rate(&c, id, &c.obs1, 5, "再评一次")
        .await
        .assert_problem(409, "conflict");
    rate(&c, id, &c.obs3, 3, "不关注的项目")
        .await
        .assert_problem(404, "not_found");
    rate(&c, id, &c.staff_a, 5, "自评")
        .await
        .assert_problem(403, "forbidden");
    // One rating alone is not shown: it could only be one observer's.
    let path = format!("/api/v1/inspections/{id}");
    assert!(
        c.app
            .get(&path, &c.staff_a)
            .await
            .body
            .get("rating")
            .is_none()
    );
    rate(&c, id, &c.obs2, 2, "占用时间太长")
        .await
        .assert_status(201);
    let seen = c.app.get(&path, &c.staff_a).await;
    let rating = seen.assert_status(200)["rating"].clone();
    assert_eq!(rating["count"], 2);
    assert_eq!(rating["average"], 3.0);
    let mut comments: Vec<&str> = rating["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    comments.sort();
    assert_eq!(comments, ["占用时间太长", "检查人员态度很好"]);
    assert_eq!(
        rating.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["average", "comments", "count"]
    );
    // Every route a department user can read: the ratings appear only as that summary, and
    // nothing a rating made (a notification, an event, a changed version) points at a rater.
    let project = c.project_p;
    for (method, route) in observer_desk::api::ROUTES {
        // The API's answers (the app's files and the contract describe ratings in words).
        if *method != "GET"
            || !route.starts_with("/api/v1/")
            || route.contains("/reports/")
            || route.contains("/attachments/")
        {
            continue;
        }
        let path = route
            .replace("/projects/{id}", &format!("/projects/{project}"))
            .replace("/inspections/{id}", &format!("/inspections/{id}"))
            .replace("/departments/{id}", &format!("/departments/{}", c.dept_a))
            .replace("/users/{id}", &format!("/users/{}", c.staff_a_id))
            .replace("{id}", "1")
            .replace("{year}", "2026");
        for token in [&c.staff_a, &c.head_a] {
            let r = c.app.get(&path, token).await;
            for comment in ["检查人员态度很好", "占用时间太长"] {
                if r.text.contains(comment) {
                    assert!(
                        path.starts_with("/api/v1/inspections"),
                        "{path} shows a rating's comment: {}",
                        r.text
                    );
                }
            }
            assert!(!r.text.contains("rater"), "{path}: {}", r.text);
        }
    }
    assert_eq!(
        seen.header("etag").as_deref(),
        Some("\"v2\""),
        "rating changed no version"
    );
    let feed = c
        .app
        .get("/api/v1/notifications?limit=100", &c.staff_a)
        .await;
    assert!(!feed.text.contains("检查人员态度很好"));
}
