//! Crash safety: the real binary under write load (filings, steps, comments, uploads) is
//! killed with SIGKILL at random moments, ten times. Whatever was answered 2xx is there with
//! its events and notifications, nothing is half-written, a retry of each interrupted
//! request under its Idempotency-Key lands exactly once, and no temporary file or orphan
//! object is left.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, JWT_SECRET, PASSWORD, TestDatabase};
use crate::on_both_databases;
use crate::process::Running;

on_both_databases!(killed_at_random_moments_the_service_keeps_every_answered_write_whole);

/// One write a client sent, and what became of it.
#[derive(Debug, Clone)]
struct Write {
    kind: &'static str,
    token: String,
    path: String,
    key: String,
    body: Body,
    /// The answer, when one arrived.
    answer: Option<(u16, Value)>,
}

#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Photo(Vec<u8>),
}

/// A small photo of its own for write `n`, as a multipart upload body.
fn photo(n: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 24, |x, y| {
        image::Rgb([(x as usize + n) as u8, y as u8, (n % 251) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    crate::attachments::form(&format!("p{n}.png"), "image/png", &out.into_inner(), &[])
}

async fn send(client: &awc::Client, base: &str, w: &Write) -> Option<(u16, Value)> {
    let req = client
        .post(format!("{base}{}", w.path))
        .insert_header(("Authorization", format!("Bearer {}", w.token)))
        .insert_header(("Idempotency-Key", w.key.clone()));
    let sent = match &w.body {
        Body::Json(v) => req.send_json(v).await,
        Body::Photo(bytes) => {
            req.insert_header((
                "Content-Type",
                format!(
                    "multipart/form-data; boundary={}",
                    crate::attachments::BOUNDARY
                ),
            ))
            .send_body(bytes.clone())
            .await
        }
    };
    let mut res = sent.ok()?;
    let bytes = res.body().limit(1 << 20).await.ok()?;
    Some((
        res.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

async fn call(base: &str, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut req = client.request(
        awc::http::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{base}{path}"),
    );
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req.send_json(&body).await.unwrap();
    let bytes = res.body().limit(1 << 22).await.unwrap();
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// A small deterministic generator, so that a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(db: &observer_desk::db::Db, sql: &str) -> i64 {
    let query = sql.to_string();
    db.read(move |c| Ok(diesel::sql_query(query).get_result::<Count>(c)?.n))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn killed_at_random_moments_the_service_keeps_every_answered_write_whole(db: Db) {
    let database = TestDatabase::new(db);
    let env = [
        ("OBSERVER_DESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("OBSERVER_DESK_JWT_SECRET", JWT_SECRET),
        ("OBSERVER_DESK_ORPHAN_GRACE_SECS", "0"),
        ("OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER", "1000"),
    ];
    let mut server = Running::start(&database, &env);
    let base = server.address.clone();
    let login = |user: &'static str, password: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                "POST",
                "/api/v1/auth/login",
                None,
                json!({ "username": user, "password": password }),
            )
            .await["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let admin = login("admin", ADMIN_PASSWORD).await;
    let dept = call(
        &base,
        "POST",
        "/api/v1/departments",
        Some(&admin),
        json!({ "code": "CRASH", "name": "应急局" }),
    )
    .await["id"]
        .clone();
    let user = |name: &'static str, role: &'static str, department: Value| {
        let (base, admin) = (base.clone(), admin.clone());
        async move {
            call(&base, "POST", "/api/v1/users", Some(&admin), json!({ "username": name, "password": PASSWORD, "display_name": name, "role": role, "department_id": department })).await["id"].clone()
        }
    };
    user("clerk", "department_staff", dept.clone()).await;
    user("sup", "supervisor", Value::Null).await;
    let observer = user("watcher", "observer", Value::Null).await;
    let project = call(&base, "POST", "/api/v1/projects", Some(&admin), json!({ "code": "CR-1", "name": "项目", "lead_department_id": dept, "observer_ids": [observer] })).await["id"].as_i64().unwrap();
    let obs = login("watcher", PASSWORD).await;
    let sup = login("sup", PASSWORD).await;

    let ledger: Rc<RefCell<Vec<Write>>> = Rc::new(RefCell::new(Vec::new()));
    let answered_issues: Rc<RefCell<Vec<i64>>> = Rc::new(RefCell::new(Vec::new()));
    let mut rng = Lcg(if db == Db::Sqlite { 7 } else { 11 });
    for round in 0..10 {
        if round > 0 {
            server = Running::start(&database, &env);
        }
        let base = server.address.clone();
        let stop = Rc::new(std::cell::Cell::new(false));
        let mut clients = Vec::new();
        for client_no in 0..6 {
            let (ledger, answered, stop, base) = (
                ledger.clone(),
                answered_issues.clone(),
                stop.clone(),
                base.clone(),
            );
            let (obs, sup) = (obs.clone(), sup.clone());
            let mut rng = Lcg(round * 100 + client_no);
            clients.push(actix_web::rt::spawn(async move {
                let client = awc::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .finish();
                let mut n = 0;
                while !stop.get() {
                    n += 1;
                    let tag = format!("r{round}c{client_no}n{n}");
                    let issue = {
                        let a = answered.borrow();
                        (!a.is_empty()).then(|| a[rng.next(a.len() as u64) as usize])
                    };
                    let w = match (rng.next(4), issue) {
                        (1, Some(i)) => Write {
                            kind: "comment",
                            token: obs.clone(),
                            path: format!("/api/v1/issues/{i}/comments"),
                            key: tag.clone(),
                            body: Body::Json(json!({ "body": format!("补充 {tag}") })),
                            answer: None,
                        },
                        (2, Some(i)) => Write {
                            kind: "chase",
                            token: sup.clone(),
                            path: format!("/api/v1/issues/{i}/transitions"),
                            key: tag.clone(),
                            body: Body::Json(json!({ "action": "chase", "comment": format!("催办 {tag}") })),
                            answer: None,
                        },
                        (3, Some(i)) => Write {
                            kind: "upload",
                            token: obs.clone(),
                            path: format!("/api/v1/issues/{i}/attachments"),
                            key: tag.clone(),
                            body: Body::Photo(photo(n)),
                            answer: None,
                        },
                        _ => Write {
                            kind: "filing",
                            token: obs.clone(),
                            path: "/api/v1/issues".into(),
                            key: tag.clone(),
                            body: Body::Json(json!({ "project_id": project, "category": "other", "title": format!("问题 {tag}"), "description": "压力测试" })),
                            answer: None,
                        },
                    };
                    let mut w = w;
                    w.answer = send(&client, &base, &w).await;
                    if let (Some((201, body)), "filing") = (&w.answer, w.kind) {
                        answered.borrow_mut().push(body["id"].as_i64().unwrap());
                    }
                    ledger.borrow_mut().push(w);
                }
            }));
        }
        actix_web::rt::time::sleep(Duration::from_millis(150 + rng.next(750))).await;
        server.kill();
        stop.set(true);
        for c in clients {
            c.await.unwrap();
        }
    }

    // Back up once more; every interrupted write is sent again under its key.
    let server = Running::start(&database, &env);
    let base = server.address.clone();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut writes = ledger.borrow().clone();
    let lost = writes.iter().filter(|w| w.answer.is_none()).count();
    for w in writes.iter_mut() {
        let retried = send(&client, &base, w).await;
        let (status, body) = retried.clone().expect("the restarted service answers");
        assert!(
            (200..300).contains(&status),
            "{} {} retried: {status} {body}",
            w.kind,
            w.key
        );
        match &w.answer {
            // An answered write, sent again, is a replay of the same answer.
            Some((s, first)) if (200..300).contains(s) => {
                assert_eq!(&body, first, "{} {} replayed differently", w.kind, w.key)
            }
            _ => w.answer = retried,
        }
    }
    assert!(
        writes.len() > 100,
        "too little load: {} writes",
        writes.len()
    );

    // Each write is there exactly once.
    let store = observer_desk::db::Db::connect(&database.url, 1).unwrap();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &writes {
        *by_kind.entry(w.kind).or_default() += 1;
        let sql = match w.kind {
            "filing" => format!(
                "SELECT COUNT(*) AS n FROM issues WHERE title = '问题 {}'",
                w.key
            ),
            "comment" => format!(
                "SELECT COUNT(*) AS n FROM issue_comments WHERE body = '补充 {}'",
                w.key
            ),
            "chase" => format!(
                "SELECT COUNT(*) AS n FROM issue_events WHERE kind = 'chase' AND data LIKE '%\"催办 {}\"%'",
                w.key
            ),
            _ => format!(
                "SELECT COUNT(*) AS n FROM attachments WHERE id = {}",
                w.answer.as_ref().unwrap().1["id"].as_i64().unwrap()
            ),
        };
        assert_eq!(count(&store, &sql).await, 1, "{sql}");
    }
    assert!(by_kind.len() == 4, "every kind of write ran: {by_kind:?}");
    // Nothing half-written: every issue has its first events, clocks and notices; every
    // comment and file its event.
    for sql in [
        "SELECT COUNT(*) AS n FROM issues i WHERE NOT EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id AND e.kind = 'filed') OR NOT EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id AND e.kind = 'routed')",
        "SELECT COUNT(*) AS n FROM issues i WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.issue_id = i.id)",
        "SELECT COUNT(*) AS n FROM issues i WHERE i.department_id IS NOT NULL AND (i.ack_due_at IS NULL OR NOT EXISTS (SELECT 1 FROM sla_timers t WHERE t.issue_id = i.id))",
        "SELECT COUNT(*) AS n FROM issue_comments c WHERE NOT EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = c.issue_id AND e.kind = 'comment')",
        "SELECT COUNT(*) AS n FROM attachments a WHERE NOT EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = a.issue_id AND e.kind = 'attachment')",
    ] {
        assert_eq!(count(&store, sql).await, 0, "half-written: {sql}");
    }
    // No temporary file, and no stored object without its row.
    let data = database.dir().join("data");
    let temp = std::fs::read_dir(data.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(temp, 0, "temporary files left");
    let mut objects = Vec::new();
    let mut stack = vec![data.join("attachments")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                objects.push(e.path());
            }
        }
    }
    let rows = count(&store, "SELECT COUNT(*) AS n FROM attachments").await;
    let odd: Vec<_> = objects
        .iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(odd.is_empty(), "unfinished parts left: {odd:?}");
    assert_eq!(
        objects.len() as i64,
        rows,
        "stored objects against attachment rows"
    );
    eprintln!(
        "crash test ({db:?}): {} writes ({by_kind:?}), {lost} cut off and retried",
        writes.len()
    );
    drop(server);
}
