//! The aggregate queries behind the supervisors' reports. Everything is counted in SQL
//! (GROUP BY, window functions for percentiles), never by loading issues; the same text
//! runs on SQLite and PostgreSQL. What each count means is in `docs/reports.md`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use crate::domain::lifecycle::EventKind;
use crate::domain::report::Counts;

/// What the figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Department,
    Project,
    /// The whole county, as one group with key 0.
    County,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Department => "i.department_id",
            By::Project => "i.project_id",
            By::County => "CAST(0 AS BIGINT)",
        }
    }
}

#[derive(QueryableByName)]
struct HeldRow {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    acknowledged: i64,
    #[diesel(sql_type = BigInt)]
    ack_on_time: i64,
    #[diesel(sql_type = BigInt)]
    ack_decided: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
    #[diesel(sql_type = BigInt)]
    resolved_on_time: i64,
    #[diesel(sql_type = BigInt)]
    resolve_decided: i64,
    #[diesel(sql_type = BigInt)]
    closed: i64,
    #[diesel(sql_type = BigInt)]
    withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    reopened: i64,
    #[diesel(sql_type = BigInt)]
    ever_resolved: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rating_sum: i64,
    #[diesel(sql_type = BigInt)]
    satisfied: i64,
    #[diesel(sql_type = BigInt)]
    overdue_now: i64,
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct EventCount {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = Text)]
    kind: EventKind,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    issues: i64,
}

#[derive(QueryableByName)]
struct RankedValue {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = BigInt)]
    v: i64,
    #[diesel(sql_type = BigInt)]
    rn: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const OPEN: &str = "('assigned', 'in_progress', 'awaiting_info')";

/// Marks where a query reads a period of issues: SQLite is told to use the covering index
/// (its planner would otherwise scan the whole table once a period holds a quarter of it).
const BY_PERIOD: &str = "/*by_period*/";

/// The query text for this backend: parameters are written `$1`, `$2`… (PostgreSQL); SQLite
/// numbers named parameters by first appearance, so it gets the explicit `?1`, `?2`… form,
/// and the period marker becomes its index hint.
fn numbered(conn: &DbConn, sql: &str) -> String {
    match conn {
        DbConn::Pg(_) => sql.replace(BY_PERIOD, ""),
        DbConn::Sqlite(_) => {
            let sql = sql.replace(BY_PERIOD, "INDEXED BY issues_report");
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(ch) = chars.next() {
                if ch == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    out.push('?');
                } else {
                    out.push(ch);
                }
            }
            out
        }
    }
}

