//! The department report on a county with 1,000,000 issues: how long the aggregate
//! queries take for one month and for the whole year. Run:
//!
//!     cargo bench --bench reports                      # SQLite
//!     OBSERVER_DESK_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench reports
//!
//! Figures are written to stdout; benches/README.md keeps the measured ones.

mod common;

use std::time::Instant;

use common::{median, series, with_pg_database};

use chrono::NaiveDate;
use diesel::RunQueryDsl;
use observer_desk::db::reports::{self, By};
use observer_desk::db::{self, Db, DbConn};
use observer_desk::domain::report::Period;
use observer_desk::error::AppError;

const DEPARTMENTS: i64 = 9;
const PROJECTS: i64 = 12;

fn seed(conn: &mut DbConn, issues: i64, postgres: bool) -> Result<(), AppError> {
    let sql = |s: String| diesel::sql_query(s);
    let stamp = "2026-01-01 00:00:00";
    let (t, f) = if postgres {
        ("TRUE", "FALSE")
    } else {
        ("1", "0")
    };
    // `col` moved by an SQL interval, the way each database writes it.
    let plus = |col: &str, amount: &str| {
        if postgres {
            format!("{col} + INTERVAL '{amount}'")
        } else {
            format!("datetime({col}, '+{amount}')")
        }
    };
    for d in 1..=DEPARTMENTS {
        sql(format!(
            "INSERT INTO departments (code, name, version, created_at, updated_at) VALUES ('D{d}', '单位{d}', 1, '{stamp}', '{stamp}')"
        ))
        .execute(conn)?;
    }
    sql(format!(
        "INSERT INTO users (username, password_hash, display_name, role, locale, active, version, password_changed_at, created_at, updated_at) \
         VALUES ('bench-observer', 'x', 'bench', 'observer', 'zh-CN', {t}, 1, '{stamp}', '{stamp}', '{stamp}')"
    ))
    .execute(conn)?;
    for p in 1..=PROJECTS {
        sql(format!(
            "INSERT INTO projects (code, name, stage, version, created_at, updated_at) VALUES ('P{p:02}', '项目{p}', 'signed', 1, '{stamp}', '{stamp}')"
        ))
        .execute(conn)?;
    }
    let series = series(issues, postgres);
    // A year of filings, spread over the departments, projects and every state.
    let created = if postgres {
        "TIMESTAMP '2026-01-01 00:00:00' + (n % 365) * INTERVAL '1 day' + (n % 86400) * INTERVAL '1 second'".to_string()
    } else {
        "datetime('2026-01-01', '+' || (n % 365) || ' days', '+' || (n % 86400) || ' seconds')"
            .to_string()
    };
    sql(format!(
        "INSERT INTO issues (number, project_id, reporter_id, category, priority, title, description, private, status, \
            department_id, overdue, escalation_level, reopen_count, rating, ack_work_seconds, resolve_work_seconds, version, created_at, updated_at) \
         SELECT 'B-' || n, 1 + n % {PROJECTS}, 1, 'other', 'normal', 't', 'd', {f}, \
            CASE n % 10 WHEN 0 THEN 'closed' WHEN 1 THEN 'closed' WHEN 2 THEN 'closed' WHEN 3 THEN 'closed' \
                 WHEN 4 THEN 'resolved' WHEN 5 THEN 'in_progress' WHEN 6 THEN 'in_progress' WHEN 7 THEN 'assigned' \
                 WHEN 8 THEN 'awaiting_info' ELSE 'withdrawn' END, \
            1 + n % {DEPARTMENTS}, CASE WHEN n % 13 = 0 THEN {t} ELSE {f} END, 0, CASE WHEN n % 17 = 0 THEN 1 ELSE 0 END, \
            CASE WHEN n % 10 < 4 THEN 1 + n % 5 ELSE NULL END, \
            CASE WHEN n % 10 NOT IN (7, 9) THEN 3600 + n % 7200 ELSE NULL END, \
            CASE WHEN n % 10 < 5 THEN 86400 + n % 100000 ELSE NULL END, \
            1, {created}, {created} FROM ({series}) AS seq"
    ))
    .execute(conn)?;
    sql(format!(
        "UPDATE issues SET ack_due_at = {}, resolve_due_at = {}",
        plus("created_at", "2 hours"),
        plus("created_at", "5 days")
    ))
    .execute(conn)?;
    sql(format!(
        "UPDATE issues SET acknowledged_at = {} WHERE status NOT IN ('assigned', 'withdrawn')",
        plus("created_at", "1 hours")
    ))
    .execute(conn)?;
    sql(format!(
        "UPDATE issues SET acknowledged_at = {} WHERE id % 7 = 0 AND acknowledged_at IS NOT NULL",
        plus("created_at", "3 hours")
    ))
    .execute(conn)?;
    sql(format!(
        "UPDATE issues SET resolved_at = {} WHERE status IN ('resolved', 'closed')",
        plus("created_at", "3 days")
    ))
    .execute(conn)?;
    sql("INSERT INTO issue_departments (issue_id, department_id, issue_created_at) SELECT id, department_id, created_at FROM issues".into())
        .execute(conn)?;
    for (kind, every) in [("chase", 20), ("return", 50), ("request_extension", 40)] {
        sql(format!(
            "INSERT INTO issue_events (issue_id, kind, actor_id, at, data, internal, department_id, issue_created_at) \
             SELECT id, '{kind}', 1, created_at, '{{}}', {t}, department_id, created_at FROM issues WHERE id % {every} = 0"
        ))
        .execute(conn)?;
    }
    if !postgres {
        sql("ANALYZE".into()).execute(conn)?;
    }
    Ok(())
}

