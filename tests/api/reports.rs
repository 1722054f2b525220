//! The supervisors' reports on a data set built step by step, so that every figure is
//! known in advance; the same figures on SQLite and PostgreSQL, as JSON, CSV and XLSX.

use std::time::Duration;

use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;
use crate::sla::{fast_county, set_policy};

on_both_databases!(
    department_figures_are_exactly_the_documented_counts,
    percentiles_are_nearest_rank_over_working_hours,
    csv_and_xlsx_carry_the_same_rows_with_chinese_intact,
    the_bulletin_and_the_ranking_follow_their_rules,
    only_supervisors_and_admins_read_reports_and_a_head_reads_their_own_row,
    names_that_look_like_formulas_reach_the_csv_as_text,
);

async fn names_that_look_like_formulas_reach_the_csv_as_text(db: Db) {
    let c = County::new(db).await;
    c.app
        .patch(
            &format!("/api/v1/users/{}", c.obs1_id),
            &c.obs1,
            json!({ "display_name": "=HYPERLINK(\"http://x\",\"点击\")" }),
        )
        .await
        .assert_status(200);
    c.app
        .patch(
            &format!("/api/v1/departments/{}", c.dept_a),
            &c.admin,
            json!({ "name": "@SUM(1+1)" }),
        )
        .await
        .assert_status(200);
    c.file("+cmd|' /C calc'!A0").await;
    let month = (chrono::Utc::now() + chrono::TimeDelta::hours(8)).format("%Y-%m");
    for (path, planted) in [
        (
            "/api/v1/reports/observers?format=csv".to_string(),
            "'=HYPERLINK(",
        ),
        (
            "/api/v1/reports/departments?format=csv".to_string(),
            "'@SUM(1+1)",
        ),
        (
            format!("/api/v1/reports/monthly?month={month}&format=csv"),
            "'@SUM(1+1)",
        ),
    ] {
        let csv = c.app.send("GET", &path, Some(&c.sup), &[], None).await;
        assert_eq!(csv.status, 200, "{path}: {}", csv.text);
        let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
        assert!(text.contains(planted), "{path}: {text}");
        for line in text.lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "{path}: a cell starts like a formula: {cell:?}"
                );
            }
        }
    }
}

async fn step(c: &County, token: &str, id: i64, body: Value) {
    c.step(token, id, body).await;
}

/// Builds the documented data set; returns once every deadline but one extended has passed.
async fn data_set(c: &County) -> Vec<i64> {
    // Acknowledge within 3 s and resolve within 6 s of working time, round the clock: wide
    // enough that the steps taken at once are on time on a loaded machine too.
    set_policy(c, 0.05, 0.1, 80, 5.0).await;
    let mut ids = Vec::new();
    for i in 1..=8 {
        ids.push(c.file(&format!("i{i}")).await);
    }
    let [i1, i2, i3, i4, i5, i6, _i7_left_untouched, i8] = ids[..] else {
        unreachable!()
    };
    for id in [i1, i2, i3, i8] {
        step(c, &c.staff_a, id, json!({ "action": "acknowledge" })).await;
    }
    for id in [i1, i2, i3] {
        step(
            c,
            &c.staff_a,
            id,
            json!({ "action": "resolve", "comment": "已办结" }),
        )
        .await;
    }
    step(c, &c.obs1, i1, json!({ "action": "confirm", "rating": 5 })).await;
    step(c, &c.obs1, i2, json!({ "action": "confirm", "rating": 3 })).await;
    step(
        c,
        &c.obs1,
        i3,
        json!({ "action": "reopen", "comment": "没有解决" }),
    )
    .await;
    step(
        c,
        &c.staff_a,
        i5,
        json!({ "action": "return", "comment": "不属于本单位" }),
    )
    .await;
    step(
        c,
        &c.sup,
        i5,
        json!({ "action": "dispatch", "department_id": c.dept_b }),
    )
    .await;
    step(c, &c.obs1, i6, json!({ "action": "withdraw" })).await;
    for _ in 0..2 {
        step(c, &c.sup, i8, json!({ "action": "chase" })).await;
    }
    step(
        c,
        &c.staff_a,
        i8,
        json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 600 }),
    )
    .await;
    step(c, &c.sup, i8, json!({ "action": "approve_extension" })).await;
    // One on the milestone owned by department B, acknowledged at once.
    let i9 = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "milestone_id": c.milestone_m, "category": "approval_delay", "title": "i9", "description": "供电" }))
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    step(c, &c.staff_b, i9, json!({ "action": "acknowledge" })).await;
    ids.push(i9);
    // i4 is acknowledged late, then resolved late.
    actix_web::rt::time::sleep(Duration::from_millis(3600)).await;
    step(c, &c.staff_a, i4, json!({ "action": "acknowledge" })).await;
    actix_web::rt::time::sleep(Duration::from_millis(3000)).await;
    step(
        c,
        &c.staff_a,
        i4,
        json!({ "action": "resolve", "comment": "迟办" }),
    )
    .await;
    // Let the reopened i3 and the untouched i7 pass their deadlines and the worker see it.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    ids
}

