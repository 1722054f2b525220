//! The SLA worker's scan: with N open issues whose timers are all pending and 100 of them
//! due, how long does finding the due ones take, and a whole tick that fires them? Run:
//!
//!     cargo bench --bench sla_scan                      # SQLite, 10k and 1M open issues
//!     OBSERVER_DESK_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench sla_scan
//!
//! Figures are written to stdout; benches/README.md keeps the measured ones.

mod common;

use std::time::Instant;

use common::{median, series, with_pg_database};

use chrono::TimeDelta;
use diesel::RunQueryDsl;
use observer_desk::db::{self, Db, DbConn};
use observer_desk::error::AppError;

const DUE: i64 = 100;

fn seed(conn: &mut DbConn, open: i64, postgres: bool) -> Result<(), AppError> {
    let now = db::now();
    let future = (now + TimeDelta::days(30))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let past = (now - TimeDelta::minutes(5))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let stamp = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let sql = |s: &str| diesel::sql_query(s.to_string());
    sql(&format!(
        "INSERT INTO users (username, password_hash, display_name, role, locale, active, version, password_changed_at, created_at, updated_at) \
         VALUES ('bench-observer', 'x', 'bench', 'observer', 'zh-CN', {t}, 1, '{stamp}', '{stamp}', '{stamp}')",
        t = if postgres { "TRUE" } else { "1" }
    ))
    .execute(conn)?;
    sql(&format!(
        "INSERT INTO projects (code, name, stage, version, created_at, updated_at) VALUES ('BENCH', 'bench', 'signed', 1, '{stamp}', '{stamp}')"
    ))
    .execute(conn)?;
    let series = series(open, postgres);
    let f = if postgres { "FALSE" } else { "0" };
    sql(&format!(
        "INSERT INTO issues (number, project_id, reporter_id, category, priority, title, description, private, status, overdue, escalation_level, reopen_count, version, created_at, updated_at) \
         SELECT 'B-' || n, 1, 1, 'other', 'normal', 't', 'd', {f}, 'assigned', {f}, 0, 0, 1, '{stamp}', '{stamp}' FROM ({series}) AS seq"
    ))
    .execute(conn)?;
    // Two pending timers per open issue, all in the future...
    for kind in ["ack_breach", "resolve_breach"] {
        sql(&format!(
            "INSERT INTO sla_timers (issue_id, kind, due_at) SELECT id, '{kind}', '{future}' FROM issues"
        ))
        .execute(conn)?;
    }
    // ...but for 100 issues, whose warning is due now.
    sql(&format!(
        "INSERT INTO sla_timers (issue_id, kind, due_at) SELECT id, 'ack_warn', '{past}' FROM issues ORDER BY id LIMIT {DUE}"
    ))
    .execute(conn)?;
    sql("ANALYZE").execute(conn)?;
    Ok(())
}

async fn measure(
    label: &str,
    url: &str,
    open: i64,
    postgres: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::connect(url, 4)?;
    db.migrate()?;
    let started = Instant::now();
    db.write(move |c| seed(c, open, postgres)).await?;
    let seeded = started.elapsed();
    let now = db::now();
    let mut scans = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let due = db.read(move |c| Ok(db::sla::due(c, now, DUE)?)).await?;
        scans.push(t.elapsed());
        assert_eq!(due.len() as i64, DUE);
    }
    let t = Instant::now();
    let fired = observer_desk::workers::sla::tick_once(&db, now).await?;
    let tick = t.elapsed();
    assert_eq!(fired as i64, DUE);
    let mut idle = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        assert_eq!(observer_desk::workers::sla::tick_once(&db, now).await?, 0);
        idle.push(t.elapsed());
    }
    println!(
        "{label:10} {open:>9} open issues ({:>9} pending timers, seeded in {:.1} s): find {DUE} due {:>8.2?} (median of 30); \
         tick firing {DUE} {:>8.2?}; idle tick {:>8.2?} (median of 30)",
        open * 2 + DUE,
        seeded.as_secs_f64(),
        median(scans),
        tick,
        median(idle),
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<i64> = std::env::var("OBSERVER_DESK_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 1_000_000]);
    actix_web::rt::System::new().block_on(async {
        for &open in &sizes {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            measure("SQLite", &url, open, false).await?;
        }
        if let Ok(admin) = std::env::var("OBSERVER_DESK_BENCH_PG") {
            for &open in &sizes {
                let name = format!("od_bench_{}_{open}", std::process::id());
                with_pg_database(&admin, &name, |url| async move {
                    measure("PostgreSQL", &url, open, true).await
                })
                .await?;
            }
        }
        Ok(())
    })
}
