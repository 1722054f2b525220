//! Three instances of the built binary on one PostgreSQL: filings, steps and replies through
//! all of them at once, deadlines falling due, and one instance killed in the middle — every
//! count checked against what the clients were told.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, PASSWORD, TestDatabase, postgres_available};
use crate::process::Running;
use crate::smtp::SmtpSink;

const JWT: &str = "a-shared-secret-for-the-three-instances-0123456789";

/// One HTTP call; status 0 when no answer came (the instance is gone).
async fn call(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut req = client.request(
        actix_web::http::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{address}{path}"),
    );
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    if let Some(k) = key {
        req = req.insert_header(("Idempotency-Key", k.to_string()));
    }
    let sent = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    };
    let Ok(mut res) = sent else {
        return (0, Value::Null);
    };
    let status = res.status().as_u16();
    let bytes = res.body().limit(4 << 20).await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

fn ids(conn: &mut PgConnection, sql: &str) -> BTreeSet<i64> {
    diesel::sql_query(sql)
        .load::<N>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.n)
        .collect()
}

/// Does `op` through `first`, and when no answer came, again with the same key through each
/// other live instance in turn: the answer the client is finally told, and the tries it took.
async fn with_retry(
    live: &[String],
    first: usize,
    method: &str,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Value, usize) {
    let mut last = (0, Value::Null);
    for i in 0..live.len() {
        let address = &live[(first + i) % live.len()];
        last = call(
            address,
            method,
            path,
            Some(token),
            Some(key),
            Some(body.clone()),
        )
        .await;
        if last.0 != 0 && last.0 < 500 {
            return (last.0, last.1, i + 1);
        }
    }
    (last.0, last.1, live.len())
}

