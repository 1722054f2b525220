//! The real binary: first start on an empty database, and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, Db, TestApp, TestDatabase};
use crate::on_both_databases;

on_both_databases!(
    the_first_start_prints_a_generated_admin_password_once,
    sigterm_lets_in_flight_requests_finish_and_loses_nothing,
    files_in_the_data_folder_are_for_the_service_alone,
    logs_are_json_lines_with_the_request_id_on_each_line_of_a_request_by_setting,
);

async fn logs_are_json_lines_with_the_request_id_on_each_line_of_a_request_by_setting(db: Db) {
    let database = TestDatabase::new(db);
    let mut server = Running::start(
        &database,
        &[
            ("OBSERVER_DESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("OBSERVER_DESK_LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
        ],
    );
    // The second says it was forwarded for another address: with no trusted proxy, the log
    // names the peer all the same.
    for (password, forwarded) in [
        (ADMIN_PASSWORD, None),
        ("not-the-password", Some("203.0.113.9")),
    ] {
        let mut request = awc::Client::new().post(format!("{}/api/v1/auth/login", server.address));
        if let Some(address) = forwarded {
            request = request.insert_header(("X-Forwarded-For", address));
        }
        request
            .send_json(&json!({ "username": "admin", "password": password }))
            .await
            .expect("an answer");
    }
    server.terminate();
    assert!(server.wait().success());
    std::thread::sleep(Duration::from_millis(200));
    let raw = server.output_so_far();
    let lines: Vec<serde_json::Value> = raw
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // The events logged while answering a login carry that request's id, and each request's
    // id is its own.
    let ids: Vec<&str> = ["login", "failed login"]
        .iter()
        .map(|message| {
            let line = lines
                .iter()
                .find(|l| l["message"] == *message)
                .unwrap_or_else(|| panic!("no {message:?} line in {lines:?}"));
            assert_eq!(line["level"], "INFO");
            line["span"]["request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no request id: {line}"))
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    // Each request closes with a line naming its route (as a pattern) and its status.
    for (id, status) in ids.iter().zip([200, 401]) {
        let close = lines
            .iter()
            .find(|l| l["message"] == "close" && l["span"]["request_id"] == *id)
            .unwrap_or_else(|| panic!("no close line for {id} in {lines:?}"));
        assert_eq!(close["span"]["http.route"], "/api/v1/auth/login", "{close}");
        assert_eq!(close["span"]["http.method"], "POST", "{close}");
        assert_eq!(close["span"]["http.status_code"], status, "{close}");
        assert_eq!(close["span"]["http.client_ip"], "127.0.0.1", "{close}");
    }
    // Every line logged inside a request names it.
    for line in lines.iter().filter(|l| l.get("span").is_some()) {
        assert!(line["span"]["request_id"].is_string(), "{line}");
    }
    // And no line holds the password.
    assert!(!raw.concat().contains(ADMIN_PASSWORD));
}

async fn files_in_the_data_folder_are_for_the_service_alone(db: Db) {
    use std::os::unix::fs::PermissionsExt;
    let database = TestDatabase::new(db);
    let data = database.dir().join("data");
    // A folder left open by an earlier version is closed on start.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut server = Running::start(&database, &[]);
    let printed = server.output_so_far().join("\n");
    let password = printed
        .split("with password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let (status, _) = post_json(
        &server.address,
        "/api/v1/auth/login",
        json!({ "username": "admin", "password": password }),
    )
    .await;
    assert_eq!(status, 200);
    server.terminate();
    assert!(server.wait().success());
    let mut seen = Vec::new();
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            seen.push(path);
        }
    }
    assert!(seen.iter().any(|p| p.ends_with("jwt-secret")), "{seen:?}");
    if db == Db::Sqlite {
        // The test keeps its SQLite file beside the data folder; the service created it.
        seen.push(database.dir().join("test.db"));
    }
    for path in seen.iter().chain([&data]) {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
    }
}

pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) address: String,
}

