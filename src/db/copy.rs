//! Whole-database work for operations: every table read row by row into one canonical JSON
//! form that is the same on SQLite and PostgreSQL (so that two databases can be compared by
//! a digest per table, and exported), a consistent copy of a running SQLite database
//! (`VACUUM INTO`), putting such a copy back, and the move of a SQLite database into an
//! empty PostgreSQL one. Blocking: call from a blocking context.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::DbConn;

/// Every table of the service, each after those it refers to. A test checks that the list
/// names every table the migrations make.
pub const TABLES: &[&str] = &[
    "departments",
    "users",
    "refresh_tokens",
    "login_throttle",
    "projects",
    "project_observers",
    "milestones",
    "routing_rules",
    "issue_counters",
    "issues",
    "issue_departments",
    "issue_comments",
    "issue_events",
    "sla_policies",
    "business_calendars",
    "rules_token",
    "sla_timers",
    "issue_clocks",
    "notifications",
    "deliveries",
    "idempotency_keys",
    "attachments",
    "devices",
    "visibility_changes",
    "inspections",
    "inspection_departments",
    "issue_inspections",
    "inspection_ratings",
    "inspection_alerts",
    "inspection_limits",
];

const BATCH: i64 = 2_000;

/// A table's rows and a digest of their content that does not depend on the backend or on
/// the order rows are read in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    pub digest: String,
}

/// The tables a database has (those of the service, migrations' bookkeeping left out).
pub fn table_names(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT name AS row FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__diesel%' ORDER BY name"
        }
        DbConn::Pg(_) => {
            "SELECT table_name::text AS row FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE '__diesel%' ORDER BY table_name"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<JsonRow>(conn)?
        .into_iter()
        .map(|r| r.row)
        .collect())
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName)]
struct KeyedRow {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = Text)]
    row: String,
}

/// `name` if it is one of ours: only these names are ever put into SQL text.
fn known(table: &str) -> anyhow::Result<&'static str> {
    TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .with_context(|| format!("{table:?} is not a table of the service"))
}

/// A table's columns, on SQLite.
fn sqlite_columns(conn: &mut DbConn, table: &'static str) -> anyhow::Result<Vec<String>> {
    Ok(diesel::sql_query(format!(
        "SELECT name AS row FROM pragma_table_info('{table}')"
    ))
    .load::<JsonRow>(conn)?
    .into_iter()
    .map(|r| r.row)
    .collect())
}