fn row<'a>(report: &'a Value, key: &str, id: i64) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == id)
        .unwrap_or_else(|| panic!("no row {id} in {report}"))
}

fn this_month() -> (String, String) {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    (format!("{}", today.format("%Y-%m-01")), today.to_string())
}

async fn department_figures_are_exactly_the_documented_counts(db: Db) {
    let c = fast_county(db).await;
    data_set(&c).await;
    let (from, to) = this_month();
    let r = c
        .app
        .get(
            &format!("/api/v1/reports/departments?from={from}&to={to}"),
            &c.sup,
        )
        .await;
    let report = r.assert_status(200).clone();
    assert_eq!(report["from"], from);
    let spec = crate::openapi::spec();
    crate::openapi::assert_matches_schema(&spec, "DepartmentReport", &report);
    crate::openapi::assert_matches_schema(&spec, "DepartmentRow", &report["items"][0]);
    let a = row(&report, "department_id", c.dept_a);
    let expected_a = json!({
        "department_code": "AAA", "department_name": "AAA 局",
        "received": 8, "held": 7,
        "acknowledged": 5, "acknowledged_on_time": 4, "ack_on_time_rate": 0.6667,
        "resolved": 3, "resolved_on_time": 2, "resolve_on_time_rate": 0.4,
        "closed": 2, "closure_rate": 0.3333,
        "returned": 1, "return_rate": 0.125,
        "reopened": 1, "reopen_rate": 0.25,
        "extensions_requested": 1, "extensions_granted": 1, "chases": 2,
        "rating_avg": 4.0, "satisfaction_rate": 0.5,
        "overdue_now": 2,
    });
    for (k, v) in expected_a.as_object().unwrap() {
        assert_eq!(&a[k], v, "department A, {k}: {a}");
    }
    for k in [
        "ack_hours_median",
        "ack_hours_p90",
        "resolve_hours_median",
        "resolve_hours_p90",
    ] {
        assert!(a[k].as_f64().is_some(), "{k} in {a}");
    }
    let b = row(&report, "department_id", c.dept_b);
    let expected_b = json!({
        "received": 2, "held": 2, "acknowledged": 1, "acknowledged_on_time": 1,
        "ack_on_time_rate": 0.5, "resolved": 0, "resolve_on_time_rate": 0.0,
        "closed": 0, "closure_rate": 0.0, "returned": 0, "return_rate": 0.0,
        "reopened": 0, "reopen_rate": null, "chases": 0,
        "rating_avg": null, "satisfaction_rate": null,
        "resolve_hours_median": null,
    });
    for (k, v) in expected_b.as_object().unwrap() {
        assert_eq!(&b[k], v, "department B, {k}: {b}");
    }
    // The period counts by filing date: nothing was filed last year.
    let old = c
        .app
        .get(
            "/api/v1/reports/departments?from=2020-01-01&to=2020-12-31",
            &c.sup,
        )
        .await;
    let a_old = row(&old.body, "department_id", c.dept_a);
    assert_eq!(
        (a_old["received"].clone(), a_old["closure_rate"].clone()),
        (json!(0), Value::Null)
    );
    // Per project: everything filed on P, whoever has it.
    let p = c.app.get("/api/v1/reports/projects", &c.sup).await;
    let pr = row(&p.body, "project_id", c.project_p);
    crate::openapi::assert_matches_schema(&spec, "ProjectRow", pr);
    assert_eq!(pr["received"], 9);
    assert_eq!(pr["closed"], 2);
    assert_eq!(pr["chases"], 2);
    assert_eq!(pr["returned"], 1);
    // Per observer: obs1 filed all nine and confirmed two fixed; obs2 nothing.
    let o = c.app.get("/api/v1/reports/observers", &c.sup).await;
    let o1 = row(&o.body, "user_id", c.obs1_id);
    crate::openapi::assert_matches_schema(&spec, "ObserverRow", o1);
    assert_eq!(
        (
            o1["filed"].clone(),
            o1["confirmed"].clone(),
            o1["confirmed_share"].clone()
        ),
        (json!(9), json!(2), json!(0.2222))
    );
    assert!(o1["last_activity_at"].is_string());
    let o2 = row(&o.body, "user_id", c.obs2_id);
    assert_eq!(
        (
            o2["filed"].clone(),
            o2["confirmed_share"].clone(),
            o2["last_activity_at"].clone()
        ),
        (json!(0), Value::Null, Value::Null)
    );
    // Bad periods are a clear 400.
    for q in [
        "from=2026-13-01",
        "from=2026-02-02&to=2026-02-01",
        "format=pdf",
    ] {
        c.app
            .get(&format!("/api/v1/reports/departments?{q}"), &c.sup)
            .await
            .assert_problem(400, "invalid_query");
    }
}

