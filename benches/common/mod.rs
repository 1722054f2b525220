//! What the benchmarks share: the median of runs, the number series SQL of each database,
//! and a throw-away PostgreSQL database.

use std::time::Duration;

use diesel::RunQueryDsl;

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// `SELECT n` for n = 1..=count, in each database's way.
pub fn series(count: i64, postgres: bool) -> String {
    if postgres {
        format!("SELECT g AS n FROM generate_series(1, {count}) AS g")
    } else {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s"
        )
    }
}

/// Creates a database next to `admin` (a PostgreSQL URL), runs `f` with its URL, drops it.
pub async fn with_pg_database<F, Fut>(
    admin: &str,
    name: &str,
    f: F,
) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let mut admin_conn = <diesel::PgConnection as diesel::Connection>::establish(admin)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin_conn)?;
    let server = admin
        .rsplit_once('/')
        .map(|(s, _)| s.to_string())
        .unwrap_or(admin.to_string());
    let outcome = f(format!("{server}/{name}")).await;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_conn)?;
    outcome
}