impl Running {
    /// Starts `observer-desk` on the database and waits until it listens.
    // The child is waited for by `Drop for Running`; on a panic before that, the test
    // process exits and takes it along.
    #[allow(clippy::zombie_processes)]
    pub(crate) fn start(database: &TestDatabase, extra_env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_observer-desk"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &database.url)
            .env("OBSERVER_DESK_BIND", "127.0.0.1:0")
            .env("OBSERVER_DESK_DATA_DIR", database.dir().join("data"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("observer-desk starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no listening line; saw {seen:?}"));
            if let Some(addr) = line.strip_prefix("observer-desk listening on ") {
                let address = addr.trim().to_string();
                // Lines before it are kept for the caller.
                let (tx2, rx2) = mpsc::channel();
                for l in seen {
                    let _ = tx2.send(l);
                }
                std::thread::spawn(move || {
                    while let Ok(l) = lines.recv() {
                        if tx2.send(l).is_err() {
                            break;
                        }
                    }
                });
                return Running {
                    child,
                    lines: rx2,
                    address,
                };
            }
            seen.push(line);
        }
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut off.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn output_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// SIGTERM, sent by the system call itself (a `kill` process could fail to start on a
    /// loaded machine, and the server would never hear it).
    fn terminate(&mut self) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("the server's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .expect("SIGTERM sent to the server");
    }

    /// The server's exit, within its own shutdown timeout (30 s) and some slack for a
    /// loaded machine.
    fn wait(&mut self) -> std::process::ExitStatus {
        for _ in 0..900 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("observer-desk did not stop within 45 s of SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connections on `port` the server has not read yet: those waiting in the listening socket's
/// queue, accepted ones whose request bytes still wait in the socket, and client sockets
/// whose bytes the server's side has not acknowledged yet (on a loaded machine, loopback
/// traffic can wait in the kernel's backlog after the client's write returned, and then
/// shows on neither of the server's sockets).
fn not_yet_read_by_the_server(port: u16) -> u64 {
    let mut unread = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(state), Some(queues)) =
                (f.get(1), f.get(2), f.get(3), f.get(4))
            else {
                continue;
            };
            let port_of = |a: &str| {
                a.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            let (ours, theirs) = (port_of(local) == Some(port), port_of(remote) == Some(port));
            let queue = |i: usize| {
                u64::from_str_radix(queues.split(':').nth(i).unwrap_or("0"), 16).unwrap_or(0)
            };
            let (tx, rx) = (queue(0), queue(1));
            match *state {
                // Listening: the receive queue counts connections waiting to be accepted.
                "0A" if ours => unread += rx,
                // Established on the server's side: bytes received and not yet read.
                "01" if ours && rx > 0 => unread += 1,
                // The client's side: bytes sent that the server's side has not acknowledged.
                "01" if theirs && tx > 0 => unread += 1,
                // A handshake not yet complete on either side.
                "02" if theirs => unread += 1,
                "03" if ours => unread += 1,
                _ => {}
            }
        }
    }
    unread
}

/// A login written whole on a fresh connection; waits on `sent` once written, then reads
/// the answer.
fn raw_login(address: &str, sent: &std::sync::Barrier) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let host = address.trim_start_matches("http://");
    let body = json!({ "username": "admin", "password": ADMIN_PASSWORD }).to_string();
    let mut s = std::net::TcpStream::connect(host).expect("connected");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request written");
    sent.wait();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or_default();
    (status, json)
}

async fn post_json(address: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let mut res = client
        .post(format!("{address}{path}"))
        .send_json(&body)
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
    let bytes = res.body().await.expect("body");
    (
        res.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

async fn the_first_start_prints_a_generated_admin_password_once(db: Db) {
    let database = TestDatabase::new(db);
    let mut first = Running::start(&database, &[]);
    let printed = first.output_so_far().join("\n");
    let password = printed
        .split("with password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no generated password in {printed:?}"))
        .to_string();
    let (status, body) = post_json(
        &first.address,
        "/api/v1/auth/login",
        json!({ "username": "admin", "password": password }),
    )
    .await;
    assert_eq!(status, 200, "the first start's login: {body}");
    assert_eq!(body["user"]["role"], "admin");
    first.terminate();
    let stopped = first.wait();
    assert!(
        stopped.success(),
        "the first start ended with {stopped:?}; it printed {:?}",
        first.output_so_far()
    );

    // The second start finds the admin and prints no password.
    let mut second = Running::start(&database, &[]);
    let printed = second.output_so_far();
    assert!(
        !printed.iter().any(|l| l.contains("with password: ")),
        "the second start printed a password: {printed:?}"
    );
    let (status, body) = post_json(
        &second.address,
        "/api/v1/auth/login",
        json!({ "username": "admin", "password": password }),
    )
    .await;
    assert_eq!(status, 200, "the second start's login: {body}");
    second.terminate();
    let stopped = second.wait();
    assert!(
        stopped.success(),
        "the second start ended with {stopped:?}; it printed {:?}",
        second.output_so_far()
    );
}

async fn sigterm_lets_in_flight_requests_finish_and_loses_nothing(db: Db) {
    let database = TestDatabase::new(db);
    let mut server = Running::start(
        &database,
        &[
            ("OBSERVER_DESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
            // Six logins of one account at once: each is counted before its check, so the
            // per-account limit must leave room for them.
            ("OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER", "20"),
        ],
    );
    let address = server.address.clone();
    // Logins are slow on purpose (argon2): several are in flight when the signal lands.
    // Each request is written whole on its own connection before the signal is sent, so
    // that "in flight" does not depend on how fast a loaded client connects.
    let sent = std::sync::Arc::new(std::sync::Barrier::new(7));
    let logins: Vec<_> = (0..6)
        .map(|_| {
            let (address, sent) = (address.clone(), sent.clone());
            actix_web::rt::task::spawn_blocking(move || raw_login(&address, &sent))
        })
        .collect();
    let wait = sent.clone();
    actix_web::rt::task::spawn_blocking(move || wait.wait())
        .await
        .unwrap();
    // Written is not yet read: on a loaded machine a connection may still wait in the listen
    // queue, or be accepted and wait for a worker to take it up, and a server that stops drops
    // both. The kernel tells how many bytes each of the server's sockets holds unread: once the
    // listening socket holds no connection and no accepted socket holds unread bytes, every
    // login is being read by a worker, which must finish it.
    let port: u16 = address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    let started = std::time::Instant::now();
    while not_yet_read_by_the_server(port) > 0 && started.elapsed() < Duration::from_secs(20) {
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        not_yet_read_by_the_server(port),
        0,
        "the logins were not taken up within 20 s"
    );
    server.terminate();
    // A login the server had started is answered in full. One whose bytes it had read but
    // not yet started when the stop came (actix-http drains a connection: the request under
    // way finishes, a queued one does not start) gets no answer at all, and must leave no
    // trace: that is told below by the sessions in the database.
    let mut tokens = Vec::new();
    let mut never_started = 0;
    for login in logins {
        let (status, body) = login.await.expect("login task");
        match status {
            200 => tokens.push(
                body["refresh_token"]
                    .as_str()
                    .expect("a whole answer, with its refresh token")
                    .to_string(),
            ),
            0 => never_started += 1,
            other => panic!("an in-flight login answered {other}: {body}"),
        }
    }
    assert!(
        server.wait().success(),
        "observer-desk did not exit cleanly"
    );
    assert!(
        !tokens.is_empty(),
        "no login was under way when the stop came ({never_started} never started)"
    );

    // Every session the stopped server handed out was durably written, and no login wrote a
    // session without answering: nothing was cut off half-way.
    let store = observer_desk::db::Db::connect(&database.url, 1).unwrap();
    let sessions = store
        .read(|conn| {
            use diesel::prelude::*;
            use observer_desk::db::schema::refresh_tokens;
            Ok(refresh_tokens::table.count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(
        sessions,
        tokens.len() as i64,
        "sessions written vs logins answered ({never_started} unanswered)"
    );
    let app = TestApp::spawn_with(db, |s| s.database_url = database.url.clone()).await;
    for token in tokens {
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": token }),
        )
        .await
        .assert_status(200);
    }
}
