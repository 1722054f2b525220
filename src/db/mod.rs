//! The database: one connection type for SQLite and PostgreSQL, the pools, migrations,
//! and the only place where the two backends are told apart.

pub mod among;
pub mod attachments;
pub mod copy;
pub mod deliveries;
pub mod departments;
pub mod devices;
pub mod idempotency;
pub mod inspections;
pub mod issues;
pub mod login_throttle;
pub mod milestones;
pub mod notifications;
pub mod projects;
pub mod readers;
pub mod refresh_tokens;
pub mod reports;
pub mod routing_rules;
pub mod rules_token;
pub mod scheduling;
pub mod schema;
pub mod sla;
pub mod stamp;
pub mod text;
pub mod users;
pub mod visibility;
pub mod writer;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever database `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the database is, parsed from the URL's scheme.
#[derive(Debug, Clone)]
pub enum DbTarget {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DbTarget {
    pub fn parse(url: &str) -> anyhow::Result<DbTarget> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbTarget::Postgres(url.to_string()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                anyhow::bail!("DATABASE_URL names no SQLite file");
            }
            Ok(DbTarget::Sqlite(PathBuf::from(path)))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://")
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbTarget::Postgres(_) => Backend::Postgres,
            DbTarget::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Opens connections for r2d2 (and SQLite's writer), picking the backend from the URL so
/// that a connection failure reports the real driver error.
#[derive(Clone)]
pub struct Manager {
    target: DbTarget,
    /// PostgreSQL's `statement_timeout` on the service's connections.
    statement_timeout: Option<Duration>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match &self.target {
            DbTarget::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                if let Some(t) = self.statement_timeout {
                    conn.batch_execute(&format!("SET statement_timeout = {}", t.as_millis()))?;
                }
                Ok(DbConn::Pg(conn))
            }
            DbTarget::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // busy_timeout first, so that the journal switch itself waits for other writers.
                // Temporary storage in memory: the writer's savepoints (one per request in a
                // batch) journal their pages there instead of in a temporary file.
                const SETUP: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY;";
                // Switching a new file to WAL while another process opens it may be refused at
                // once with "database is locked" (SQLite does not wait on the busy handler
                // there): tried again for up to the same 5 seconds.
                let mut tries = 0;
                loop {
                    match conn.batch_execute(SETUP) {
                        Ok(()) => break,
                        Err(e) if tries < 100 && e.to_string().contains("database is locked") => {
                            tries += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.ping().map_err(ConnError::Query)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        // Also true for a connection left inside a transaction (a panic mid-way).
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The database handle the service passes around. Reads use a pool; on PostgreSQL writes
/// use the same pool, on SQLite they all go through one writer thread that commits what
/// waits together (`writer`).
#[derive(Clone)]
pub struct Db {
    read: Pool,
    /// SQLite: the threads that run reads. PostgreSQL reads wait on the network and run on
    /// the blocking pool: under a login storm (hashing on every core) fewer reader threads
    /// got a smaller share of the CPU and the reads' p99 doubled, 40 -> 80-110 ms.
    readers: Option<readers::Readers>,
    write: Writes,
    backend: Backend,
    manager: Manager,
    events: std::sync::Arc<PoolEvents>,
}

#[derive(Clone)]
enum Writes {
    Pool(Pool),
    Writer(writer::Writer),
}

/// How the service uses its database (settings `OBSERVER_DESK_DB_*`).
#[derive(Debug, Clone, Copy)]
pub struct DbOptions {
    /// Connections in the read pool (PostgreSQL: the only pool).
    pub pool_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub checkout_timeout: Duration,
    /// PostgreSQL only: a statement running longer is cancelled (none for migrations and the
    /// operations commands).
    pub statement_timeout: Option<Duration>,
}

impl DbOptions {
    pub fn pool(pool_size: u32) -> DbOptions {
        DbOptions {
            pool_size,
            checkout_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }
}

/// What the pool has been through: counted by r2d2's events.
#[derive(Debug, Default)]
pub struct PoolEvents {
    checkouts: std::sync::atomic::AtomicU64,
    waited_micros: std::sync::atomic::AtomicU64,
    /// Checkouts that had to wait for a connection (more than a millisecond).
    waits: std::sync::atomic::AtomicU64,
    timeouts: std::sync::atomic::AtomicU64,
}

/// The pool's event handler: counts into the shared [`PoolEvents`].
#[derive(Debug)]
struct CountEvents(std::sync::Arc<PoolEvents>);

impl r2d2::HandleEvent for CountEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.checkouts.fetch_add(1, Relaxed);
        let waited = event.duration();
        self.0
            .waited_micros
            .fetch_add(waited.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
        if waited > Duration::from_millis(1) {
            self.0.waits.fetch_add(1, Relaxed);
        }
    }

    fn handle_timeout(&self, _: r2d2::event::TimeoutEvent) {
        self.0
            .timeouts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The read pool now and since the start.
#[derive(Debug, Clone, Copy)]
pub struct PoolReport {
    pub size: u32,
    pub in_use: u32,
    pub idle: u32,
    pub checkouts: u64,
    pub waits: u64,
    pub waited_seconds: f64,
    pub timeouts: u64,
}

impl Db {
    /// Opens the pools with default options. Blocking: call from a blocking context.
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        Db::connect_with(url, DbOptions::pool(pool_size))
    }

    /// Opens the pools. Blocking: call from a blocking context.
    pub fn connect_with(url: &str, options: DbOptions) -> anyhow::Result<Db> {
        let pool_size = options.pool_size;
        let target = DbTarget::parse(url)?;
        let backend = target.backend();
        if let DbTarget::Sqlite(path) = &target
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)?;
        }
        let manager = Manager {
            target: target.clone(),
            statement_timeout: options.statement_timeout,
        };
        let events = std::sync::Arc::new(PoolEvents::default());
        // A connection is not tested with a query each time it is taken (a round trip per
        // request); one that broke is dropped when it is given back.
        let build = |max_size: u32| {
            r2d2::Pool::builder()
                .max_size(max_size)
                .min_idle(Some(1))
                .connection_timeout(options.checkout_timeout)
                .test_on_check_out(false)
                .event_handler(Box::new(CountEvents(events.clone())))
                .build(manager.clone())
        };
        let db = match backend {
            Backend::Postgres => {
                let pool = build(pool_size)?;
                Db {
                    read: pool.clone(),
                    readers: None,
                    write: Writes::Pool(pool),
                    backend,
                    manager,
                    events,
                }
            }
            Backend::Sqlite => {
                // The writer first: it switches the file to WAL before readers open it.
                let conn = r2d2::ManageConnection::connect(&manager)?;
                let write = writer::Writer::start(conn, manager.clone())?;
                let read = build(pool_size)?;
                Db {
                    read,
                    readers: Some(readers::Readers::new(readers_for(pool_size))),
                    write: Writes::Writer(write),
                    backend,
                    manager,
                    events,
                }
            }
        };
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On SQLite, the transactions the writer committed so far (each carrying one or more
    /// requests' writes).
    pub fn writer_commits(&self) -> Option<u64> {
        match &self.write {
            Writes::Writer(w) => Some(w.commits()),
            Writes::Pool(_) => None,
        }
    }

    /// Applies pending migrations. Blocking.
    pub fn migrate(&self) -> anyhow::Result<()> {
        run_migrations(&mut self.connection()?)
    }

    /// A connection of its own, outside the pools and without a statement timeout, for
    /// migrations and long operations work (blocking).
    pub fn connection(&self) -> anyhow::Result<DbConn> {
        let unbounded = Manager {
            target: self.manager.target.clone(),
            statement_timeout: None,
        };
        Ok(r2d2::ManageConnection::connect(&unbounded)?)
    }

    /// The read pool's state and what it has been through.
    pub fn pool_report(&self) -> PoolReport {
        use std::sync::atomic::Ordering::Relaxed;
        let state = self.read.state();
        PoolReport {
            size: self.read.max_size(),
            in_use: state.connections.saturating_sub(state.idle_connections),
            idle: state.idle_connections,
            checkouts: self.events.checkouts.load(Relaxed),
            waits: self.events.waits.load(Relaxed),
            waited_seconds: self.events.waited_micros.load(Relaxed) as f64 / 1e6,
            timeouts: self.events.timeouts.load(Relaxed),
        }
    }

    /// Whether a migration is waiting to be applied (blocking).
    pub fn has_pending_migrations(&self) -> anyhow::Result<bool> {
        let mut conn = self.read.get()?;
        pending_migrations(&mut conn)
    }

    /// Runs `f` with a read connection: on a reader thread (`readers`) on SQLite, on the
    /// blocking pool on PostgreSQL.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.read.clone();
        let queued = std::time::Instant::now();
        let read = move || {
            // The checkout timeout counts from the request, including any wait for a reader
            // (at least a moment, so that a timeout is counted where pools count it).
            let left = pool
                .connection_timeout()
                .saturating_sub(queued.elapsed())
                .max(Duration::from_millis(1));
            let mut conn = pool.get_timeout(left).map_err(AppError::db_unavailable)?;
            f(&mut conn)
        };
        match &self.readers {
            Some(readers) => readers.run(read).await,
            None => run_blocking(read).await,
        }
    }

    /// Runs `f` in a write transaction, off the server's workers: what it wrote is durable
    /// when this returns its `Ok`, and nothing of it is kept when `f` returns an error. (On
    /// SQLite `f` runs in a savepoint of a batch that the writer commits at once.)
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        match &self.write {
            Writes::Pool(pool) => {
                let pool = pool.clone();
                run_blocking(move || {
                    let mut conn = pool.get().map_err(AppError::db_unavailable)?;
                    in_write_transaction(&mut conn, f)
                })
                .await
            }
            Writes::Writer(writer) => writer.write(f).await,
        }
    }

    /// Whether the database answers and no migration is pending, within `timeout`.
    pub async fn ready(&self, timeout: Duration) -> Result<(), String> {
        let pool = self.read.clone();
        let outcome = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let mut conn = pool.get_timeout(timeout).map_err(|e| e.to_string())?;
            conn.ping().map_err(|e| e.to_string())?;
            match pending_migrations(&mut conn) {
                Ok(false) => Ok(()),
                Ok(true) => Err("migrations are pending".into()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        outcome.map_err(|e| e.to_string())?
    }
}

/// Runs a query on the backend's own connection instead of through [`DbConn`]. Through the
/// two-backend connection a statement is looked up by its SQL text, which is built again on
/// every call; on the backend's own connection a query of fixed shape is looked up by its
/// type and its SQL built once. For the queries on the busiest paths:
/// `native!(conn, c => query.get_result(c))` (the body is compiled once per backend).
macro_rules! native {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use native;

/// Reader threads for a pool of `pool_size` connections: more than the connections, so that
/// a read that waits for one gives up after the checkout timeout as it would waiting
/// anywhere else, instead of queueing for a reader behind reads that hold every connection.
fn readers_for(pool_size: u32) -> usize {
    (pool_size as usize * 4).max(64)
}

/// Runs blocking work on the runtime's blocking pool (never on a worker of the server),
/// inside the caller's tracing span. The pool's threads run under `SCHED_BATCH`
/// (`scheduling`).
pub async fn run_blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        scheduling::batch();
        span.in_scope(f)
    })
    .await
    .map_err(AppError::internal)?
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so that a transaction
/// that reads and then writes takes the write lock up front instead of failing midway.
pub fn in_write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    begin_write(conn)?;
    finish(conn, f)
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite.
pub(crate) fn begin_write(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        DbConn::Pg(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn),
    }
}

/// Runs `f` in the transaction or savepoint just begun: committed (released) when `f`
/// returns `Ok`, rolled back otherwise.
pub(crate) fn finish<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    type Tm = <DbConn as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => match Tm::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Tm::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            Tm::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// The PostgreSQL advisory lock that instances take around their migrations.
const MIGRATION_LOCK: i64 = 0x6f62_7365_7276_6572; // "observer"

/// Applies what is pending, once, however many instances start at the same moment: on
/// PostgreSQL under an advisory lock (the others wait, then find nothing pending), on
/// SQLite inside one `BEGIN IMMEDIATE` transaction (the migrations run in savepoints).
fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("running migrations: {e}");
    let result = match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| fail(&e))?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                    .execute(c);
            let applied = applied.map_err(|e| fail(&e))?;
            unlocked.map_err(|e| fail(&e))?;
            Ok(applied)
        }
        DbConn::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
                .map_err(|e| fail(&e))?;
            match c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()) {
                Ok(n) => {
                    AnsiTransactionManager::commit_transaction(c).map_err(|e| fail(&e))?;
                    Ok(n)
                }
                Err(e) => {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    Err(fail(&e))
                }
            }
        }
    };
    let applied: usize = result?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

fn pending_migrations(conn: &mut DbConn) -> anyhow::Result<bool> {
    let result = match conn {
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    result.map_err(|e| anyhow::anyhow!("checking migrations: {e}"))
}

/// The current time as stored: UTC, truncated to microseconds, the precision both
/// backends keep, so that values read back compare equal on either.
pub fn now() -> NaiveDateTime {
    truncate(Utc::now().naive_utc())
}

pub fn truncate(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
