//! Health, readiness and metrics.

use std::sync::{Arc, Mutex};

use actix_web::rt::net::{TcpListener, TcpStream};
use actix_web::rt::task::JoinHandle;

use crate::helpers::{Db, TestApp, TestDatabase, pg_admin_url, pg_host_port, postgres_available};
use crate::on_both_databases;

on_both_databases!(
    healthz_and_readyz_answer_when_all_is_well,
    metrics_count_requests_by_route_and_status,
    metrics_show_the_pool_the_sla_worker_and_the_outbox,
    a_request_waits_for_a_connection_no_longer_than_the_checkout_timeout_and_is_counted,
    made_up_methods_get_405_with_allow_and_cannot_grow_the_metrics,
    three_instances_starting_at_once_on_an_empty_database_all_come_up,
    answers_of_1_kib_or_more_are_gzipped_for_clients_that_accept_it,
);

async fn answers_of_1_kib_or_more_are_gzipped_for_clients_that_accept_it(db: Db) {
    use std::io::Read;
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let plain = app.get("/openapi.yaml", &admin).await;
    let gzipped = app
        .send(
            "GET",
            "/openapi.yaml",
            Some(&admin),
            &[("Accept-Encoding", "gzip")],
            None,
        )
        .await;
    assert_eq!(gzipped.header("content-encoding").as_deref(), Some("gzip"));
    assert!(
        gzipped.bytes.len() * 3 < plain.bytes.len(),
        "{} vs {}",
        gzipped.bytes.len(),
        plain.bytes.len()
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gzipped.bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text.as_bytes(), &plain.bytes[..]);
    // Nothing for a client that did not ask; and a small answer (under 1 KiB) goes as it is,
    // saying it does not vary.
    assert!(plain.header("content-encoding").is_none());
    let small = app
        .send(
            "GET",
            "/healthz",
            None,
            &[("Accept-Encoding", "gzip")],
            None,
        )
        .await;
    assert_eq!(small.status, 200);
    assert!(small.header("content-encoding").is_none());
    assert!(small.header("vary").is_none());
    assert_eq!(small.body["status"], "ok");
}

async fn three_instances_starting_at_once_on_an_empty_database_all_come_up(db: Db) {
    for _round in 0..3 {
        let database = crate::helpers::TestDatabase::new(db);
        let settings = crate::helpers::test_settings(&database);
        let starts = (0..3).map(|_| observer_desk::startup::Application::build(settings.clone()));
        let apps = futures_util::future::join_all(starts).await;
        let mut handles = Vec::new();
        for app in apps {
            let app = app.unwrap_or_else(|e| panic!("an instance failed to start: {e:#}"));
            let address = format!("http://127.0.0.1:{}", app.port());
            handles.push(app.handle());
            actix_web::rt::spawn(app.run_until_stopped());
            let ready = awc::Client::new()
                .get(format!("{address}/readyz"))
                .send()
                .await
                .unwrap();
            assert_eq!(ready.status(), 200);
        }
        // One admin, however many instances raced to create it.
        let app = TestApp::spawn_with(db, |s| s.database_url = database.url.clone()).await;
        let admin = app.admin_token().await;
        let users = app.get("/api/v1/users?role=admin", &admin).await;
        assert_eq!(
            users.assert_status(200)["items"].as_array().unwrap().len(),
            1
        );
        for h in handles {
            h.stop(false).await;
        }
    }
}

async fn made_up_methods_get_405_with_allow_and_cannot_grow_the_metrics(db: Db) {
    let app = TestApp::spawn(db).await;
    let before = app.request("GET", "/metrics", None, None).await.text.len();
    for i in 0..300 {
        let method = format!("X{}", "A".repeat(i + 1));
        let r = app.request(&method, "/healthz", None, None).await;
        r.assert_problem(405, "method_not_allowed");
        assert_eq!(r.header("allow").as_deref(), Some("GET"));
        app.request(&method, "/no/such/route", None, None)
            .await
            .assert_problem(404, "route_not_found");
    }
    let r = app.request("PUT", "/api/v1/issues", None, None).await;
    r.assert_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let text = app.request("GET", "/metrics", None, None).await.text;
    assert!(!text.contains("XAA"), "a made-up method became a label");
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz",status="405"} 300"#),
        "{text}"
    );
    assert!(
        text.len() < before + 6000,
        "/metrics grew from {before} to {} bytes",
        text.len()
    );
}

