//! The screens of the department head, the supervisor and the admin in headless Chromium,
//! each checked through the API afterwards; and markup typed by a user shows as text in
//! every screen that shows it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Driver, browser};
use crate::county::County;
use crate::helpers::{ADMIN_PASSWORD, Db, PASSWORD};
use crate::on_both_databases;
use crate::webapp::signed_in_with;

on_both_databases!(
    a_department_head_assigns_asks_for_working_days_and_sees_the_departments_figures,
    a_supervisor_dispatches_a_return_decides_an_extension_and_downloads_the_bulletin,
    an_admin_sets_up_a_department_a_clerk_a_project_and_the_rules_through_the_screens,
    markup_in_a_title_or_a_name_shows_as_text_in_every_screen,
    a_clerk_files_an_inspection_an_observer_reports_visits_and_a_supervisor_sees_the_alert,
);

async fn a_clerk_files_an_inspection_an_observer_reports_visits_and_a_supervisor_sees_the_alert(
    db: Db,
) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let today = (chrono::Utc::now() + chrono::TimeDelta::hours(8)).date_naive();
    // The clerk files today's inspection, joined by department B, through the screen.
    let (clerk, _dl) = signed_in_with(&c, "staff-a", PASSWORD, 1280, 900).await;
    clerk.click("#nav-inspections").await;
    clerk
        .until(
            "the filing form",
            "return document.getElementById('insp-form')",
        )
        .await;
    no_serious_violations(&clerk, "the clerk's inspections").await;
    choose(&clerk, "#insp-project", c.project_p).await;
    clerk.type_into("#insp-purpose", "安全生产检查").await;
    clerk.type_into("#insp-basis", "《安全生产法》").await;
    clerk.type_into("#insp-inspectors", "张检查、李执法").await;
    clerk.click(&format!("#joint-{}", c.dept_b)).await;
    clerk.click("#insp-form button[type=submit]").await;
    clerk
        .until(
            "the filing listed",
            "return document.querySelector('#filings li')",
        )
        .await;
    let filings = c.app.get("/api/v1/inspections", &c.sup).await;
    let filing = filings.assert_status(200)["items"][0].clone();
    assert_eq!(filing["inspectors"], json!(["张检查", "李执法"]));
    assert_eq!(filing["joint_department_ids"], json!([c.dept_b]));
    assert_eq!(filing["planned_on"], today.to_string());
    let filing_id = filing["id"].as_i64().unwrap();
    clerk.quit().await;

    // The observer, on a phone, sees it (without the inspectors) and reports a visit in two
    // taps: it matches the filing.
    let (phone, _dl2) = signed_in_with(&c, "obs1", PASSWORD, 360, 740).await;
    phone.click("#nav-inspections").await;
    let shown = phone
        .until(
            "the filing",
            "const f = document.querySelector('#filings li'); return f && f.textContent",
        )
        .await;
    assert!(shown.as_str().unwrap().contains("安全生产检查"), "{shown}");
    assert!(!shown.as_str().unwrap().contains("张检查"), "{shown}");
    no_serious_violations(&phone, "the observer's inspections").await;
    phone.screenshot("app-inspections.png").await;
    phone.click(&format!("#report-{}", c.project_p)).await;
    phone
        .until(
            "the filled-in form",
            "return document.getElementById('visit') && !document.getElementById('visit').hidden",
        )
        .await;
    phone.click("#file-form button[type=submit]").await;
    phone
        .until(
            "the issue page",
            "return /^#\\/issues\\/\\d+$/.test(location.hash)",
        )
        .await;
    let mine = c.app.get("/api/v1/issues", &c.obs1).await;
    let first = mine.assert_status(200)["items"][0].clone();
    assert_eq!(first["category"], "inspection_disturbance");
    assert_eq!(first["inspection_id"], filing_id);
    assert_eq!(first["unfiled_inspection"], false);
    // A visit five days ago by department B: unfiled, for the supervisors.
    phone.click("#nav-inspections").await;
    phone
        .until(
            "the report buttons",
            &format!("return document.getElementById('report-{}')", c.project_p),
        )
        .await;
    phone.click(&format!("#report-{}", c.project_p)).await;
    phone
        .until(
            "the filled-in form",
            "return document.getElementById('visiting')",
        )
        .await;
    choose(&phone, "#visiting", c.dept_b).await;
    choose(&phone, "#visited-on", today - chrono::TimeDelta::days(5)).await;
    phone.click("#file-form button[type=submit]").await;
    let started = Instant::now();
    let unfiled = loop {
        let list = c.app.get("/api/v1/issues", &c.obs1).await;
        let found = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["unfiled_inspection"] == true)
            .cloned();
        if let Some(i) = found {
            break i;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no unfiled report"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(unfiled["department_id"], c.dept_b);
    phone.quit().await;

    // Two more filings that day make too many: the supervisor sees the alert.
    for (token, dept) in [(&c.staff_a, c.dept_a), (&c.staff_b, c.dept_b)] {
        c.app
            .post(
                "/api/v1/inspections",
                Some(token),
                json!({ "department_id": dept, "project_id": c.project_p, "planned_on": today.to_string(),
                        "purpose": "复查", "basis": "依法", "inspectors": ["王"] }),
            )
            .await
            .assert_status(201);
    }
    let (sup, _dl3) = signed_in_with(&c, "sup", PASSWORD, 1280, 900).await;
    sup.click("#nav-inspections").await;
    let alert = sup
        .until(
            "the alert",
            "const a = document.querySelector('#alerts li'); return a && a.textContent",
        )
        .await;
    assert!(
        alert.as_str().unwrap().contains("铝精深加工项目"),
        "{alert}"
    );
    no_serious_violations(&sup, "the supervisor's inspections").await;
    sup.quit().await;
}

