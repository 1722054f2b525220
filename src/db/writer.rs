//! SQLite's one writer, with group commit.
//!
//! Every write transaction on SQLite runs on one thread that owns the only write
//! connection. Whatever waits when the thread becomes free is taken as one batch: one
//! `BEGIN IMMEDIATE`, each request's work in a savepoint of its own (work that fails is
//! rolled back to its savepoint and answered with its error, the others are kept), then one
//! `COMMIT` — one fsync under `synchronous = FULL` for the whole batch. A request is
//! answered only after its batch is durable; if the commit fails, every request of the batch
//! gets the error and nothing of it was written.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use diesel::connection::{Connection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use tokio::sync::{mpsc, oneshot};

use super::{DbConn, Manager};
use crate::error::AppError;

/// The most requests one transaction carries.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer, beyond which a request waits for room (up to
/// [`ENQUEUE_TIMEOUT`], then 503).
const QUEUE: usize = 4096;
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(5);

type Tm = <DbConn as Connection>::TransactionManager;

/// What the writer does once the batch's fate is known: `Ok` when it is durable.
type Finish = Box<dyn FnOnce(Result<(), AppError>) + Send>;

/// One request's work, type-erased.
trait Work: Send {
    /// Runs in a savepoint of the batch; what to do after the commit.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Finish;
}

struct Task<T, F> {
    f: F,
    answer: oneshot::Sender<Result<T, AppError>>,
    span: tracing::Span,
}

impl<T, F> Work for Task<T, F>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConn) -> Finish {
        let Task { f, answer, span } = *self;
        match span.in_scope(|| in_savepoint(conn, f)) {
            Ok(value) => Box::new(move |durable: Result<(), AppError>| {
                let _ = answer.send(durable.map(|()| value));
            }),
            Err(e) => {
                // Nothing of it is kept, whatever becomes of the batch.
                let _ = answer.send(Err(e));
                Box::new(|_| {})
            }
        }
    }
}

fn in_savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    Tm::begin_transaction(conn)?;
    super::finish(conn, f)
}

/// The handle requests send their work through; the thread ends when the last is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Work>>,
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `conn`, which `manager` replaces if it breaks.
    pub fn start(conn: DbConn, manager: Manager) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let commits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = commits.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, manager, queue, &counted))?;
        Ok(Writer { jobs, commits })
    }

    /// Transactions committed so far (each carrying one or more requests).
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` in the next batch; answers once that batch is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let task = Box::new(Task {
            f,
            answer,
            span: tracing::Span::current(),
        });
        match tokio::time::timeout(ENQUEUE_TIMEOUT, self.jobs.send(task)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(AppError::db_unavailable("the writer has stopped")),
            Err(_) => return Err(AppError::db_unavailable("the writer is saturated")),
        }
        answered
            .await
            .map_err(|_| AppError::internal("the write was abandoned (a panic in the writer)"))?
    }
}

fn run(
    mut conn: DbConn,
    manager: Manager,
    mut queue: mpsc::Receiver<Box<dyn Work>>,
    commits: &std::sync::atomic::AtomicU64,
) {
    let mut batch: Vec<Box<dyn Work>> = Vec::with_capacity(MAX_BATCH);
    while queue.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let healthy =
            std::panic::catch_unwind(AssertUnwindSafe(|| commit(&mut conn, batch.drain(..))));
        commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !matches!(healthy, Ok(true)) || conn.is_broken() {
            // A panic or a failed rollback may leave the connection mid-transaction.
            conn = reconnect(&manager);
        }
    }
}

/// Runs one batch in one transaction. False when the connection must be replaced.
fn commit(conn: &mut DbConn, batch: impl Iterator<Item = Box<dyn Work>>) -> bool {
    if let Err(e) = super::begin_write(conn) {
        // Each request still runs, alone, so that it is answered: its savepoint becomes a
        // transaction that SQLite commits on release.
        tracing::error!(error = %e, "could not begin the write batch");
        for work in batch {
            work.run(conn)(Ok(()));
        }
        return !conn.is_broken();
    }
    let finishes: Vec<Finish> = batch.map(|work| work.run(conn)).collect();
    match Tm::commit_transaction(conn) {
        Ok(()) => {
            for finish in finishes {
                finish(Ok(()));
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "the write batch did not commit");
            let rolled_back = Tm::rollback_transaction(conn).is_ok();
            for finish in finishes {
                finish(Err(AppError::db_unavailable(&e)));
            }
            rolled_back
        }
    }
}

fn reconnect(manager: &Manager) -> DbConn {
    let mut wait = Duration::from_millis(50);
    loop {
        match r2d2::ManageConnection::connect(manager) {
            Ok(conn) => return conn,
            Err(e) => {
                tracing::error!(error = %e, "the writer cannot reopen the database; retrying");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    use crate::db::Db;
    use crate::error::AppError;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let db = Db::connect(&url, 2).expect("the database opens");
        (dir, db)
    }

    async fn rows(db: &Db, tag: &str) -> i64 {
        let tag = tag.to_string();
        db.read(move |c| {
            Ok(
                diesel::sql_query("SELECT count(*) AS n FROM t WHERE tag = ?")
                    .bind::<Text, _>(tag)
                    .get_result::<Count>(c)?
                    .n,
            )
        })
        .await
        .expect("counted")
    }

    fn insert(
        tag: &'static str,
        fail: bool,
    ) -> impl FnOnce(&mut crate::db::DbConn) -> Result<(), AppError> {
        move |c| {
            diesel::sql_query("INSERT INTO t (tag) VALUES (?)")
                .bind::<Text, _>(tag)
                .execute(c)?;
            if fail {
                return Err(AppError::internal("the request's own failure"));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn concurrent_writes_share_commits_and_a_failed_one_leaves_nothing_of_itself() {
        let (_dir, db) = database();
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (tag TEXT NOT NULL)").execute(c)?))
            .await
            .expect("table");
        let before = db.writer_commits().expect("SQLite has a writer");
        let writes = (0..400).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(insert(
                    if i % 10 == 3 { "bad" } else { "good" },
                    i % 10 == 3,
                ))
                .await
            })
        });
        let outcomes = futures_util::future::join_all(writes).await;
        let failed = outcomes.iter().filter(|o| matches!(o, Ok(Err(_)))).count();
        assert_eq!(
            failed, 40,
            "each failing request hears of its own failure, and only those"
        );
        assert_eq!(
            rows(&db, "good").await,
            360,
            "every answered write is there"
        );
        assert_eq!(
            rows(&db, "bad").await,
            0,
            "nothing of a failed request was kept"
        );
        let commits = db.writer_commits().expect("writer") - before;
        assert!(
            commits < 400,
            "400 concurrent writes took {commits} commits: none were grouped"
        );
    }

    #[test]
    fn the_bundled_sqlite_plans_without_peeking_at_bound_values_and_locks_no_call() {
        #[derive(QueryableByName)]
        struct Option_ {
            #[diesel(sql_type = Text)]
            compile_options: String,
        }
        let (_dir, db) = database();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let options: Vec<String> = runtime
            .block_on(
                db.read(|c| Ok(diesel::sql_query("PRAGMA compile_options").load::<Option_>(c)?)),
            )
            .expect("compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0", "THREADSAFE=2"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "SQLite was built without {wanted} (see .cargo/config.toml): {options:?}"
            );
        }
    }
}