#[actix_web::test]
async fn three_instances_on_one_postgresql_lose_and_repeat_nothing_when_one_is_killed() {
    if !postgres_available() {
        return;
    }
    let database = TestDatabase::new(Db::Postgres);
    let sink = SmtpSink::start(0, Arc::new(Mutex::new(Vec::new()))).await;
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let env: Vec<(String, String)> = [
        ("OBSERVER_DESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("OBSERVER_DESK_JWT_SECRET", JWT),
        ("OBSERVER_DESK_SMTP_URL", smtp.as_str()),
        ("OBSERVER_DESK_SLA_TICK_MS", "200"),
        ("OBSERVER_DESK_DELIVERY_TICK_MS", "100"),
        ("OBSERVER_DESK_DELIVERY_BACKOFF_MS", "200"),
        ("OBSERVER_DESK_DELIVERY_LEASE_SECS", "2"),
        ("OBSERVER_DESK_DB_POOL_SIZE", "4"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // Three instances start at the same moment on the empty database.
    let database = Arc::new(database);
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let (database, env) = (database.clone(), env.clone());
            actix_web::rt::task::spawn_blocking(move || {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                Running::start(&database, &env)
            })
        })
        .collect();
    let mut instances = Vec::new();
    for s in starting {
        instances.push(s.await.unwrap());
    }
    let all: Vec<String> = instances.iter().map(|r| r.address.clone()).collect();
    let mut pg = PgConnection::establish(&database.url).unwrap();
    assert_eq!(
        count(&mut pg, "SELECT count(*) AS n FROM users"),
        1,
        "one admin"
    );

    // The county, through the first instance.
    let a = &all[0];
    let (_, login) = call(
        a,
        "POST",
        "/api/v1/auth/login",
        None,
        None,
        Some(json!({ "username": "admin", "password": ADMIN_PASSWORD })),
    )
    .await;
    let admin = login["access_token"].as_str().unwrap().to_string();
    let (s, dep) = call(
        a,
        "POST",
        "/api/v1/departments",
        Some(&admin),
        None,
        Some(json!({ "code": "DEP", "name": "审批局" })),
    )
    .await;
    assert_eq!(s, 201);
    let dep = dep["id"].as_i64().unwrap();
    let user = |name: &str, role: &str, department: Option<i64>| {
        let body = json!({ "username": name, "password": PASSWORD, "display_name": name, "role": role,
                           "department_id": department, "email": format!("{name}@county.test") });
        let admin = admin.clone();
        let a = a.clone();
        async move {
            let (s, u) = call(&a, "POST", "/api/v1/users", Some(&admin), None, Some(body)).await;
            assert_eq!(s, 201, "{u}");
            u["id"].as_i64().unwrap()
        }
    };
    user("clerk", "department_staff", Some(dep)).await;
    let mut observer_ids = Vec::new();
    for name in ["obs1", "obs2", "obs3"] {
        observer_ids.push(user(name, "observer", None).await);
    }
    let (s, project) = call(a, "POST", "/api/v1/projects", Some(&admin), None, Some(json!({
        "code": "P-1", "name": "一号项目", "lead_department_id": dep, "observer_ids": observer_ids }))).await;
    assert_eq!(s, 201, "{project}");
    let project = project["id"].as_i64().unwrap();
    let mut tokens = Vec::new();
    for name in ["obs1", "obs2", "obs3", "clerk"] {
        let (_, l) = call(
            &all[tokens.len() % 3],
            "POST",
            "/api/v1/auth/login",
            None,
            None,
            Some(json!({ "username": name, "password": PASSWORD })),
        )
        .await;
        tokens.push(l["access_token"].as_str().unwrap().to_string());
    }
    let clerk = tokens[3].clone();

    // Filings through all three at once; the third instance is killed while the second wave
    // is in flight. A filing whose answer never came is sent again, with its key, to another.
    const FILINGS: usize = 60;
    let file = |k: usize, live: Vec<String>| {
        let token = tokens[k % 3].clone();
        async move {
            let body = json!({ "project_id": project, "category": "approval_delay",
                               "title": format!("问题 {k}"), "description": "三个实例" });
            let (s, b, tries) = with_retry(
                &live,
                k % live.len(),
                "POST",
                "/api/v1/issues",
                &token,
                &format!("file-{k}"),
                body,
            )
            .await;
            assert_eq!(s, 201, "filing {k}: {b}");
            (
                k,
                b["id"].as_i64().unwrap(),
                b["number"].as_str().unwrap().to_string(),
                tries,
            )
        }
    };
    let mut told: Vec<(usize, i64, String, usize)> =
        futures_util::future::join_all((0..FILINGS / 2).map(|k| file(k, all.clone()))).await;
    let second =
        futures_util::future::join_all((FILINGS / 2..FILINGS).map(|k| file(k, all.clone())));
    let kill = async {
        actix_web::rt::time::sleep(Duration::from_millis(15)).await;
        instances[2].kill();
    };
    let (wave, ()) = futures_util::join!(second, kill);
    // The kill fell in the middle: some filings sent to the killed instance got no answer.
    let tried_again = wave.iter().filter(|(.., tries)| *tries > 1).count();
    assert!(tried_again > 0, "the instance died after the wave");
    told.extend(wave);
    // What the dead instance held leased when it died may be sent again after its lease.
    let leased_when_killed = ids(
        &mut pg,
        "SELECT id AS n FROM deliveries WHERE state = 'pending' AND leased_until IS NOT NULL",
    );
    let live: Vec<String> = all[..2].to_vec();
    // Every client that retried was told the same issue as its first try made, if it made one.
    let issue_ids: BTreeSet<i64> = told.iter().map(|(_, id, ..)| *id).collect();
    let numbers: BTreeSet<&String> = told.iter().map(|(_, _, n, _)| n).collect();
    assert_eq!(issue_ids.len(), FILINGS);
    assert_eq!(numbers.len(), FILINGS, "no number issued twice");
    assert_eq!(
        count(&mut pg, "SELECT count(*) AS n FROM issues"),
        FILINGS as i64
    );
    assert_eq!(
        count(&mut pg, "SELECT count(DISTINCT number) AS n FROM issues"),
        FILINGS as i64
    );
    // A key sent again now gets the answer it got then, on either survivor.
    for (k, id, ..) in told.iter().take(6) {
        let body = json!({ "project_id": project, "category": "approval_delay",
                           "title": format!("问题 {k}"), "description": "三个实例" });
        let (s, b) = call(
            &live[k % 2],
            "POST",
            "/api/v1/issues",
            Some(&tokens[k % 3]),
            Some(&format!("file-{k}")),
            Some(body),
        )
        .await;
        assert_eq!((s, b["id"].as_i64()), (201, Some(*id)));
    }

    // Steps and replies through both survivors at once.
    let steps = told.iter().map(|(k, id, ..)| {
        let (live, clerk, observer) = (live.clone(), clerk.clone(), tokens[k % 3].clone());
        async move {
            let (s, b, _) = with_retry(
                &live,
                *k,
                "POST",
                &format!("/api/v1/issues/{id}/transitions"),
                &clerk,
                &format!("ack-{id}"),
                json!({ "action": "acknowledge" }),
            )
            .await;
            assert_eq!(s, 200, "acknowledge {id}: {b}");
            let (s, b, _) = with_retry(
                &live,
                k + 1,
                "POST",
                &format!("/api/v1/issues/{id}/comments"),
                &observer,
                &format!("reply-{id}"),
                json!({ "body": "请尽快办理" }),
            )
            .await;
            assert_eq!(s, 201, "reply {id}: {b}");
        }
    });
    futures_util::future::join_all(steps).await;
    assert_eq!(
        count(
            &mut pg,
            "SELECT count(*) AS n FROM issues WHERE status = 'assigned'"
        ),
        0
    );
    assert_eq!(
        count(&mut pg, "SELECT count(*) AS n FROM issue_comments"),
        FILINGS as i64
    );

    // Every deadline falls due now; the survivors act on each exactly once.
    let due = count(
        &mut pg,
        "SELECT count(*) AS n FROM sla_timers WHERE fired_at IS NULL",
    );
    assert!(due > 0);
    diesel::sql_query("UPDATE sla_timers SET due_at = now() AT TIME ZONE 'UTC' - interval '1 minute' WHERE fired_at IS NULL")
        .execute(&mut pg)
        .unwrap();
    let pending_due = "SELECT count(*) AS n FROM sla_timers WHERE fired_at IS NULL AND due_at <= now() AT TIME ZONE 'UTC'";
    for _ in 0..300 {
        if count(&mut pg, pending_due) == 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&mut pg, pending_due),
        0,
        "the survivors fired every due timer"
    );
    let sla_events =
        "SELECT count(*) AS n FROM issue_events WHERE kind LIKE 'sla_%' OR kind = 'auto_close'";
    let twice = "SELECT count(*) AS n FROM (SELECT issue_id, kind, data FROM issue_events \
                 WHERE kind LIKE 'sla_%' OR kind = 'auto_close' \
                 GROUP BY issue_id, kind, data HAVING count(*) > 1) t";
    assert!(count(&mut pg, sla_events) > 0, "deadlines were recorded");
    assert_eq!(count(&mut pg, twice), 0, "no deadline recorded twice");

    // Every message goes out, the dead instance's leased ones after their lease; none twice,
    // but for one its sender may have handed to the mail server just before it died.
    let pending = "SELECT count(*) AS n FROM deliveries WHERE state = 'pending'";
    for _ in 0..300 {
        if count(&mut pg, pending) == 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&mut pg, pending), 0, "every delivery was sent");
    let sent = ids(
        &mut pg,
        "SELECT id AS n FROM deliveries WHERE state = 'sent' AND channel = 'email'",
    );
    assert!(!sent.is_empty());
    let mut by_delivery: BTreeMap<i64, usize> = BTreeMap::new();
    for m in sink.messages() {
        let id = m
            .data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <delivery-"))
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("no delivery id in\n{}", m.data));
        *by_delivery.entry(id).or_default() += 1;
    }
    assert_eq!(by_delivery.keys().copied().collect::<BTreeSet<_>>(), sent);
    for (id, times) in &by_delivery {
        assert!(
            *times == 1 || leased_when_killed.contains(id),
            "delivery {id} was sent {times} times"
        );
    }
    assert_eq!(
        count(
            &mut pg,
            "SELECT count(*) AS n FROM deliveries WHERE state = 'dead'"
        ),
        0
    );
    drop(instances);
}