/// Sets a form control's value the way a person choosing it would (with a change event).
async fn choose(d: &Driver, css: &str, value: impl std::fmt::Display) {
    d.script(&format!(
        "const e = document.querySelector({css:?}); e.value = {value:?}; e.dispatchEvent(new Event('change', {{ bubbles: true }}));",
        value = value.to_string()
    ))
    .await;
}

async fn no_serious_violations(d: &Driver, screen: &str) {
    assert_eq!(
        d.accessibility_violations().await,
        Vec::<String>::new(),
        "{screen}"
    );
}

/// Waits until `check` holds for the issue as the API shows it to `token`.
async fn until_issue(
    c: &County,
    token: &str,
    id: i64,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let issue = c.issue(token, id).await.body;
        if check(&issue) {
            return issue;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: {issue}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The file the browser saved into `dir` with extension `ext`.
async fn downloaded(dir: &Path, ext: &str) -> Vec<u8> {
    let started = Instant::now();
    loop {
        let found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        if let Some(p) = found.first() {
            return std::fs::read(p).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no .{ext} downloaded"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The working minutes of a day in this year's calendar, as the API gives it.
async fn minutes_per_day(c: &County) -> i64 {
    let year = chrono::Utc::now().format("%Y").to_string();
    let cal = c
        .app
        .get(&format!("/api/v1/calendar/{year}"), &c.sup)
        .await
        .body;
    cal["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let m = |s: &Value| {
                let (h, m) = s.as_str().unwrap().split_once(':').unwrap();
                h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap()
            };
            m(&h[1]) - m(&h[0])
        })
        .sum()
}

async fn a_department_head_assigns_asks_for_working_days_and_sees_the_departments_figures(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let id = c.file("施工许可审批超时").await;
    let (head, _dl) = signed_in_with(&c, "head-a", PASSWORD, 1280, 900).await;
    head.open(&format!("{}/#/issues/{id}", c.app.address)).await;
    head.until(
        "the assign step",
        "return document.getElementById('step-assign')",
    )
    .await;
    no_serious_violations(&head, "the head's issue page").await;
    // Assign to a colleague: the clerk is chosen by name.
    choose(&head, "#assignee-assign", c.staff_a_id).await;
    head.click("#step-assign button[type=submit]").await;
    until_issue(&c, &c.head_a, id, "assigned to the clerk", |i| {
        i["assignee_id"] == c.staff_a_id
    })
    .await;
    // The page, drawn again, names the assignee.
    head.until(
        "the assignee shown",
        "return document.querySelector('.meta').textContent.includes('staff-a')",
    )
    .await;
    // Two working days asked for, with a reason: minutes of the calendar in force.
    head.until(
        "the extension step",
        "return document.getElementById('step-request_extension')",
    )
    .await;
    choose(&head, "#days-request_extension", 2).await;
    head.type_into("#note-request_extension", "需等待省厅批复")
        .await;
    head.click("#step-request_extension button[type=submit]")
        .await;
    let per_day = minutes_per_day(&c).await;
    until_issue(&c, &c.head_a, id, "two working days asked for", |i| {
        i["extension_requested_minutes"] == 2 * per_day
    })
    .await;
    head.until(
        "the pending request shown",
        "return document.getElementById('extension-pending')",
    )
    .await;
    // The department's own figures, and no other department's.
    head.click("#nav-dashboard").await;
    let rows = head
        .until(
            "the figures",
            "return [...document.querySelectorAll('#departments tbody th')].map(th => th.textContent).join('|')",
        )
        .await;
    assert_eq!(rows, "AAA 局");
    no_serious_violations(&head, "the head's figures").await;
    head.screenshot("app-head.png").await;
    head.quit().await;
}

async fn a_supervisor_dispatches_a_return_decides_an_extension_and_downloads_the_bulletin(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let returned = c.file("不属于本单位的问题").await;
    c.step(
        &c.staff_a,
        returned,
        json!({ "action": "return", "comment": "应由供电部门办理" }),
    )
    .await;
    let extended = c.file("需要延期的问题").await;
    c.step(
        &c.staff_a,
        extended,
        json!({ "action": "request_extension", "comment": "需协调", "extension_minutes": 960 }),
    )
    .await;
    let due_before = c.issue(&c.sup, extended).await.body["resolve_due_at"].clone();
    let (sup, downloads) = signed_in_with(&c, "sup", PASSWORD, 1280, 1000).await;
    // The desk is the supervisor's first screen.
    sup.until(
        "the return on the desk",
        &format!("return document.querySelector('#desk-returned li[data-id=\"{returned}\"]')"),
    )
    .await;
    sup.until(
        "the extension request on the desk",
        &format!("return document.querySelector('#desk-extensions li[data-id=\"{extended}\"]')"),
    )
    .await;
    let to_dispatch = sup
        .script("return document.querySelectorAll('#desk-unassigned li').length")
        .await;
    assert_eq!(to_dispatch, 0, "a return is reviewed, not dispatched blind");
    no_serious_violations(&sup, "the desk").await;
    sup.screenshot("app-supervisor.png").await;
    // The return: its reason is on the page; dispatched to the other department.
    sup.click(&format!("#desk-returned a[href='#/issues/{returned}']"))
        .await;
    sup.until(
        "the dispatch step",
        "return document.getElementById('step-dispatch')",
    )
    .await;
    let page = sup
        .script("return document.getElementById('timeline').textContent")
        .await;
    assert!(
        page.as_str().unwrap().contains("应由供电部门办理"),
        "{page}"
    );
    no_serious_violations(&sup, "the supervisor's issue page").await;
    choose(&sup, "#department-dispatch", c.dept_b).await;
    sup.click("#step-dispatch button[type=submit]").await;
    until_issue(&c, &c.sup, returned, "dispatched to B", |i| {
        i["status"] == "assigned" && i["department_id"] == c.dept_b
    })
    .await;
    // The extension: approved, and the deadline moves.
    sup.open(&format!("{}/#/issues/{extended}", c.app.address))
        .await;
    sup.until(
        "the approve step",
        "return document.getElementById('step-approve_extension')",
    )
    .await;
    sup.click("#step-approve_extension button[type=submit]")
        .await;
    let after = until_issue(&c, &c.sup, extended, "the extension approved", |i| {
        i["extension_requested_minutes"].is_null()
    })
    .await;
    assert_ne!(after["resolve_due_at"], due_before, "the deadline moved");
    // The dashboard as a screen, and the bulletin as a workbook.
    sup.click("#nav-dashboard").await;
    sup.until(
        "the department table",
        "return document.querySelector('#departments tbody tr')",
    )
    .await;
    no_serious_violations(&sup, "the dashboard screen").await;
    sup.click("#dl-rep_monthly-xlsx").await;
    let xlsx = downloaded(downloads.path(), "xlsx").await;
    assert_eq!(&xlsx[..2], b"PK", "a zip: the workbook");
    sup.click("#dl-rep_departments-csv").await;
    let csv = downloaded(downloads.path(), "csv").await;
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    assert!(String::from_utf8_lossy(&csv).contains("AAA 局"));
    // Another month: the bulletin of January, with nothing filed then.
    choose(&sup, "#month", "2026-01").await;
    sup.until(
        "January's figures",
        "return document.querySelector('h1').textContent.includes('2026-01') && document.querySelector('#totals .value').textContent === '0'",
    )
    .await;
    sup.quit().await;
}

/// Fills the field `css` afresh.
async fn fill(d: &Driver, css: &str, text: &str) {
    d.script(&format!("document.querySelector({css:?}).value = ''"))
        .await;
    d.type_into(css, text).await;
}

async fn an_admin_sets_up_a_department_a_clerk_a_project_and_the_rules_through_the_screens(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let (d, _dl) = signed_in_with(&c, "admin", ADMIN_PASSWORD, 1280, 1000).await;
    d.until(
        "the users",
        "return document.querySelector('#users tbody tr')",
    )
    .await;
    no_serious_violations(&d, "the users screen").await;
    d.screenshot("app-admin.png").await;
    let find = |path: &'static str, key: &'static str, value: &'static str| {
        let c = &c;
        async move {
            let list = c.app.get(path, &c.admin).await.body;
            let items = list.get("items").cloned().unwrap_or(list);
            items
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i[key] == value)
                .cloned()
        }
    };

    // A department: a webhook on this machine is refused with the reason shown, then none.
    d.click("a[href='#/admin/departments']").await;
    d.until(
        "the form",
        "return document.getElementById('new-department')",
    )
    .await;
    no_serious_violations(&d, "the departments screen").await;
    fill(&d, "#nd-code", "SCJG").await;
    fill(&d, "#nd-name", "县市场监管局").await;
    fill(&d, "#nd-url", "http://127.0.0.1:9/hook").await;
    d.click("#new-department button[type=submit]").await;
    d.until(
        "the refusal",
        "return document.querySelector('#new-department .error').textContent",
    )
    .await;
    assert!(
        find("/api/v1/departments?limit=200", "code", "SCJG")
            .await
            .is_none()
    );
    fill(&d, "#nd-url", "").await;
    d.click("#new-department button[type=submit]").await;
    d.until(
        "the new department listed",
        "return document.querySelector('#departments').textContent.includes('县市场监管局')",
    )
    .await;
    let dept = find("/api/v1/departments?limit=200", "code", "SCJG")
        .await
        .expect("created")["id"]
        .as_i64()
        .unwrap();

    // A clerk in it, then deactivated.
    d.click("a[href='#/admin/users']").await;
    d.until("the form", "return document.getElementById('new-user')")
        .await;
    fill(&d, "#nu-username", "scjg.clerk").await;
    fill(&d, "#nu-name", "市场监管经办人").await;
    fill(&d, "#nu-password", "a-long-enough-password").await;
    choose(&d, "#nu-role", "department_staff").await;
    choose(&d, "#nu-dept", dept).await;
    d.click("#new-user button[type=submit]").await;
    let clerk = d
        .until(
            "the clerk listed",
            "const r = [...document.querySelectorAll('#users tbody tr')].find(r => r.textContent.includes('scjg.clerk')); return r && r.dataset.id",
        )
        .await
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    let user = c
        .app
        .get(&format!("/api/v1/users/{clerk}"), &c.admin)
        .await
        .body;
    assert_eq!(
        (user["role"].as_str(), user["department_id"].as_i64()),
        (Some("department_staff"), Some(dept))
    );
    d.click(&format!("#users tr[data-id='{clerk}'] summary"))
        .await;
    d.script(&format!(
        "document.querySelector('#user-{clerk} input[name=active]').checked = false"
    ))
    .await;
    d.click(&format!("#user-{clerk} button[type=submit]")).await;
    let started = Instant::now();
    while c
        .app
        .get(&format!("/api/v1/users/{clerk}"), &c.admin)
        .await
        .body["active"]
        != false
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the clerk was not deactivated"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    // A project, followed by an observer, with a milestone.
    d.click("a[href='#/admin/projects']").await;
    d.until("the form", "return document.getElementById('new-project')")
        .await;
    no_serious_violations(&d, "the projects screen").await;
    fill(&d, "#np-code", "P-NEW-01").await;
    fill(&d, "#np-name", "新能源电池项目").await;
    choose(&d, "#np-lead", dept).await;
    d.click("#new-project button[type=submit]").await;
    d.until(
        "the project's page",
        "return document.getElementById('followers')",
    )
    .await;
    no_serious_violations(&d, "a project's page").await;
    let project = find("/api/v1/projects?limit=200", "code", "P-NEW-01")
        .await
        .expect("created")["id"]
        .as_i64()
        .unwrap();
    d.script(&format!(
        "document.querySelector('#followers input[value=\"{}\"]').checked = true",
        c.obs2_id
    ))
    .await;
    d.click("#followers button[type=submit]").await;
    d.until("saved", "return document.getElementById('saved')")
        .await;
    fill(&d, "#nm-title", "环评批复").await;
    choose(&d, "#nm-kind", "environmental_assessment").await;
    choose(&d, "#nm-dept", dept).await;
    d.click("#new-milestone button[type=submit]").await;
    d.until(
        "the milestone listed",
        "return document.querySelector('#milestones').textContent.includes('环评批复')",
    )
    .await;
    let p = c
        .app
        .get(&format!("/api/v1/projects/{project}"), &c.admin)
        .await
        .body;
    assert_eq!(p["observer_ids"], json!([c.obs2_id]));
    assert_eq!(p["lead_department_id"], dept);
    let ms = c
        .app
        .get(&format!("/api/v1/projects/{project}/milestones"), &c.admin)
        .await
        .body;
    assert_eq!(ms["items"][0]["kind"], "environmental_assessment");
    assert_eq!(ms["items"][0]["responsible_department_id"], dept);

    // A routing rule, then deleted.
    d.click("a[href='#/admin/routing']").await;
    d.until("the form", "return document.getElementById('new-rule')")
        .await;
    no_serious_violations(&d, "the routing screen").await;
    choose(&d, "#nr-category", "land_supply").await;
    choose(&d, "#nr-dept", dept).await;
    d.click("#new-rule button[type=submit]").await;
    d.until(
        "the rule listed",
        "return document.querySelector('#rules tbody tr')",
    )
    .await;
    let rules = c.app.get("/api/v1/routing-rules", &c.admin).await.body;
    assert_eq!(rules["items"].as_array().unwrap().len(), 1);
    assert_eq!(rules["items"][0]["department_id"], dept);
    let rule = rules["items"][0]["id"].as_i64().unwrap();
    d.click(&format!("#rule-{rule}-delete")).await;
    d.until(
        "the rule gone",
        "return !document.querySelector('#rules tbody tr')",
    )
    .await;
    assert_eq!(
        c.app.get("/api/v1/routing-rules", &c.admin).await.body["items"],
        json!([])
    );

    // An SLA policy: four working hours to acknowledge.
    d.click("a[href='#/admin/sla']").await;
    d.until(
        "the policies",
        "return document.querySelector('#policies tbody tr')",
    )
    .await;
    no_serious_violations(&d, "the SLA screen").await;
    fill(&d, "input[name='approval_delay-normal-ack']", "4").await;
    d.click("#sla button[type=submit]").await;
    let started = Instant::now();
    loop {
        let policies = c.app.get("/api/v1/sla-policies", &c.admin).await.body;
        let p = policies
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["category"] == "approval_delay" && p["priority"] == "normal")
            .cloned()
            .unwrap();
        if p["ack_minutes"].as_f64() == Some(240.0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the policy did not change: {p}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    // Next year's calendar: a holiday added.
    d.click("a[href='#/admin/calendar']").await;
    d.until("the calendar", "return document.getElementById('calendar')")
        .await;
    no_serious_violations(&d, "the calendar screen").await;
    let next = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap()
        + 1;
    choose(&d, "#cal-year", next).await;
    d.until(
        "next year's calendar",
        &format!(
            "const f = document.getElementById('calendar'); return f && f.dataset.year === '{next}'"
        ),
    )
    .await;
    d.script(&format!(
        "const h = document.getElementById('cal-holidays'); h.value = h.value + '\\n{next}-03-03';"
    ))
    .await;
    d.click("#calendar button[type=submit]").await;
    let started = Instant::now();
    loop {
        let cal = c
            .app
            .get(&format!("/api/v1/calendar/{next}"), &c.admin)
            .await
            .body;
        if cal["source"] == "custom" {
            assert!(
                cal["holidays"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(format!("{next}-03-03"))),
                "{cal}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the calendar was not saved: {cal}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    d.quit().await;
}

const MARKUP: &str = "<img src=x onerror=alert(1)>";

/// The markup is on the page as text, and no element was made of it.
async fn shows_as_text(d: &Driver, screen: &str) {
    let text = d
        .until(
            screen,
            &format!("return document.getElementById('view').textContent.includes({MARKUP:?}) && !document.querySelector('img[src=\"x\"]')"),
        )
        .await;
    assert_eq!(text, true, "{screen}");
}

async fn markup_in_a_title_or_a_name_shows_as_text_in_every_screen(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    c.app
        .patch(
            &format!("/api/v1/projects/{}", c.project_p),
            &c.admin,
            json!({ "name": MARKUP }),
        )
        .await
        .assert_status(200);
    let id = c
        .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "other", "title": MARKUP, "description": MARKUP }))
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "acknowledge", "comment": MARKUP }),
    )
    .await;
    c.step(
        &c.sup,
        id,
        json!({ "action": "escalate", "comment": MARKUP }),
    )
    .await;
    let base = c.app.address.clone();
    let url = |hash: &str| format!("{base}/{hash}");
    // The observer, on the narrowest phone: the list, the page, the feed, the projects, the form.
    let (phone, _a) = signed_in_with(&c, "obs1", PASSWORD, 360, 740).await;
    for (hash, screen) in [
        ("#/issues", "the observer's list"),
        (&*format!("#/issues/{id}"), "the observer's issue page"),
        ("#/feed", "the observer's feed"),
        ("#/projects", "the observer's projects"),
        ("#/new", "the filing form"),
    ] {
        phone.open(&url(hash)).await;
        shows_as_text(&phone, screen).await;
        let overflow = phone
            .script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        assert_eq!(overflow, 0, "{screen} fits 360 px");
    }
    phone.quit().await;
    // The clerk and the head: the queue, the page, the feed.
    for who in ["staff-a", "head-a"] {
        let (desk, _b) = signed_in_with(&c, who, PASSWORD, 1280, 900).await;
        for hash in [
            "#/issues".to_string(),
            format!("#/issues/{id}"),
            "#/feed".into(),
            "#/projects".into(),
        ] {
            desk.open(&url(&hash)).await;
            shows_as_text(&desk, &format!("{who} {hash}")).await;
        }
        desk.quit().await;
    }
    // The supervisor: the desk (escalated), every issue, the page; the admin: the projects.
    let (sup, _c) = signed_in_with(&c, "sup", PASSWORD, 1280, 900).await;
    for hash in [
        "#/desk".to_string(),
        "#/issues".into(),
        format!("#/issues/{id}"),
    ] {
        sup.open(&url(&hash)).await;
        shows_as_text(&sup, &format!("sup {hash}")).await;
    }
    sup.quit().await;
    let (admin, _d) = signed_in_with(&c, "admin", ADMIN_PASSWORD, 1280, 900).await;
    for hash in [
        "#/admin/projects".to_string(),
        format!("#/admin/projects/{}", c.project_p),
    ] {
        admin.open(&url(&hash)).await;
        shows_as_text(&admin, &format!("admin {hash}")).await;
    }
    admin.quit().await;
}