async fn healthz_and_readyz_answer_when_all_is_well(db: Db) {
    let app = TestApp::spawn(db).await;
    // Every answer, error or not, carries the baseline headers.
    let admin = app.admin_token().await;
    for r in [
        app.get("/api/v1/me", &admin).await,
        app.request("GET", "/api/v1/me", None, None).await,
        app.request("GET", "/no/such/route", None, None).await,
    ] {
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-cache")
        );
    }
    let r = app.request("GET", "/healthz", None, None).await;
    assert_eq!(r.assert_status(200)["status"], "ok");
    let r = app.request("GET", "/readyz", None, None).await;
    assert_eq!(r.assert_status(200)["status"], "ready");
}

async fn metrics_show_the_pool_the_sla_worker_and_the_outbox(db: Db) {
    let c = crate::county::County::new_with(db, |s| {
        s.sla_tick = std::time::Duration::from_millis(100);
    })
    .await;
    let issue = c.file("时限将至").await;
    // The issue's first deadline falls due now.
    let url = c.app.database_url().to_string();
    let handle = observer_desk::db::Db::connect(&url, 1).unwrap();
    let mut conn = handle.connection().unwrap();
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE sla_timers SET due_at = '2020-01-01 00:00:00' WHERE issue_id = {issue} AND fired_at IS NULL"
    ))
    .execute(&mut conn)
    .unwrap();
    let value = |text: &str, name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    };
    let mut text = String::new();
    for _ in 0..100 {
        text = c.app.request("GET", "/metrics", None, None).await.text;
        if value(&text, "sla_timers_fired_total") >= 1.0 && value(&text, "sla_timers_due") == 0.0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(value(&text, "sla_timers_fired_total") >= 1.0, "{text}");
    assert_eq!(value(&text, "sla_timers_due"), 0.0);
    assert_eq!(value(&text, "sla_timer_lag_seconds"), 0.0);
    assert_eq!(value(&text, "observer_desk_database_up"), 1.0);
    assert!(value(&text, "db_pool_checkouts_total") >= 1.0);
    assert_eq!(value(&text, "db_pool_max_connections"), 4.0);
    assert!(text.contains("db_pool_connections{state=\"in_use\"}"));
    // The outbox as the database holds it.
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |state: &str, conn: &mut observer_desk::db::DbConn| {
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM deliveries WHERE state = '{state}'"
        ))
        .get_result::<N>(conn)
        .unwrap()
        .n as f64
    };
    let text = c.app.request("GET", "/metrics", None, None).await.text;
    let pending = value(&text, "outbox_pending");
    assert!(
        (pending - count("pending", &mut conn)).abs() <= 1.0,
        "{text}"
    );
    assert_eq!(value(&text, "outbox_dead"), count("dead", &mut conn));
}

async fn metrics_count_requests_by_route_and_status(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    app.get("/api/v1/me", &admin).await.assert_status(200);
    app.get("/api/v1/me", &admin).await.assert_status(200);
    app.get("/api/v1/users/7777", &admin)
        .await
        .assert_status(404);
    app.request("GET", "/api/v1/me", None, None)
        .await
        .assert_status(401);
    let r = app.request("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text;
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/me",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/me",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/users/{id}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="/api/v1/me"} 3"#),
        "{text}"
    );
}

/// A TCP relay in front of PostgreSQL that the test can cut and restore, so the service
/// sees its database vanish and return without being restarted.
struct Relay {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String, port: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("relay binds");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let up = upstream.clone();
        let accept = actix_web::rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let up = up.clone();
                let conn = actix_web::rt::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(up).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay {
            port,
            upstream,
            tasks,
        }
    }

    /// Closes the listener and every relayed connection.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restore(&self) -> Relay {
        Relay::start(self.upstream.clone(), self.port).await
    }
}

