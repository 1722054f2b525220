//! Department webhooks against a real HTTP receiver started by the test: signed calls it
//! can verify, retries, dead letters, and an admin's retry once the receiver is back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    a_department_webhook_gets_signed_calls_it_can_verify,
    an_unreachable_webhook_is_dead_lettered_and_an_admin_can_retry_it,
    a_webhook_at_this_machine_or_a_private_network_is_refused_when_saved_and_when_called,
    a_redirect_from_the_receiver_is_not_followed,
    a_queued_call_goes_to_the_url_of_the_moment_and_is_dropped_when_the_webhook_is_removed,
    a_department_with_no_active_users_still_hears_through_its_webhook,
);

/// Points department A's webhook at `url` (or removes it), as an admin does.
async fn set_webhook(c: &County, url: Option<String>) -> crate::helpers::Resp {
    c.app
        .patch(
            &format!("/api/v1/departments/{}", c.dept_a),
            &c.admin,
            json!({ "webhook_url": url, "webhook_secret": SECRET }),
        )
        .await
}

async fn dead_letters(c: &County) -> Vec<Value> {
    for _ in 0..100 {
        let r = c
            .app
            .get("/api/v1/admin/deliveries?state=dead", &c.admin)
            .await;
        let dead = r.assert_status(200)["items"].as_array().unwrap().clone();
        if !dead.is_empty() {
            return dead;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

async fn a_webhook_at_this_machine_or_a_private_network_is_refused_when_saved_and_when_called(
    db: Db,
) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    // Default settings: private targets are not allowed.
    let c = County::new_with(db, |s| {
        s.delivery_tick = Duration::from_millis(100);
        s.delivery_backoff = Duration::from_millis(100);
        s.delivery_max_attempts = 2;
    })
    .await;
    for url in [
        receiver.url(),
        "http://localhost:8080/hook".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://10.20.30.40/hook".into(),
        "http://[::1]:9/hook".into(),
    ] {
        let r = set_webhook(&c, Some(url.clone())).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["code"], "not_public", "{url}");
    }
    // A target that got into the database anyway (saved while allowed, say) is refused
    // when the call is made: nothing reaches the receiver.
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    let url = receiver.url();
    let dept = c.dept_a;
    store
        .write(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "UPDATE departments SET webhook_url = '{url}' WHERE id = {dept}"
            ))
            .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    c.file("to a loopback bot").await;
    let dead = dead_letters(&c).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0]["last_error"],
        "the webhook points at an address that is not allowed"
    );
    assert!(
        calls.lock().unwrap().is_empty(),
        "a call reached the loopback receiver"
    );
    receiver.handle.stop(true).await;
}

async fn a_redirect_from_the_receiver_is_not_followed(db: Db) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    let c = county(db).await;
    set_webhook(
        &c,
        Some(format!("http://127.0.0.1:{}/moved", receiver.port)),
    )
    .await
    .assert_status(200);
    c.file("redirected").await;
    let dead = dead_letters(&c).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["last_error"], "the receiver answered HTTP 307");
    assert!(
        calls.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
    receiver.handle.stop(true).await;
}

async fn a_queued_call_goes_to_the_url_of_the_moment_and_is_dropped_when_the_webhook_is_removed(
    db: Db,
) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    let closed = Receiver::start(0, Arc::new(Mutex::new(Vec::new()))).await;
    let closed_port = closed.port;
    closed.handle.stop(true).await;
    let c = County::new_with(db, |s| {
        s.webhook_allow_private = true;
        s.delivery_tick = Duration::from_millis(100);
        s.delivery_backoff = Duration::from_millis(1500);
        s.delivery_max_attempts = 20;
    })
    .await;
    let set_url = |url: Option<String>| {
        let c = &c;
        async move {
            set_webhook(c, url).await.assert_status(200);
        }
    };
    set_url(Some(format!("http://127.0.0.1:{closed_port}/hook"))).await;
    c.file("moving bot").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    // The first try failed; the department moves its bot; the retry goes to the new one.
    set_url(Some(receiver.url())).await;
    let got = wait_calls(&calls, 1).await;
    assert_eq!(got.len(), 1);
    assert!(verified(&got[0]));
    // Queued again, then the department removes its webhook: the call is dropped.
    set_url(Some(format!("http://127.0.0.1:{closed_port}/hook"))).await;
    c.file("bot gone").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    set_url(None).await;
    let dead = dead_letters(&c).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0]["last_error"],
        "the department has no webhook any more"
    );
    assert_eq!(calls.lock().unwrap().len(), 1);
    receiver.handle.stop(true).await;
}