/// Calls `each` with every row of `table` as JSON (as the backend writes it), a batch at a
/// time; `since`..`until` keeps the rows made in that period when the table records when.
pub fn each_row(
    conn: &mut DbConn,
    table: &str,
    period: Option<(NaiveDateTime, NaiveDateTime)>,
    mut each: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let table = known(table)?;
    let (json, columns) = match conn {
        DbConn::Sqlite(_) => {
            let columns = sqlite_columns(conn, table)?;
            let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', \"{c}\"")).collect();
            (format!("json_object({})", pairs.join(", ")), columns)
        }
        DbConn::Pg(_) => (format!("row_to_json({table})::text"), Vec::new()),
    };
    let has_created_at = match conn {
        DbConn::Sqlite(_) => columns.iter().any(|c| c == "created_at"),
        DbConn::Pg(_) => {
            let sql = format!(
                "SELECT column_name::text AS row FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' \
                 AND column_name = 'created_at'"
            );
            !diesel::sql_query(sql).load::<JsonRow>(conn)?.is_empty()
        }
    };
    let filter = match period {
        Some((from, until)) if has_created_at => format!(
            " AND created_at >= '{}' AND created_at < '{}'",
            from.format("%Y-%m-%d %H:%M:%S%.6f"),
            until.format("%Y-%m-%d %H:%M:%S%.6f")
        ),
        _ => String::new(),
    };
    // Batches follow the row id on SQLite; a cursor streams them on PostgreSQL.
    match conn {
        DbConn::Sqlite(_) => {
            let mut after = i64::MIN;
            loop {
                let sql = format!(
                    "SELECT rowid AS k, {json} AS row FROM {table} WHERE rowid > {after}{filter} \
                     ORDER BY rowid LIMIT {BATCH}"
                );
                let rows = diesel::sql_query(sql).load::<KeyedRow>(conn)?;
                for r in &rows {
                    each(&r.row)?;
                }
                match rows.last() {
                    Some(last) if rows.len() as i64 == BATCH => after = last.k,
                    _ => break,
                }
            }
        }
        DbConn::Pg(_) => {
            // A cursor inside a transaction streams the table without holding it in memory.
            conn.transaction::<_, anyhow::Error, _>(|c| {
                c.batch_execute(&format!(
                    "DECLARE od_rows NO SCROLL CURSOR FOR SELECT {json} AS row FROM {table} \
                     WHERE TRUE{filter}"
                ))?;
                loop {
                    let rows = diesel::sql_query(format!("FETCH {BATCH} FROM od_rows"))
                        .load::<JsonRow>(c)?;
                    for r in &rows {
                        each(&r.row)?;
                    }
                    if (rows.len() as i64) < BATCH {
                        break;
                    }
                }
                c.batch_execute("CLOSE od_rows")?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// One row in the form both backends agree on: keys sorted, booleans as 0 or 1 (SQLite keeps
/// them so), whole numbers without a fraction, times as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn canonical(raw: &str) -> anyhow::Result<String> {
    let value: Value = serde_json::from_str(raw).context("a row is not JSON")?;
    let Value::Object(map) = value else {
        bail!("a row is not a JSON object");
    };
    let sorted: BTreeMap<String, Value> = map
        .into_iter()
        .map(|(k, v)| (k, canonical_value(v)))
        .collect();
    Ok(serde_json::to_string(&sorted)?)
}

fn canonical_value(v: Value) -> Value {
    match v {
        Value::Bool(b) => Value::from(u8::from(b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::String(s) => {
            let time = NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f"));
            match time {
                Ok(t) if s.len() >= 19 => {
                    Value::String(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
                }
                _ => Value::String(s),
            }
        }
        other => other,
    }
}

/// Each table's row count and digest (the digest adds up the rows' own digests, so the order
/// rows are read in does not matter).
pub fn summarise(conn: &mut DbConn) -> anyhow::Result<Vec<TableSummary>> {
    let mut out = Vec::new();
    for table in TABLES {
        let mut rows = 0u64;
        let mut sum = 0u128;
        each_row(conn, table, None, |raw| {
            let digest = Sha256::digest(canonical(raw)?.as_bytes());
            let mut head = [0u8; 16];
            head.copy_from_slice(&digest[..16]);
            sum = sum.wrapping_add(u128::from_be_bytes(head));
            rows += 1;
            Ok(())
        })?;
        out.push(TableSummary {
            table: (*table).to_string(),
            rows,
            digest: format!("{sum:032x}"),
        });
    }
    Ok(out)
}

/// Writes every row (of the period, for tables that record when a row was made) as JSON
/// lines `{"table": …, "row": {…}}`, table by table; returns the rows written.
pub fn export(
    conn: &mut DbConn,
    period: Option<(NaiveDateTime, NaiveDateTime)>,
    out: &mut impl std::io::Write,
) -> anyhow::Result<u64> {
    let mut written = 0u64;
    for table in TABLES {
        each_row(conn, table, period, |raw| {
            writeln!(out, "{{\"table\":\"{table}\",\"row\":{}}}", canonical(raw)?)?;
            written += 1;
            Ok(())
        })?;
    }
    Ok(written)
}

/// A consistent copy of a running SQLite database in `target` (which must not exist):
/// `VACUUM INTO` reads one snapshot while writers go on.
pub fn sqlite_backup(conn: &mut DbConn, target: &Path) -> anyhow::Result<()> {
    let DbConn::Sqlite(_) = conn else {
        bail!(
            "the backup command copies SQLite databases; for PostgreSQL use pg_dump (see docs/operations.md)"
        );
    };
    let path = target.to_str().context("the backup path is not UTF-8")?;
    if target.exists() {
        bail!("{} exists already", target.display());
    }
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(path)
        .execute(conn)?;
    Ok(())
}

/// Puts the SQLite copy at `source` back into `conn`'s SQLite database in one transaction:
/// every table emptied and refilled, its id sequences too, then checked against the copy.
/// Safe while the service runs (it is one write transaction), though its users would see the
/// county jump back in time.
pub fn sqlite_restore(conn: &mut DbConn, source: &Path) -> anyhow::Result<Vec<TableSummary>> {
    let DbConn::Sqlite(_) = conn else {
        bail!(
            "restore puts a SQLite backup back into a SQLite database; for PostgreSQL use pg_restore"
        );
    };
    let path = source.to_str().context("the backup path is not UTF-8")?;
    let expected = {
        let mut backup = DbConn::Sqlite(
            diesel::SqliteConnection::establish(path).context("opening the backup")?,
        );
        check_tables(&mut backup)?;
        summarise(&mut backup)?
    };
    diesel::sql_query("ATTACH DATABASE ? AS backup")
        .bind::<Text, _>(path)
        .execute(conn)?;
    let restored = (|| -> anyhow::Result<Vec<TableSummary>> {
        conn.batch_execute("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON;")?;
        let copied = (|| -> anyhow::Result<Vec<TableSummary>> {
            // The triggers that keep the event log append-only are set aside while the
            // tables are emptied, and made again from their own text before the commit.
            let triggers = diesel::sql_query(
                "SELECT name || char(0) || sql AS row FROM main.sqlite_master WHERE type = 'trigger'",
            )
            .load::<JsonRow>(conn)?;
            let triggers: Vec<(String, String)> = triggers
                .into_iter()
                .filter_map(|t| {
                    t.row
                        .split_once('\0')
                        .map(|(n, sql)| (n.to_string(), sql.to_string()))
                })
                .collect();
            for (name, _) in &triggers {
                conn.batch_execute(&format!("DROP TRIGGER main.\"{}\"", name.replace('"', "")))?;
            }
            for table in TABLES.iter().rev() {
                conn.batch_execute(&format!("DELETE FROM main.{table}"))?;
            }
            for (_, sql) in &triggers {
                conn.batch_execute(sql)?;
            }
            for table in TABLES {
                conn.batch_execute(&format!(
                    "INSERT INTO main.{table} SELECT * FROM backup.{table}"
                ))?;
            }
            conn.batch_execute(
                "DELETE FROM main.sqlite_sequence; \
                 INSERT INTO main.sqlite_sequence SELECT * FROM backup.sqlite_sequence;",
            )?;
            let now = summarise(conn)?;
            if now != expected {
                bail!("the restored tables differ from the backup; nothing was changed");
            }
            Ok(now)
        })();
        match copied {
            Ok(now) => {
                conn.batch_execute("COMMIT")?;
                Ok(now)
            }
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    })();
    let _ = conn.batch_execute("DETACH DATABASE backup");
    restored
}

/// Fails unless the database has exactly the tables of [`TABLES`].
pub fn check_tables(conn: &mut DbConn) -> anyhow::Result<()> {
    let mut have = table_names(conn)?;
    have.sort();
    let mut want: Vec<String> = TABLES.iter().map(|t| (*t).to_string()).collect();
    want.sort();
    if have != want {
        bail!("the database's tables are not this version's: it has {have:?}");
    }
    Ok(())
}

/// Copies every row of the SQLite database `source` into the empty, migrated PostgreSQL
/// database `target`, in one transaction there: ids kept, each id sequence moved past the
/// largest id, and every table's rows and digest checked equal before it commits.
pub fn sqlite_to_postgres(
    source: &mut DbConn,
    target: &mut DbConn,
) -> anyhow::Result<Vec<TableSummary>> {
    let (DbConn::Sqlite(_), DbConn::Pg(_)) = (&*source, &*target) else {
        bail!("migrate-to copies a SQLite database into a PostgreSQL one");
    };
    check_tables(source)?;
    check_tables(target)?;
    let expected = summarise(source)?;
    target.transaction::<_, anyhow::Error, _>(|pg| {
        // A database the service never ran on: no county in it. What the migrations put in
        // (default SLA policies) makes way for the source's own.
        for table in ["departments", "users", "projects", "issues"] {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let n = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
                .get_result::<Count>(pg)?
                .n;
            if n > 0 {
                bail!(
                    "the PostgreSQL database is not empty ({table} has {n} rows): migrate into a new database"
                );
            }
        }
        for table in TABLES.iter().rev() {
            pg.batch_execute(&format!("DELETE FROM {table}"))?;
        }
        for table in TABLES {
            let mut batch: Vec<String> = Vec::new();
            let flush = |batch: &mut Vec<String>, pg: &mut DbConn| -> anyhow::Result<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                let json = format!("[{}]", batch.join(","));
                diesel::sql_query(format!(
                    "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"
                ))
                .bind::<Text, _>(json)
                .execute(pg)?;
                batch.clear();
                Ok(())
            };
            each_row(source, table, None, |raw| {
                batch.push(raw.to_string());
                if batch.len() as i64 >= BATCH {
                    flush(&mut batch, pg)?;
                }
                Ok(())
            })?;
            flush(&mut batch, pg)?;
        }
        // Each serial id's sequence continues after the largest id copied.
        pg.batch_execute(
            "DO $$ DECLARE r record; BEGIN \
             FOR r IN SELECT c.table_name, c.column_name FROM information_schema.columns c \
               WHERE c.table_schema = current_schema() AND c.column_default LIKE 'nextval(%' LOOP \
               EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), \
                 GREATEST((SELECT max(%I) FROM %I), 1), (SELECT max(%I) FROM %I) IS NOT NULL)', \
                 r.table_name, r.column_name, r.column_name, r.table_name, r.column_name, r.table_name); \
             END LOOP; END $$;",
        )?;
        let copied = summarise(pg)?;
        if copied != expected {
            let differ: Vec<&str> = copied
                .iter()
                .zip(&expected)
                .filter(|(a, b)| a != b)
                .map(|(a, _)| a.table.as_str())
                .collect();
            bail!("the copy differs from the source in {differ:?}; nothing was committed");
        }
        Ok(copied)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_from_either_backend_compare_equal() {
        let sqlite =
            r#"{"id":1,"active":1,"at":"2026-12-01 13:24:01.633820","x":12000.0,"s":"名"}"#;
        let pg = r#"{"s":"名","x":12000,"at":"2026-12-01T13:24:01.63382","active":true,"id":1}"#;
        assert_eq!(canonical(sqlite).unwrap(), canonical(pg).unwrap());
        let other = r#"{"id":1,"active":0,"at":"2026-12-01 13:24:01.633820","x":12000.0,"s":"名"}"#;
        assert_ne!(canonical(sqlite).unwrap(), canonical(other).unwrap());
        // A date stays a date, text that is not a time stays as it is.
        assert_eq!(
            canonical(r#"{"d":"2026-06-30","t":"13:00"}"#).unwrap(),
            r#"{"d":"2026-06-30","t":"13:00"}"#
        );
    }
}