/// The counts of every department (or project) with issues filed in `[start, end)`. Long on
/// purpose: three aggregate queries (the issues held, the departments reached, the timeline's
/// events) whose SQL is spelled out for each database, so that each figure's definition
/// (docs/reports.md) reads next to the query that counts it.
pub fn counts(
    conn: &mut DbConn,
    by: By,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<BTreeMap<i64, Counts>> {
    let key = by.column();
    let mut out: BTreeMap<i64, Counts> = BTreeMap::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |what: &str| {
        tracing::debug!(
            query = what,
            ms = clock.elapsed().as_secs_f64() * 1000.0,
            "report query"
        );
        clock = std::time::Instant::now();
    };
    let held_sql = format!(
        "SELECT {key} AS k,
            COUNT(*) AS held,
            SUM(CASE WHEN i.acknowledged_at IS NOT NULL THEN 1 ELSE 0 END) AS acknowledged,
            SUM(CASE WHEN i.acknowledged_at IS NOT NULL AND i.acknowledged_at <= i.ack_due_at THEN 1 ELSE 0 END) AS ack_on_time,
            SUM(CASE WHEN i.acknowledged_at IS NOT NULL
                       OR (i.status IN {OPEN} AND i.ack_due_at < $3) THEN 1 ELSE 0 END) AS ack_decided,
            SUM(CASE WHEN i.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved,
            SUM(CASE WHEN i.resolved_at IS NOT NULL AND i.resolved_at <= i.resolve_due_at THEN 1 ELSE 0 END) AS resolved_on_time,
            SUM(CASE WHEN i.resolved_at IS NOT NULL
                       OR (i.status IN {OPEN} AND i.resolve_due_at < $3) THEN 1 ELSE 0 END) AS resolve_decided,
            SUM(CASE WHEN i.status = 'closed' THEN 1 ELSE 0 END) AS closed,
            SUM(CASE WHEN i.status = 'withdrawn' THEN 1 ELSE 0 END) AS withdrawn,
            SUM(CASE WHEN i.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
            SUM(CASE WHEN i.resolved_at IS NOT NULL OR i.reopen_count > 0 THEN 1 ELSE 0 END) AS ever_resolved,
            COUNT(i.rating) AS rated,
            COALESCE(SUM(i.rating), 0) AS rating_sum,
            SUM(CASE WHEN i.rating >= 4 THEN 1 ELSE 0 END) AS satisfied,
            SUM(CASE WHEN i.overdue AND i.status IN {OPEN} THEN 1 ELSE 0 END) AS overdue_now
         FROM issues i {BY_PERIOD}
         WHERE i.created_at >= $1 AND i.created_at < $2 AND {key} IS NOT NULL
         GROUP BY {key}"
    );
    let rows: Vec<HeldRow> = diesel::sql_query(numbered(conn, &held_sql))
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .bind::<Timestamp, _>(now)
        .load(conn)?;
    lap("held");
    for r in rows {
        let c = out.entry(r.k).or_default();
        c.held = r.held;
        c.acknowledged = r.acknowledged;
        c.acknowledged_on_time = r.ack_on_time;
        c.ack_decided = r.ack_decided;
        c.resolved = r.resolved;
        c.resolved_on_time = r.resolved_on_time;
        c.resolve_decided = r.resolve_decided;
        c.closed = r.closed;
        c.withdrawn = r.withdrawn;
        c.reopened = r.reopened;
        c.ever_resolved = r.ever_resolved;
        c.rated = r.rated;
        c.rating_sum = r.rating_sum;
        c.satisfied = r.satisfied;
        c.overdue_now = r.overdue_now;
    }

    // Received: every issue filed in the period that reached the department, whoever has
    // it now. For a project, every issue filed on it.
    let received_sql = match by {
        By::Department => "SELECT x.department_id AS k, COUNT(*) AS n
             FROM issue_departments x
             WHERE x.issue_created_at >= $1 AND x.issue_created_at < $2
             GROUP BY x.department_id"
            .to_string(),
        By::Project => format!(
            "SELECT i.project_id AS k, COUNT(*) AS n FROM issues i {BY_PERIOD}
             WHERE i.created_at >= $1 AND i.created_at < $2 GROUP BY i.project_id"
        ),
        By::County => format!(
            "SELECT CAST(0 AS BIGINT) AS k, COUNT(*) AS n FROM issues i {BY_PERIOD}
             WHERE i.created_at >= $1 AND i.created_at < $2"
        ),
    };
    let rows: Vec<KeyCount> = diesel::sql_query(numbered(conn, &received_sql))
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)?;
    lap("received");
    for r in rows {
        out.entry(r.k).or_default().received = r.n;
    }

    // Returns, chases and extensions: events on those issues, counted for the department
    // each was addressed to (or the issue's project).
    let (event_key, join) = match by {
        By::Department => ("e.department_id", ""),
        By::Project => ("i.project_id", "JOIN issues i ON i.id = e.issue_id"),
        By::County => ("CAST(0 AS BIGINT)", ""),
    };
    let events_sql = format!(
        "SELECT {event_key} AS k, e.kind AS kind, COUNT(*) AS events, COUNT(DISTINCT e.issue_id) AS issues
         FROM issue_events e {join}
         WHERE e.issue_created_at >= $1 AND e.issue_created_at < $2 AND {event_key} IS NOT NULL
           AND e.kind IN ('return', 'chase', 'request_extension', 'approve_extension')
         GROUP BY {event_key}, e.kind"
    );
    let rows: Vec<EventCount> = diesel::sql_query(numbered(conn, &events_sql))
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)?;
    lap("events");
    for r in rows {
        let c = out.entry(r.k).or_default();
        match r.kind {
            EventKind::Return => c.returned = r.issues,
            EventKind::Chase => c.chases = r.events,
            EventKind::RequestExtension => c.extensions_requested = r.events,
            EventKind::ApproveExtension => c.extensions_granted = r.events,
            _ => {}
        }
    }

    // Working time to acknowledge and to resolve: nearest-rank median and 90th percentile.
    for (column, ack) in [("ack_work_seconds", true), ("resolve_work_seconds", false)] {
        let sql = format!(
            "SELECT k, v, rn, n FROM (
                SELECT {key} AS k, i.{column} AS v,
                       ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY i.{column}) AS rn,
                       COUNT(*) OVER (PARTITION BY {key}) AS n
                FROM issues i {BY_PERIOD}
                WHERE i.created_at >= $1 AND i.created_at < $2 AND {key} IS NOT NULL
                  AND i.{column} IS NOT NULL
             ) t
             WHERE rn = (n + 1) / 2 OR rn = (9 * n + 9) / 10"
        );
        let rows: Vec<RankedValue> = diesel::sql_query(numbered(conn, &sql))
            .bind::<Timestamp, _>(start)
            .bind::<Timestamp, _>(end)
            .load(conn)?;
        lap(column);
        for r in rows {
            let c = out.entry(r.k).or_default();
            let (median, p90) = crate::domain::report::percentile_ranks(r.n);
            let (m, p) = if ack {
                (&mut c.ack_seconds_median, &mut c.ack_seconds_p90)
            } else {
                (&mut c.resolve_seconds_median, &mut c.resolve_seconds_p90)
            };
            if r.rn == median {
                *m = Some(r.v);
            }
            if r.rn == p90 {
                *p = Some(r.v);
            }
        }
    }
    Ok(out)
}