async fn measure(
    label: &str,
    url: &str,
    issues: i64,
    postgres: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::connect(url, 4)?;
    db.migrate()?;
    let started = Instant::now();
    db.write(move |c| seed(c, issues, postgres)).await?;
    if postgres {
        // What autovacuum does after a bulk load: statistics, and the visibility map that
        // lets the covering index be read without the table. Not in a transaction.
        db.read(|c| Ok(diesel::sql_query("VACUUM ANALYZE").execute(c)?))
            .await?;
    }
    let seeded = started.elapsed();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    let periods = [
        (
            "one month",
            Period::new(d("2026-06-01")?, d("2026-06-30")?)?,
        ),
        (
            "one quarter",
            Period::new(d("2026-04-01")?, d("2026-06-30")?)?,
        ),
        (
            "the whole year",
            Period::new(d("2026-01-01")?, d("2026-12-31")?)?,
        ),
    ];
    let now = db::now();
    for (name, p) in periods {
        for by in [By::Department, By::Project] {
            let mut times = Vec::new();
            let mut received = 0;
            for _ in 0..std::env::var("OBSERVER_DESK_BENCH_RUNS")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(7)
            {
                let t = Instant::now();
                let counts = db
                    .read(move |c| {
                        let (start, end) = p.utc_bounds();
                        Ok(reports::counts(c, by, start, end, now)?)
                    })
                    .await?;
                times.push(t.elapsed());
                received = counts.values().map(|c| c.held).sum::<i64>();
            }
            println!(
                "{label:10} {issues:>9} issues, {by:?} report for {name:14} ({received:>7} issues in it): {:>9.1?} (median of 7), seeded in {:.0} s",
                median(times),
                seeded.as_secs_f64()
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=observer_desk::db::reports=debug shows each query's time.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let issues: i64 = std::env::var("OBSERVER_DESK_BENCH_ISSUES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    actix_web::rt::System::new().block_on(async {
        if std::env::var("OBSERVER_DESK_BENCH_SKIP_SQLITE").is_err() {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            measure("SQLite", &url, issues, false).await?;
        }
        if let Ok(admin) = std::env::var("OBSERVER_DESK_BENCH_PG") {
            let name = format!("od_bench_reports_{}", std::process::id());
            with_pg_database(&admin, &name, |url| async move {
                measure("PostgreSQL", &url, issues, true).await
            })
            .await?;
        }
        Ok(())
    })
}
