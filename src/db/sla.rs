//! SLA policies, business calendars and the timer queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::among::among;
use super::schema::{business_calendars, issue_clocks, sla_policies, sla_timers};
use super::stamp::MaybeStamp;
use super::{DbConn, native};
use crate::domain::issue::Status;
use crate::domain::sla::TimerKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sla_policies)]
pub struct PolicyRow {
    pub category: String,
    pub priority: String,
    pub ack_seconds: i64,
    pub resolve_seconds: i64,
    pub warn_percent: i32,
    pub auto_close_days: f64,
    pub updated_at: NaiveDateTime,
}

pub fn policies(conn: &mut DbConn) -> QueryResult<Vec<PolicyRow>> {
    sla_policies::table
        .select(PolicyRow::as_select())
        .order((sla_policies::category.asc(), sla_policies::priority.asc()))
        .load(conn)
}

pub fn policy(conn: &mut DbConn, category: &str, priority: &str) -> QueryResult<Option<PolicyRow>> {
    native!(conn, c => sla_policies::table
        .find((category, priority))
        .select(PolicyRow::as_select())
        .first(c)
        .optional())
}

/// Writes a policy, inside the caller's write transaction (which renews the rules' token).
pub fn upsert_policy(conn: &mut DbConn, row: &PolicyRow) -> QueryResult<()> {
    let updated = diesel::update(sla_policies::table.find((&row.category, &row.priority)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sla_policies::table)
            .values(row)
            .execute(conn)?;
    }
    super::rules_token::renew(conn)
}

/// The calendars supervisors have set, as (year, JSON body).
pub fn calendars(conn: &mut DbConn) -> QueryResult<Vec<(i32, String)>> {
    business_calendars::table
        .select((business_calendars::year, business_calendars::body))
        .order(business_calendars::year.asc())
        .load(conn)
}

