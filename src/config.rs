//! Settings, read once from the environment at start and then passed, never global.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

pub use crate::secret::Secret;

/// Limits on failed logins. A key (a username or a client address) that fails
/// `max_failures` times within `window` is refused for `lockout`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub max_failures_per_user: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            max_failures_per_user: 5,
            max_failures_per_address: 20,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://PATH` or `postgres://…`; default a SQLite file in the data folder.
    pub database_url: String,
    /// `OBSERVER_DESK_BIND`: address to listen on; default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `OBSERVER_DESK_DATA_DIR`: database file, attachments, generated secrets, dev mail; default `./data`.
    pub data_dir: PathBuf,
    /// `OBSERVER_DESK_ADMIN_PASSWORD`: on an empty database, user `admin` gets it; unset: generated and printed once.
    pub admin_password: Option<Secret>,
    /// `OBSERVER_DESK_JWT_SECRET`: HMAC key for access tokens; unset: generated once and kept in the data folder.
    pub jwt_secret: Option<Secret>,
    /// `OBSERVER_DESK_SLA_TICK_MS`: how often the SLA worker looks for due deadlines; default 30000.
    pub sla_tick: Duration,
    /// `OBSERVER_DESK_SMTP_URL`: e.g. `smtp://host:2525`; unset: mail is written to `DATA_DIR/mail/`.
    pub smtp_url: Option<Secret>,
    /// `OBSERVER_DESK_MAIL_FROM`: the sender of outgoing mail; default `Observer Desk <noreply@observer-desk.local>`.
    pub mail_from: String,
    /// `OBSERVER_DESK_DEMO=1` or `--demo`: load the county demo data on an empty database.
    pub demo: bool,
    /// `OBSERVER_DESK_DEMO_PASSWORD`: the password of every demo account; unset: generated and printed.
    pub demo_password: Option<Secret>,
    /// `OBSERVER_DESK_ACCESS_TOKEN_TTL_SECS`: lifetime of an access token; default 900 (15 minutes).
    pub access_token_ttl: Duration,
    /// `OBSERVER_DESK_REFRESH_TOKEN_TTL_DAYS`: lifetime of a refresh token since its last use; default 30.
    pub refresh_token_ttl: Duration,
    /// `OBSERVER_DESK_REFRESH_REUSE_GRACE_SECS`: a refresh token spent less than this long ago
    /// whose successor is unused is answered again with the same successor (a retried refresh
    /// whose answer was lost); later reuse revokes the session; default 30.
    pub refresh_reuse_grace: Duration,
    /// `OBSERVER_DESK_DB_POOL_SIZE`: connections in the read pool (PostgreSQL: the only pool); default 8.
    pub db_pool_size: u32,
    /// `OBSERVER_DESK_DB_CHECKOUT_TIMEOUT_MS`: how long a request waits for a free database
    /// connection before it is answered 503; default 5000.
    pub db_checkout_timeout: Duration,
    /// `OBSERVER_DESK_DB_STATEMENT_TIMEOUT_MS`: PostgreSQL cancels a statement of the service
    /// that runs longer (migrations and `admin` commands excepted); default 30000, 0 for none.
    pub db_statement_timeout: Option<Duration>,
    /// `OBSERVER_DESK_LOG_FORMAT`: `text` (default) or `json`, one object per line with the
    /// request's id on every line logged while answering it.
    pub log_format: LogFormat,
    /// `OBSERVER_DESK_DELIVERY_LEASE_SECS`: how long an instance holds a message it is sending;
    /// when it dies, another instance sends the message after this; default 300.
    pub delivery_lease: Duration,
    /// `OBSERVER_DESK_INSPECTION_MATCH_DAYS`: a reported inspection matches a filing planned
    /// this many days either side of the visit; default 1.
    pub inspection_match_days: i64,
    /// `OBSERVER_DESK_TRUST_FORWARDED_FOR=N`: the service sits behind N reverse proxies that
    /// each append to `X-Forwarded-For`; the client address is the entry the outermost of them
    /// appended (the N-th from the right; `1` or `true`: the rightmost). Default `0`, off: the
    /// peer address is used. Entries further left are the client's own words and never used.
    pub trusted_proxy_hops: u8,
    /// `OBSERVER_DESK_WEBHOOK_ALLOW_PRIVATE=1`: let department webhooks point at this machine
    /// or a private network (a bot inside the county's network); default off.
    pub webhook_allow_private: bool,
    /// `OBSERVER_DESK_MAX_BODY_BYTES`: the largest JSON body accepted; default 65536.
    pub max_body_bytes: usize,
    /// `OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER` / `..._PER_ADDRESS` / `OBSERVER_DESK_LOGIN_LOCKOUT_SECS`.
    pub throttle: ThrottleSettings,
    /// `OBSERVER_DESK_PUBLIC_URL`: where links in messages point; default `http://` and the bind address.
    pub public_url: Option<String>,
    /// `OBSERVER_DESK_DELIVERY_TICK_MS`: how often the delivery worker looks for messages to send; default 2000.
    pub delivery_tick: Duration,
    /// `OBSERVER_DESK_DELIVERY_BACKOFF_MS`: the wait after a first failed try, doubled each time (capped at an hour); default 30000.
    pub delivery_backoff: Duration,
    /// `OBSERVER_DESK_DELIVERY_MAX_ATTEMPTS`: tries before a message is dead-lettered; default 12 (about six hours).
    pub delivery_max_attempts: u32,
    /// `OBSERVER_DESK_SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may take to finish on SIGTERM; default 30.
    pub shutdown_timeout: Duration,
    /// `OBSERVER_DESK_IDEMPOTENCY_TTL_SECS`: how long an `Idempotency-Key` is remembered; default 86400 (24 hours).
    pub idempotency_ttl: Duration,
    /// `OBSERVER_DESK_MAX_UPLOAD_BYTES`: the largest attachment accepted; default 10485760 (10 MiB).
    pub max_upload_bytes: u64,
    /// `OBSERVER_DESK_STORAGE_URL`: where attachments are kept: unset, a folder under the data
    /// directory; `s3://bucket/prefix` (build feature `s3`, credentials from the usual `AWS_*` variables).
    pub storage_url: Option<String>,
    /// `OBSERVER_DESK_ORPHAN_GRACE_SECS`: temporary upload files and stored objects without an
    /// attachment row are removed (at start, then daily) once older than this; default 3600.
    pub orphan_grace: Duration,
    /// `OBSERVER_DESK_RANKING_MIN_ISSUES`: issues a department must have received in a quarter to be ranked; default 5.
    pub ranking_min_issues: i64,
}