#[derive(QueryableByName, Debug, Clone)]
pub struct ObserverRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub display_name: String,
    #[diesel(sql_type = BigInt)]
    pub filed: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub confirmed: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_activity: Option<NaiveDateTime>,
}

/// Every observer: what they filed in the period, how much of it they confirmed fixed, and
/// when they last did anything at all.
pub fn observers(
    conn: &mut DbConn,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<ObserverRow>> {
    let sql = numbered(
        conn,
        "SELECT u.id AS id, u.username AS username, u.display_name AS display_name,
            (SELECT COUNT(*) FROM issues i
              WHERE i.reporter_id = u.id AND i.created_at >= $1 AND i.created_at < $2) AS filed,
            (SELECT COUNT(*) FROM issues i
              WHERE i.reporter_id = u.id AND i.created_at >= $1 AND i.created_at < $2
                AND i.status = 'closed') AS closed,
            (SELECT COUNT(DISTINCT e.issue_id) FROM issue_events e JOIN issues i ON i.id = e.issue_id
              WHERE i.reporter_id = u.id AND i.created_at >= $1 AND i.created_at < $2
                AND e.kind = 'confirm') AS confirmed,
            (SELECT MAX(e.at) FROM issue_events e WHERE e.actor_id = u.id) AS last_activity
         FROM users u WHERE u.role = 'observer' AND u.active
         ORDER BY u.id",
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)
}

#[derive(QueryableByName, Debug, Clone)]
pub struct OverdueRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub number: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub department_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub department_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub project_name: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub ack_due_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub resolve_due_at: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    pub escalation_level: i64,
}

/// The issues overdue now, most escalated and oldest deadline first.
pub fn overdue_now(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OverdueRow>> {
    let sql = numbered(
        conn,
        &format!(
            "SELECT i.id AS id, i.number AS number, i.title AS title, i.status AS status,
                i.department_id AS department_id, d.name AS department_name, p.name AS project_name,
                i.ack_due_at AS ack_due_at, i.resolve_due_at AS resolve_due_at,
                CAST(i.escalation_level AS BIGINT) AS escalation_level
         FROM issues i
         JOIN projects p ON p.id = i.project_id
         LEFT JOIN departments d ON d.id = i.department_id
         WHERE i.overdue AND i.status IN {OPEN}
         ORDER BY i.escalation_level DESC, i.resolve_due_at ASC, i.id ASC
         LIMIT $1"
        ),
    );
    diesel::sql_query(sql).bind::<BigInt, _>(limit).load(conn)
}

/// Every department as (id, code, name), by code.
pub fn departments(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, String)>> {
    use super::schema::departments as d;
    d::table
        .select((d::id, d::code, d::name))
        .order(d::code.asc())
        .load(conn)
}

/// Every project as (id, code, name), by code.
pub fn projects(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, String)>> {
    use super::schema::projects as p;
    p::table
        .select((p::id, p::code, p::name))
        .order(p::code.asc())
        .load(conn)
}