/// Stores a year's calendar, inside the caller's write transaction (which renews the rules'
/// token).
pub fn store_calendar(
    conn: &mut DbConn,
    year: i32,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(business_calendars::table.find(year))
        .set((
            business_calendars::body.eq(body),
            business_calendars::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(business_calendars::table)
            .values((
                business_calendars::year.eq(year),
                business_calendars::body.eq(body),
                business_calendars::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    super::rules_token::renew(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sla_timers)]
pub struct TimerRow {
    pub id: i64,
    pub issue_id: i64,
    pub kind: TimerKind,
    pub due_at: NaiveDateTime,
    pub fired_at: Option<NaiveDateTime>,
}

pub fn schedule(
    conn: &mut DbConn,
    issue_id: i64,
    kind: TimerKind,
    due_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sla_timers::table)
        .values((
            sla_timers::issue_id.eq(issue_id),
            sla_timers::kind.eq(kind),
            sla_timers::due_at.eq(due_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Several timers of one issue: one statement on PostgreSQL (a round trip saved per timer),
/// one prepared insert each on SQLite (in process, and without multi-row inserts here).
pub fn schedule_all<const N: usize>(
    conn: &mut DbConn,
    issue_id: i64,
    timers: &[(TimerKind, NaiveDateTime); N],
) -> QueryResult<()> {
    let rows = timers.map(|(kind, due_at)| {
        (
            sla_timers::issue_id.eq(issue_id),
            sla_timers::kind.eq(kind),
            sla_timers::due_at.eq(due_at),
        )
    });
    match conn {
        DbConn::Pg(pg) => {
            diesel::insert_into(sla_timers::table)
                .values(&rows)
                .execute(pg)?;
        }
        DbConn::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(sla_timers::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Drops the timers of these kinds that have not fired.
pub fn cancel(conn: &mut DbConn, issue_id: i64, kinds: &[TimerKind]) -> QueryResult<usize> {
    // One kind at a time: the same statement each time, prepared once (a list of values
    // would be compiled on every call).
    let mut cancelled = 0;
    for kind in kinds {
        cancelled += diesel::delete(
            sla_timers::table
                .filter(sla_timers::issue_id.eq(issue_id))
                .filter(sla_timers::kind.eq(*kind))
                .filter(sla_timers::fired_at.is_null()),
        )
        .execute(conn)?;
    }
    Ok(cancelled)
}

/// Forgets fired timers of these kinds too: a clock that starts afresh may warn again.
pub fn forget(conn: &mut DbConn, issue_id: i64, kinds: &[TimerKind]) -> QueryResult<usize> {
    diesel::delete(
        sla_timers::table
            .filter(sla_timers::issue_id.eq(issue_id))
            .filter(sla_timers::kind.eq_any(kinds)),
    )
    .execute(conn)
}

/// The kinds that already fired for an issue (since its clocks last restarted).
pub fn fired_kinds(conn: &mut DbConn, issue_id: i64) -> QueryResult<Vec<TimerKind>> {
    sla_timers::table
        .filter(sla_timers::issue_id.eq(issue_id))
        .filter(sla_timers::fired_at.is_not_null())
        .select(sla_timers::kind)
        .load(conn)
}

/// Timers due by `now`, oldest first, through the partial index on unfired timers.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<TimerRow>> {
    sla_timers::table
        .filter(sla_timers::fired_at.is_null())
        .filter(sla_timers::due_at.le(now))
        .select(TimerRow::as_select())
        .order(sla_timers::due_at.asc())
        .limit(limit)
        .load(conn)
}

/// Claims a timer: exactly one caller (of any instance) gets `true`.
/// How many timers are due at `now` and not fired, and the earliest due of them.
pub fn due_backlog(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    sla_timers::table
        .filter(sla_timers::fired_at.is_null())
        .filter(sla_timers::due_at.le(now))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(sla_timers::due_at),
        ))
        .get_result(conn)
}

pub fn claim(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        sla_timers::table
            .filter(sla_timers::id.eq(id))
            .filter(sla_timers::fired_at.is_null()),
    )
    .set(sla_timers::fired_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// An issue's clocks.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = issue_clocks)]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ClockRow {
    pub issue_id: i64,
    pub ack_seconds: i64,
    pub resolve_seconds: i64,
    pub warn_percent: i32,
    pub auto_close_days: f64,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ack_started_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolve_started_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolve_paused_at: Option<NaiveDateTime>,
    pub resolve_paused_seconds: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    pub auto_close_at: Option<NaiveDateTime>,
}

/// What an issue's view shows of its clocks beyond the issue's own deadlines: since when the
/// resolve clock is paused, and when a resolved issue closes by itself. Pages read only
/// these columns of the clocks (a page of 50 issues decoded 400 more values for nothing).
/// Read through a left join, a clock row with neither mark reads as no clocks at all, which
/// the view shows the same way.
#[derive(Debug, Clone, Copy, PartialEq, Queryable, Selectable)]
#[diesel(table_name = issue_clocks)]
pub struct ClockMarks {
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolve_paused_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub auto_close_at: Option<NaiveDateTime>,
}

impl From<&ClockRow> for ClockMarks {
    fn from(c: &ClockRow) -> Self {
        ClockMarks {
            resolve_paused_at: c.resolve_paused_at,
            auto_close_at: c.auto_close_at,
        }
    }
}

/// The view's marks of an issue's clocks, if it has clocks.
pub fn marks(conn: &mut DbConn, issue_id: i64) -> QueryResult<Option<ClockMarks>> {
    native!(conn, c => issue_clocks::table
        .find(issue_id)
        .select(ClockMarks::as_select())
        .get_result(c)
        .optional())
}

/// The view's marks of these issues' clocks, for those that have clocks, in no particular
/// order: one statement, prepared once per connection, whatever the number of issues. (A
/// lookup per issue would be, on SQLite, a read transaction per issue, each taking and
/// releasing the database's read lock; on PostgreSQL a round trip per issue.)
pub fn marks_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, ClockMarks)>> {
    native!(conn, c => issue_clocks::table
        .filter(among(issue_clocks::issue_id, ids))
        .select((issue_clocks::issue_id, ClockMarks::as_select()))
        .load(c))
}

pub fn clock(conn: &mut DbConn, issue_id: i64) -> QueryResult<Option<ClockRow>> {
    native!(conn, c => issue_clocks::table
        .find(issue_id)
        .select(ClockRow::as_select())
        .get_result(c)
        .optional())
}

/// The clock of an issue that has none yet.
pub fn insert_clock(conn: &mut DbConn, row: &ClockRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(issue_clocks::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn save_clock(conn: &mut DbConn, row: &ClockRow) -> QueryResult<()> {
    let updated = diesel::update(issue_clocks::table.find(row.issue_id))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(issue_clocks::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Every clock whose issue is still open (for recomputing after a calendar change).
pub fn open_clocks(conn: &mut DbConn) -> QueryResult<Vec<ClockRow>> {
    use super::schema::issues;
    issue_clocks::table
        .inner_join(issues::table)
        .filter(issues::status.eq_any([
            Status::Assigned,
            Status::InProgress,
            Status::AwaitingInfo,
            Status::Resolved,
        ]))
        .select(ClockRow::as_select())
        .load(conn)
}