/// A numeric setting: its variable, the smallest and largest value allowed, and where the
/// number goes.
type Number = (&'static str, u64, u64, fn(&mut Settings, u64));

/// The numeric settings: each variable named once.
const NUMBERS: &[Number] = &[
    ("OBSERVER_DESK_SLA_TICK_MS", 10, 86_400_000, |s, n| {
        s.sla_tick = Duration::from_millis(n)
    }),
    ("OBSERVER_DESK_ACCESS_TOKEN_TTL_SECS", 30, 86_400, |s, n| {
        s.access_token_ttl = Duration::from_secs(n)
    }),
    ("OBSERVER_DESK_REFRESH_TOKEN_TTL_DAYS", 1, 365, |s, n| {
        s.refresh_token_ttl = Duration::from_secs(n * 86_400)
    }),
    ("OBSERVER_DESK_REFRESH_REUSE_GRACE_SECS", 0, 300, |s, n| {
        s.refresh_reuse_grace = Duration::from_secs(n)
    }),
    ("OBSERVER_DESK_DB_POOL_SIZE", 1, 256, |s, n| {
        s.db_pool_size = n as u32
    }),
    (
        "OBSERVER_DESK_DB_CHECKOUT_TIMEOUT_MS",
        10,
        600_000,
        |s, n| s.db_checkout_timeout = Duration::from_millis(n),
    ),
    (
        "OBSERVER_DESK_DB_STATEMENT_TIMEOUT_MS",
        0,
        86_400_000,
        |s, n| s.db_statement_timeout = (n > 0).then(|| Duration::from_millis(n)),
    ),
    (
        "OBSERVER_DESK_MAX_BODY_BYTES",
        1024,
        16 * 1024 * 1024,
        |s, n| s.max_body_bytes = n as usize,
    ),
    (
        "OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER",
        1,
        1000,
        |s, n| s.throttle.max_failures_per_user = n as u32,
    ),
    (
        "OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS",
        1,
        100_000,
        |s, n| s.throttle.max_failures_per_address = n as u32,
    ),
    ("OBSERVER_DESK_LOGIN_LOCKOUT_SECS", 1, 86_400, |s, n| {
        s.throttle.lockout = Duration::from_secs(n);
        s.throttle.window = Duration::from_secs(n.max(60));
    }),
    ("OBSERVER_DESK_SHUTDOWN_TIMEOUT_SECS", 1, 3600, |s, n| {
        s.shutdown_timeout = Duration::from_secs(n)
    }),
    ("OBSERVER_DESK_DELIVERY_TICK_MS", 10, 3_600_000, |s, n| {
        s.delivery_tick = Duration::from_millis(n)
    }),
    (
        "OBSERVER_DESK_DELIVERY_BACKOFF_MS",
        10,
        3_600_000,
        |s, n| s.delivery_backoff = Duration::from_millis(n),
    ),
    ("OBSERVER_DESK_DELIVERY_LEASE_SECS", 1, 86_400, |s, n| {
        s.delivery_lease = Duration::from_secs(n)
    }),
    ("OBSERVER_DESK_DELIVERY_MAX_ATTEMPTS", 1, 100, |s, n| {
        s.delivery_max_attempts = n as u32
    }),
    (
        "OBSERVER_DESK_IDEMPOTENCY_TTL_SECS",
        1,
        90 * 86_400,
        |s, n| s.idempotency_ttl = Duration::from_secs(n),
    ),
    (
        "OBSERVER_DESK_MAX_UPLOAD_BYTES",
        1024,
        1024 * 1024 * 1024,
        |s, n| s.max_upload_bytes = n,
    ),
    ("OBSERVER_DESK_ORPHAN_GRACE_SECS", 0, 30 * 86_400, |s, n| {
        s.orphan_grace = Duration::from_secs(n)
    }),
    ("OBSERVER_DESK_INSPECTION_MATCH_DAYS", 0, 30, |s, n| {
        s.inspection_match_days = n as i64
    }),
    ("OBSERVER_DESK_RANKING_MIN_ISSUES", 0, 100_000, |s, n| {
        s.ranking_min_issues = n as i64
    }),
];

impl Settings {
    /// Defaults for a data folder, before the environment is read.
    pub fn defaults(data_dir: impl Into<PathBuf>) -> Settings {
        let data_dir = data_dir.into();
        Settings {
            database_url: default_database_url(&data_dir),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            admin_password: None,
            jwt_secret: None,
            sla_tick: Duration::from_millis(30_000),
            smtp_url: None,
            mail_from: "Observer Desk <noreply@observer-desk.local>".into(),
            demo: false,
            demo_password: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_reuse_grace: Duration::from_secs(30),
            db_pool_size: 8,
            db_checkout_timeout: Duration::from_secs(5),
            db_statement_timeout: Some(Duration::from_secs(30)),
            log_format: LogFormat::Text,
            delivery_lease: Duration::from_secs(300),
            inspection_match_days: 1,
            trusted_proxy_hops: 0,
            webhook_allow_private: false,
            max_body_bytes: 64 * 1024,
            throttle: ThrottleSettings::default(),
            shutdown_timeout: Duration::from_secs(30),
            public_url: None,
            delivery_tick: Duration::from_millis(2000),
            delivery_backoff: Duration::from_millis(30_000),
            delivery_max_attempts: 12,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            max_upload_bytes: 10 * 1024 * 1024,
            storage_url: None,
            ranking_min_issues: 5,
            orphan_grace: Duration::from_secs(3600),
        }
    }

    /// Reads the environment (and the `--demo` flag).
    pub fn from_env(args: &[String]) -> anyhow::Result<Settings> {
        // Each variable is named once: `num` reads it and checks its range in one go.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let num = |name: &str, min: u64, max: u64| -> anyhow::Result<Option<u64>> {
            var(name).map(|v| parse_num(name, &v, min, max)).transpose()
        };
        let data_dir = var("OBSERVER_DESK_DATA_DIR").unwrap_or_else(|| "./data".into());
        let mut s = Settings::defaults(PathBuf::from(data_dir));
        if let Some(url) = var("DATABASE_URL") {
            s.database_url = url;
        }
        const BIND: &str = "OBSERVER_DESK_BIND";
        if let Some(bind) = var(BIND) {
            s.bind = bind.parse().with_context(|| {
                format!("{BIND}={bind:?} is not an address like 127.0.0.1:8080")
            })?;
        }
        s.admin_password = var("OBSERVER_DESK_ADMIN_PASSWORD").map(Secret::new);
        s.jwt_secret = var("OBSERVER_DESK_JWT_SECRET").map(Secret::new);
        s.smtp_url = var("OBSERVER_DESK_SMTP_URL").map(Secret::new);
        s.demo_password = var("OBSERVER_DESK_DEMO_PASSWORD").map(Secret::new);
        if let Some(from) = var("OBSERVER_DESK_MAIL_FROM") {
            s.mail_from = from;
        }
        s.public_url = var("OBSERVER_DESK_PUBLIC_URL");
        s.storage_url = var("OBSERVER_DESK_STORAGE_URL");
        for (name, min, max, set) in NUMBERS {
            if let Some(n) = num(name, *min, *max)? {
                set(&mut s, n);
            }
        }
        const TRUST: &str = "OBSERVER_DESK_TRUST_FORWARDED_FOR";
        if let Some(v) = var(TRUST) {
            s.trusted_proxy_hops = match v.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => 1,
                "false" | "no" | "off" => 0,
                n => parse_num(TRUST, n, 0, 10)? as u8,
            };
        }
        const LOG_FORMAT: &str = "OBSERVER_DESK_LOG_FORMAT";
        if let Some(v) = var(LOG_FORMAT) {
            s.log_format = match v.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => bail!("{LOG_FORMAT}={other:?}: use text or json"),
            };
        }
        s.webhook_allow_private =
            var("OBSERVER_DESK_WEBHOOK_ALLOW_PRIVATE").is_some_and(|v| is_truthy(&v));
        s.demo = var("OBSERVER_DESK_DEMO").is_some_and(|v| is_truthy(&v));
        for arg in args {
            match arg.as_str() {
                "--demo" => s.demo = true,
                other => bail!(
                    "unknown argument {other:?}; the only flag is --demo (settings come from the environment, see README)"
                ),
            }
        }
        Ok(s)
    }

    /// The HMAC key for access tokens: the configured one, or one kept in the data folder
    /// (generated on first start, with a warning).
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<Secret> {
        if let Some(secret) = &self.jwt_secret {
            if secret.expose().len() < 32 {
                bail!("OBSERVER_DESK_JWT_SECRET must be at least 32 characters");
            }
            return Ok(secret.clone());
        }
        let path = self.data_dir.join("jwt-secret");
        if path.exists() {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value = value.trim().to_string();
            if value.len() >= 32 {
                return Ok(Secret::new(value));
            }
            bail!(
                "{} is shorter than 32 characters; delete it to generate a new one",
                path.display()
            );
        }
        let value = crate::secret::random_token(48);
        write_private_file(&path, &value)?;
        tracing::warn!(
            path = %path.display(),
            "OBSERVER_DESK_JWT_SECRET is not set: generated a secret and kept it in the data folder"
        );
        Ok(Secret::new(value))
    }
}

fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("observer-desk.db").display())
}

fn parse_num(name: &str, value: &str, min: u64, max: u64) -> anyhow::Result<u64> {
    let n: u64 = value
        .trim()
        .parse()
        .with_context(|| format!("{name}={value:?} is not a whole number"))?;
    if n < min || n > max {
        bail!("{name}={n} is out of range {min}..={max}");
    }
    Ok(n)
}

fn is_truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// Writes a file readable only by its owner (on Unix).
/// A new file only its owner may read or write (its folder made as needed); an existing one
/// is never overwritten.
pub fn create_private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = create_private_file(path)?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Secret::new("hunter2-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert!(parse_num("X", "0", 1, 10).is_err());
        assert!(parse_num("X", "abc", 1, 10).is_err());
        assert_eq!(parse_num("X", " 7 ", 1, 10).ok(), Some(7));
    }
}
