//! Starting the service for a test: a fresh SQLite file or a fresh PostgreSQL database per
//! test, the server on port 0, and a small HTTP client that speaks JSON.

use std::io::Write;
use std::sync::OnceLock;

use awc::http::Method;
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use observer_desk::config::{Secret, Settings};
use observer_desk::startup::Application;
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "a-good-long-password";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("OBSERVER_DESK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The `host:port` of `pg_admin_url()`, as it appears in every test database's URL.
pub fn pg_host_port() -> String {
    pg_admin_url()
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_string()
}

/// Whether PostgreSQL tests can run. When the server is unreachable they are not run,
/// and a notice says so on the terminal, unless `OBSERVER_DESK_TEST_REQUIRE_PG=1` (as in
/// CI), which turns it into a failure.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let status = AVAILABLE.get_or_init(|| {
        PgConnection::establish(&pg_admin_url())
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match status {
        Ok(()) => true,
        Err(e) => {
            if std::env::var("OBSERVER_DESK_TEST_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!(
                    "OBSERVER_DESK_TEST_REQUIRE_PG=1 but PostgreSQL at {} is unreachable: {e}",
                    pg_admin_url()
                );
            }
            static NOTICE: OnceLock<()> = OnceLock::new();
            NOTICE.get_or_init(|| {
                // Written past the test harness's capture, so that it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** PostgreSQL is unreachable at {} ({e}).\n*** The PostgreSQL half of the tests was NOT run; only SQLite was tested.\n*** Start PostgreSQL or set OBSERVER_DESK_TEST_PG_URL, and OBSERVER_DESK_TEST_REQUIRE_PG=1 to fail instead.\n",
                    pg_admin_url()
                );
            });
            false
        }
    }
}

/// Runs each named `async fn(db: Db)` twice: as `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
                #[actix_web::test]
                async fn postgres() {
                    if $crate::helpers::postgres_available() {
                        super::$name($crate::helpers::Db::Postgres).await
                    }
                }
            }
        )*
    };
}

/// A fresh, empty database; dropped again when the guard goes.
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub fn new(db: Db) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        match db {
            Db::Sqlite => TestDatabase {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                pg_name: None,
                _dir: dir,
            },
            Db::Postgres => {
                let name = format!(
                    "od_test_{}",
                    observer_desk::auth::tokens::random_token(9)
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                let mut conn =
                    PgConnection::establish(&pg_admin_url()).expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create database");
                let base = pg_admin_url();
                let server = base
                    .rsplit_once('/')
                    .map(|(s, _)| s.to_string())
                    .unwrap_or(base);
                TestDatabase {
                    url: format!("{server}/{name}"),
                    pg_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = PgConnection::establish(&pg_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// The settings a test instance runs with on `database`: port 0, known secrets, a small pool.
pub fn test_settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::defaults(database.dir().join("data"));
    settings.database_url = database.url.clone();
    settings.bind = "127.0.0.1:0".parse().expect("address");
    settings.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    settings.jwt_secret = Some(Secret::new(JWT_SECRET));
    settings.db_pool_size = 4;
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    /// Dropped with the app: the database goes too.
    _database: TestDatabase,
    settings: Settings,
    handle: actix_web::dev::ServerHandle,
    stopped: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.text
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }
}

impl TestApp {
    pub fn data_dir(&self) -> &std::path::Path {
        &self.settings.data_dir
    }

    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    pub async fn spawn(db: Db) -> TestApp {
        TestApp::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let database = TestDatabase::new(db);
        let mut settings = test_settings(&database);
        tweak(&mut settings);
        TestApp::start(database, settings).await
    }

    async fn start(database: TestDatabase, settings: Settings) -> TestApp {
        let app = Application::build(settings.clone())
            .await
            .expect("application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let stopped = actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        TestApp {
            address,
            client,
            _database: database,
            settings,
            handle,
            stopped,
        }
    }

    /// A second instance of the service on the same database, with its own workers; it
    /// runs until the returned handle stops it.
    pub async fn sibling(&self) -> actix_web::dev::ServerHandle {
        self.sibling_at().await.0
    }

    /// [`TestApp::sibling`], with the address it answers on.
    pub async fn sibling_at(&self) -> (actix_web::dev::ServerHandle, String) {
        let app = Application::build(self.settings.clone())
            .await
            .expect("second instance starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        (handle, address)
    }

    /// Stops the service (server and workers) and starts it again on the same database;
    /// it stays down for `pause`.
    pub async fn restart_after(self, pause: std::time::Duration) -> TestApp {
        let TestApp {
            _database: database,
            settings,
            handle,
            stopped,
            ..
        } = self;
        handle.stop(true).await;
        stopped
            .await
            .expect("server task")
            .expect("server stopped cleanly");
        actix_web::rt::time::sleep(pause).await;
        TestApp::start(database, settings).await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        self.send(
            method,
            path,
            token,
            &[],
            body.map(|b| ("application/json", b.to_string())),
        )
        .await
    }

    /// The most general request: extra headers and a raw body with its content type.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Resp {
        self.send_bytes(
            method,
            path,
            token,
            headers,
            body.map(|(ct, raw)| (ct.to_string(), raw.into_bytes())),
        )
        .await
    }

    /// As `send`, with a body of any bytes.
    pub async fn send_bytes(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(String, Vec<u8>)>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some((content_type, raw)) => {
                req.insert_header(("Content-Type", content_type))
                    .send_body(raw)
                    .await
            }
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = res.body().limit(32 * 1024 * 1024).await.expect("body read");
        let text = String::from_utf8_lossy(&bytes).to_string();
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request("POST", path, token, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request("PATCH", path, Some(token), Some(&body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "username": username, "password": password }),
        )
        .await
    }

    /// The access token of a user who logs in successfully.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password).await;
        r.assert_status(200)["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.token("admin", ADMIN_PASSWORD).await
    }

    pub async fn create_department(&self, admin: &str, code: &str) -> i64 {
        let r = self
            .post(
                "/api/v1/departments",
                Some(admin),
                json!({ "code": code, "name": format!("{code} 局") }),
            )
            .await;
        r.assert_status(201)["id"].as_i64().expect("department id")
    }

    /// Creates a user with the test password and returns their id.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        department_id: Option<i64>,
    ) -> i64 {
        let r = self
            .post(
                "/api/v1/users",
                Some(admin),
                json!({
                    "username": username,
                    "password": PASSWORD,
                    "display_name": format!("{username} 同志"),
                    "role": role,
                    "department_id": department_id,
                }),
            )
            .await;
        r.assert_status(201)["id"].as_i64().expect("user id")
    }

    /// Creates a user and returns an access token for them.
    pub async fn user_token(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        department_id: Option<i64>,
    ) -> String {
        self.create_user(admin, username, role, department_id).await;
        self.token(username, PASSWORD).await
    }
}

/// Runs `observer-desk admin ARGS` on the database; returns (success, stdout, stderr).
pub fn admin_command(
    database: &TestDatabase,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    admin_command_on(&database.url, database.dir(), args, stdin)
}

/// As `admin_command`, on the database at `url` with the data folder `dir/data`, in `dir`.
pub fn admin_command_on(
    url: &str,
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_observer-desk"))
        .arg("admin")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("OBSERVER_DESK_DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("observer-desk starts");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}