async fn percentiles_are_nearest_rank_over_working_hours(db: Db) {
    let c = County::new(db).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let id = c.file(&format!("p{i}")).await;
        c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
            .await;
        ids.push(id);
    }
    // Give the ten acknowledgements known working times: 1 h, 2 h, … 10 h.
    let url = c.app.database_url().to_string();
    let ids2 = ids.clone();
    let db = actix_web::rt::task::spawn_blocking(move || {
        observer_desk::db::Db::connect(&url, 1).unwrap()
    })
    .await
    .unwrap();
    db.write(move |conn| {
        use diesel::RunQueryDsl;
        for (k, id) in ids2.iter().enumerate() {
            diesel::sql_query(format!(
                "UPDATE issues SET ack_work_seconds = {} WHERE id = {id}",
                (k as i64 + 1) * 3600
            ))
            .execute(conn)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let r = c.app.get("/api/v1/reports/departments", &c.sup).await;
    let a = row(&r.body, "department_id", c.dept_a);
    assert_eq!(a["ack_hours_median"], 5.0, "rank ⌈10/2⌉ = 5");
    assert_eq!(a["ack_hours_p90"], 9.0, "rank ⌈0.9·10⌉ = 9");
    assert_eq!(a["resolve_hours_median"], Value::Null);
}

async fn csv_and_xlsx_carry_the_same_rows_with_chinese_intact(db: Db) {
    let c = County::new(db).await;
    let id = c.file("导出").await;
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    let json_report = c
        .app
        .get("/api/v1/reports/departments", &c.sup)
        .await
        .body
        .clone();
    let csv = c
        .app
        .send(
            "GET",
            "/api/v1/reports/departments?format=csv",
            Some(&c.sup),
            &[],
            None,
        )
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(csv.header("content-disposition").unwrap().contains(".csv"));
    assert_eq!(
        &csv.bytes[..3],
        b"\xEF\xBB\xBF",
        "a byte-order mark for Excel"
    );
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &header[..5],
        ["单位编码", "责任单位", "收到问题数", "现办理数", "已签收"]
    );
    assert_eq!(header.len(), 31);
    assert_eq!(
        &header[26..],
        [
            "报备检查数",
            "未报备检查反映数",
            "检查过频预警数",
            "检查评价数",
            "检查评价均分"
        ]
    );
    let a_line: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("AAA,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(a_line[1], "AAA 局");
    assert_eq!(a_line[2], "1");
    assert_eq!(a_line[4], "1");
    assert_eq!(
        lines.len(),
        1 + json_report["items"].as_array().unwrap().len()
    );
    // The same through Accept.
    let by_accept = c
        .app
        .send(
            "GET",
            "/api/v1/reports/departments",
            Some(&c.sup),
            &[("Accept", "text/csv")],
            None,
        )
        .await;
    assert_eq!(by_accept.bytes, csv.bytes);

    let xlsx = c
        .app
        .send(
            "GET",
            "/api/v1/reports/departments?format=xlsx",
            Some(&c.sup),
            &[],
            None,
        )
        .await;
    assert_eq!(xlsx.status, 200);
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("a valid workbook");
    let sheet = book.worksheet_range("部门").expect("the sheet");
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows[0][1], Data::String("责任单位".into()));
    let a = rows
        .iter()
        .find(|r| r[0] == Data::String("AAA".into()))
        .unwrap();
    assert_eq!(a[1], Data::String("AAA 局".into()));
    assert_eq!(a[2], Data::Float(1.0), "received");
    assert_eq!(a[4], Data::Float(1.0), "acknowledged");
    let rate = json_report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["department_code"] == "AAA")
        .unwrap()["ack_on_time_rate"]
        .as_f64()
        .unwrap();
    assert_eq!(a[6], Data::Float(rate), "the same rate as the JSON");
}