#[actix_web::test]
async fn readyz_follows_postgresql_going_away_and_coming_back() {
    if !postgres_available() {
        return;
    }
    let host_port = pg_host_port();
    let relay = Relay::start(host_port.clone(), 0).await;
    let relay_port = relay.port;
    let app = TestApp::spawn_with(Db::Postgres, move |s| {
        s.database_url = s
            .database_url
            .replace(&host_port, &format!("127.0.0.1:{relay_port}"));
    })
    .await;
    app.request("GET", "/readyz", None, None)
        .await
        .assert_status(200);

    relay.cut();
    let down = app.request("GET", "/readyz", None, None).await;
    down.assert_problem(503, "database_unavailable");
    // A request that needs the database fails cleanly too, not with a 500.
    let login = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    login.assert_problem(503, "database_unavailable");
    // Liveness does not depend on the database.
    app.request("GET", "/healthz", None, None)
        .await
        .assert_status(200);

    let restored = relay.restore().await;
    let mut ready = false;
    for _ in 0..20 {
        if app.request("GET", "/readyz", None, None).await.status == 200 {
            ready = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "readyz did not recover after the database came back");
    app.admin_token().await;
    restored.cut();
}

#[actix_web::test]
async fn postgresql_on_the_same_host_is_reached_through_its_unix_socket_as_well() {
    if !postgres_available() {
        return;
    }
    use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, sql_types};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = sql_types::Text)]
        value: String,
    }
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::establish(&admin_url).expect("connect to PostgreSQL");
    let mut setting = |name: &str| {
        diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
            .get_result::<Row>(&mut admin)
            .expect("a setting")
            .value
    };
    let (dirs, port) = (setting("unix_socket_directories"), setting("port"));
    let dir = dirs
        .split(',')
        .map(str::trim)
        .find(|d| d.starts_with('/'))
        .unwrap_or_else(|| panic!("PostgreSQL listens on no Unix socket: {dirs:?}"))
        .to_string();
    // postgres://user@127.0.0.1:5432/db becomes postgres://user@%2Fvar%2Frun%2Fpostgresql:5432/db
    let host_port = pg_host_port();
    let socket = format!("{}:{port}", dir.replace('/', "%2F"));
    let app = TestApp::spawn_with(Db::Postgres, move |s| {
        s.database_url = s.database_url.replace(&host_port, &socket);
    })
    .await;
    app.request("GET", "/readyz", None, None)
        .await
        .assert_status(200);
    app.admin_token().await;
    // Its connections came through the socket: PostgreSQL knows no client address for them.
    let database = app.database_url().rsplit('/').next().unwrap().to_string();
    let through_socket = diesel::sql_query(format!(
        "SELECT count(*)::text AS value FROM pg_stat_activity \
         WHERE datname = '{database}' AND backend_type = 'client backend' AND client_addr IS NULL"
    ))
    .get_result::<Row>(&mut admin)
    .expect("pg_stat_activity")
    .value;
    assert_ne!(
        through_socket, "0",
        "no connection of the service came through {dir}"
    );
}

#[actix_web::test]
async fn a_statement_past_the_postgresql_timeout_is_cancelled_and_answers_unavailable() {
    if !crate::helpers::postgres_available() {
        return;
    }
    use diesel::RunQueryDsl;
    let database = TestDatabase::new(Db::Postgres);
    let options = observer_desk::db::DbOptions {
        pool_size: 2,
        checkout_timeout: std::time::Duration::from_secs(5),
        statement_timeout: Some(std::time::Duration::from_millis(100)),
    };
    let db = observer_desk::db::Db::connect_with(&database.url, options).unwrap();
    db.migrate().unwrap();
    let e = db
        .read(|c| Ok(diesel::sql_query("SELECT pg_sleep(1)").execute(c)?))
        .await
        .unwrap_err();
    assert_eq!(e.code, observer_desk::error::ErrorCode::DatabaseUnavailable);
    // Quick statements are untouched, and operations work has no such limit.
    db.read(|c| Ok(diesel::sql_query("SELECT pg_sleep(0.01)").execute(c)?))
        .await
        .unwrap();
    let mut own = db.connection().unwrap();
    diesel::sql_query("SELECT pg_sleep(0.3)")
        .execute(&mut own)
        .unwrap();
}

async fn a_request_waits_for_a_connection_no_longer_than_the_checkout_timeout_and_is_counted(
    db: Db,
) {
    let database = TestDatabase::new(db);
    let options = observer_desk::db::DbOptions {
        pool_size: 1,
        checkout_timeout: std::time::Duration::from_millis(200),
        statement_timeout: None,
    };
    let db = observer_desk::db::Db::connect_with(&database.url, options).unwrap();
    db.migrate().unwrap();
    // The only connection is busy for a second.
    let (held, release) = std::sync::mpsc::channel::<()>();
    let busy = {
        let db = db.clone();
        actix_web::rt::spawn(async move {
            db.read(move |_| {
                let _ = release.recv_timeout(std::time::Duration::from_secs(5));
                Ok(())
            })
            .await
        })
    };
    actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let e = db.read(|_| Ok(())).await.unwrap_err();
    assert_eq!(e.code, observer_desk::error::ErrorCode::DatabaseUnavailable);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let report = db.pool_report();
    assert_eq!((report.size, report.in_use, report.timeouts), (1, 1, 1));
    held.send(()).unwrap();
    busy.await.unwrap().unwrap();
    db.read(|_| Ok(())).await.unwrap();
    assert_eq!(db.pool_report().in_use, 0);
}