const SECRET: &str = "bot-secret-0123456789";

#[derive(Debug, Clone)]
struct Call {
    timestamp: String,
    signature: String,
    body: String,
}

struct Receiver {
    port: u16,
    handle: ServerHandle,
}

impl Receiver {
    async fn start(port: u16, calls: Arc<Mutex<Vec<Call>>>) -> Receiver {
        let shared = calls;
        let server = HttpServer::new(move || {
            let calls = shared.clone();
            App::new()
                .route(
                    "/hook",
                    web::post().to(move |req: HttpRequest, body: String| {
                        let calls = calls.clone();
                        async move {
                            let header = |n: &str| {
                                req.headers()
                                    .get(n)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_string()
                            };
                            calls.lock().unwrap().push(Call {
                                timestamp: header("X-Observer-Desk-Timestamp"),
                                signature: header("X-Observer-Desk-Signature"),
                                body,
                            });
                            HttpResponse::Ok().finish()
                        }
                    }),
                )
                // A receiver that sends the call on elsewhere: the service must not follow.
                .route(
                    "/moved",
                    web::post().to(|req: HttpRequest| async move {
                        let port = req.app_config().local_addr().port();
                        HttpResponse::TemporaryRedirect()
                            .insert_header(("Location", format!("http://127.0.0.1:{port}/hook")))
                            .finish()
                    }),
                )
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .expect("receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver { port, handle }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }
}

/// What a receiver does: recompute the HMAC over `timestamp.body` and compare.
fn verified(call: &Call) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{}", call.timestamp, call.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    call.signature == format!("sha256={expected}")
}

async fn county(db: Db) -> County {
    County::new_with(db, |s| {
        s.webhook_allow_private = true;
        s.delivery_tick = Duration::from_millis(100);
        s.delivery_backoff = Duration::from_millis(150);
        s.delivery_max_attempts = 3;
    })
    .await
}

async fn wait_calls(calls: &Arc<Mutex<Vec<Call>>>, n: usize) -> Vec<Call> {
    for _ in 0..100 {
        if calls.lock().unwrap().len() >= n {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    calls.lock().unwrap().clone()
}

async fn a_department_webhook_gets_signed_calls_it_can_verify(db: Db) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    let c = county(db).await;
    set_webhook(&c, Some(receiver.url()))
        .await
        .assert_status(200);
    let id = c.file("to the bot").await;
    let got = wait_calls(&calls, 1).await;
    assert_eq!(got.len(), 1);
    let call = &got[0];
    assert!(verified(call), "signature does not verify: {call:?}");
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["event"], "assigned");
    assert_eq!(body["issue"]["id"], id);
    assert!(body["issue"]["number"].as_str().unwrap().starts_with("20"));
    // The new issue's deadlines travel with it.
    for due in ["ack_due_at", "resolve_due_at"] {
        assert!(
            body["issue"][due]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{body}"
        );
    }
    // A tampered body or another secret does not verify.
    let mut forged = call.clone();
    forged.body = forged.body.replace("assigned", "resolved");
    assert!(!verified(&forged));
    // The timestamp is recent, so that a receiver can refuse replays.
    let ts: i64 = call.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    // A chase reaches the bot too; the observer's private notes never travel in it.
    c.step(
        &c.sup,
        id,
        json!({ "action": "chase", "comment": "内部催办意见" }),
    )
    .await;
    let got = wait_calls(&calls, 2).await;
    assert_eq!(got.len(), 2);
    assert!(!got[1].body.contains("内部催办意见"));
    receiver.handle.stop(true).await;
}

async fn a_department_with_no_active_users_still_hears_through_its_webhook(db: Db) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    let c = county(db).await;
    set_webhook(&c, Some(receiver.url()))
        .await
        .assert_status(200);
    let head = c.app.get("/api/v1/me", &c.head_a).await.assert_status(200)["id"]
        .as_i64()
        .unwrap();
    for user in [c.staff_a_id, head] {
        c.app
            .patch(
                &format!("/api/v1/users/{user}"),
                &c.admin,
                json!({ "active": false }),
            )
            .await
            .assert_status(200);
    }
    let id = c.file("nobody at the desk").await;
    let got = wait_calls(&calls, 1).await;
    assert_eq!(got.len(), 1, "the department's webhook was not called");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(
        (body["event"].as_str(), body["issue"]["id"].as_i64()),
        (Some("assigned"), Some(id))
    );
    receiver.handle.stop(true).await;
}

async fn an_unreachable_webhook_is_dead_lettered_and_an_admin_can_retry_it(db: Db) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start(0, calls.clone()).await;
    let port = receiver.port;
    receiver.handle.stop(true).await;
    let c = county(db).await;
    set_webhook(&c, Some(format!("http://127.0.0.1:{port}/hook")))
        .await
        .assert_status(200);
    c.file("nobody listens").await;
    let mut dead = Vec::new();
    for _ in 0..100 {
        let r = c
            .app
            .get("/api/v1/admin/deliveries?state=dead", &c.admin)
            .await;
        dead = r.assert_status(200)["items"].as_array().unwrap().clone();
        if !dead.is_empty() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead.len(), 1, "dead-lettered after its last try");
    assert_eq!(dead[0]["channel"], "webhook");
    let spec: Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let props = spec["components"]["schemas"]["Delivery"]["properties"]
        .as_object()
        .unwrap();
    let keys: Vec<&String> = dead[0].as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| props.contains_key(*k)) && keys.len() == props.len(),
        "Delivery drifted from openapi.yaml: {keys:?}"
    );
    assert_eq!(dead[0]["attempts"], 3);
    // A generic reason: nothing that would tell an open port from a closed one.
    assert_eq!(dead[0]["last_error"], "the receiver could not be reached");
    // Only admins see or retry deliveries.
    c.app
        .get("/api/v1/admin/deliveries", &c.sup)
        .await
        .assert_problem(403, "forbidden");
    let id = dead[0]["id"].as_i64().unwrap();
    c.app
        .post(
            &format!("/api/v1/admin/deliveries/{id}/retry"),
            Some(&c.sup),
            json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
    // The receiver comes back; the admin sends it again; it arrives once.
    let receiver = Receiver::start(port, calls.clone()).await;
    let r = c
        .app
        .post(
            &format!("/api/v1/admin/deliveries/{id}/retry"),
            Some(&c.admin),
            json!({}),
        )
        .await;
    assert_eq!(r.assert_status(200)["state"], "pending");
    let got = wait_calls(&calls, 1).await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(calls.lock().unwrap().len(), 1);
    assert!(verified(&got[0]));
    let sent = c
        .app
        .get("/api/v1/admin/deliveries?state=sent", &c.admin)
        .await;
    assert_eq!(sent.body["items"].as_array().unwrap().len(), 1);
    c.app
        .post(
            &format!("/api/v1/admin/deliveries/{id}/retry"),
            Some(&c.admin),
            json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    c.app
        .get("/api/v1/admin/deliveries?state=lost", &c.admin)
        .await
        .assert_problem(400, "invalid_query");
    receiver.handle.stop(true).await;
}