async fn the_bulletin_and_the_ranking_follow_their_rules(db: Db) {
    let c = fast_county(db).await;
    data_set(&c).await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let month = today.format("%Y-%m").to_string();
    let b = c
        .app
        .get(&format!("/api/v1/reports/monthly?month={month}"), &c.sup)
        .await;
    let b = b.assert_status(200).clone();
    let spec = crate::openapi::spec();
    crate::openapi::assert_matches_schema(&spec, "Bulletin", &b);
    crate::openapi::assert_matches_schema(&spec, "BulletinTotals", &b["totals"]);
    assert_eq!(b["totals"]["filed"], 9);
    assert_eq!(b["totals"]["closed"], 2);
    assert_eq!(b["previous_totals"]["filed"], 0);
    let overdue: Vec<&str> = b["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap())
        .collect();
    assert!(
        overdue.contains(&"i7") && overdue.contains(&"i3"),
        "{overdue:?}"
    );
    assert!(b["overdue"][0]["department_name"].is_string());
    // Department A has 8 issues, B only 2: with the minimum of 5, only A is ranked.
    assert_eq!(b["best"].as_array().unwrap().len(), 1);
    assert_eq!(b["best"][0]["department_id"], c.dept_a);
    let change = b["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["department_id"] == c.dept_a)
        .unwrap();
    assert_eq!(change["received_change"], 8);
    assert_eq!(
        change["closure_rate_change"],
        Value::Null,
        "no data last month"
    );
    let quarter = format!(
        "{}-Q{}",
        chrono::Datelike::year(&today),
        (chrono::Datelike::month(&today) - 1) / 3 + 1
    );
    let r = c
        .app
        .get(
            &format!("/api/v1/reports/ranking?quarter={quarter}"),
            &c.sup,
        )
        .await;
    let r = r.assert_status(200).clone();
    assert_eq!(r["min_issues"], 5);
    crate::openapi::assert_matches_schema(&spec, "Ranking", &r);
    crate::openapi::assert_matches_schema(&spec, "RankingRow", &r["items"][0]);
    let a = row(&r, "department_id", c.dept_a);
    assert_eq!(
        (a["rank"].clone(), a["eligible"].clone()),
        (json!(1), json!(true))
    );
    // (0.25·0.6667 + 0.35·0.4 + 0.25·0.5 + 0.15·0.3333) ×100 − 20·0.25 − 20·0.125
    let expected =
        ((0.25 * 0.6667 + 0.35 * 0.4 + 0.25 * 0.5 + 0.15 * 0.3333) * 100.0 - 5.0 - 2.5_f64) * 100.0;
    assert_eq!(a["score"], json!(expected.round() / 100.0));
    let bb = row(&r, "department_id", c.dept_b);
    assert_eq!(
        (bb["rank"].clone(), bb["eligible"].clone()),
        (Value::Null, json!(false))
    );
    let xlsx = c
        .app
        .send(
            "GET",
            &format!("/api/v1/reports/monthly?month={month}&format=xlsx"),
            Some(&c.sup),
            &[],
            None,
        )
        .await;
    use calamine::{Reader, Xlsx};
    let book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["部门", "排名", "超期问题", "环比"]);
    for q in ["month=2026-13", "month=", ""] {
        c.app
            .get(&format!("/api/v1/reports/monthly?{q}"), &c.sup)
            .await
            .assert_problem(400, "invalid_query");
    }
    c.app
        .get("/api/v1/reports/ranking?quarter=2026-Q5", &c.sup)
        .await
        .assert_problem(400, "invalid_query");
}

async fn only_supervisors_and_admins_read_reports_and_a_head_reads_their_own_row(db: Db) {
    let c = County::new(db).await;
    c.file("x").await;
    for path in [
        "departments",
        "projects",
        "observers",
        "monthly?month=2026-11",
        "ranking?quarter=2026-Q4",
    ] {
        for token in [&c.sup, &c.admin] {
            assert_eq!(
                c.app
                    .get(&format!("/api/v1/reports/{path}"), token)
                    .await
                    .status,
                200,
                "{path}"
            );
        }
        for token in [&c.obs1, &c.staff_a] {
            c.app
                .get(&format!("/api/v1/reports/{path}"), token)
                .await
                .assert_problem(403, "forbidden");
        }
    }
    let own = c.app.get("/api/v1/reports/departments", &c.head_a).await;
    let items = own.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["department_id"], c.dept_a);
    let csv = c
        .app
        .send(
            "GET",
            "/api/v1/reports/departments?format=csv",
            Some(&c.head_b),
            &[],
            None,
        )
        .await;
    let text = String::from_utf8_lossy(&csv.bytes).to_string();
    assert!(text.contains("BBB") && !text.contains("AAA"), "{text}");
    for path in [
        "projects",
        "observers",
        "monthly?month=2026-11",
        "ranking?quarter=2026-Q4",
    ] {
        c.app
            .get(&format!("/api/v1/reports/{path}"), &c.head_a)
            .await
            .assert_problem(403, "forbidden");
    }
}
