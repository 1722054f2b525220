//! The `issues` table and what hangs off it: numbering, routing history, comments and the
//! append-only event timeline. Who may see which issue is decided here, in SQL, so that
//! lists and single reads apply the same rule and nothing is filtered in memory.
//!
//! An issue's row, once written, changes only through [`update_if_version`] (which moves
//! `version` and `updated_at`) and [`touch`] (which moves `updated_at`): pages of issues hold
//! each issue's JSON under those two (`api::issues::shown`) and would show an older row
//! after any other change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::among::among;
use super::schema::{
    issue_clocks, issue_comments, issue_counters, issue_departments, issue_events, issues,
    project_observers, visibility_changes,
};
use super::sla::ClockMarks;
use super::stamp::{MaybeStamp, Stamp};
use super::{DbConn, native};
use crate::domain::issue::Status;
use crate::domain::lifecycle::EventKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issues)]
pub struct IssueRow {
    pub id: i64,
    pub number: String,
    pub project_id: i64,
    pub milestone_id: Option<i64>,
    pub reporter_id: i64,
    pub category: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub private: bool,
    pub status: Status,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ack_due_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolve_due_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub acknowledged_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolved_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub closed_at: Option<NaiveDateTime>,
    pub overdue: bool,
    pub escalation_level: i32,
    pub rating: Option<i32>,
    pub reopen_count: i32,
    pub extension_requested_minutes: Option<i64>,
    pub version: i64,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

/// `None` is written as NULL, not `DEFAULT`: one statement text whatever is missing, so
/// PostgreSQL gets it prepared once (diesel does not cache a statement with `DEFAULT`).
#[derive(Debug, Insertable)]
#[diesel(table_name = issues)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewIssue {
    pub number: String,
    pub project_id: i64,
    pub milestone_id: Option<i64>,
    pub reporter_id: i64,
    pub category: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub private: bool,
    pub status: Status,
    pub department_id: Option<i64>,
    /// Its deadlines when it is filed straight to a department.
    pub ack_due_at: Option<NaiveDateTime>,
    pub resolve_due_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A change to an issue; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = issues)]
pub struct IssueChanges {
    pub status: Option<Status>,
    pub department_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
    pub ack_due_at: Option<Option<NaiveDateTime>>,
    pub resolve_due_at: Option<Option<NaiveDateTime>>,
    pub acknowledged_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub overdue: Option<bool>,
    pub escalation_level: Option<i32>,
    pub rating: Option<Option<i32>>,
    pub reopen_count: Option<i32>,
    pub extension_requested_minutes: Option<Option<i64>>,
    pub ack_work_seconds: Option<Option<i64>>,
    pub resolve_work_seconds: Option<Option<i64>>,
}

/// Which issues a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Supervisors and admins.
    All,
    /// An observer: their own issues, and the non-private issues of projects they follow.
    Observer(i64),
    /// Department staff and heads: issues ever routed to their department.
    Department(i64),
    /// Nobody (a department user without a department).
    Nothing,
}

/// What an observer sees: their own issues, and the non-private issues of projects they
/// follow. One rule for the single read and the list (whose [`observer_page`] reads the
/// rule's two parts source by source: a change here is a change there).
macro_rules! observer_sees {
    ($user:expr) => {
        issues::reporter_id
            .eq($user)
            .or(issues::private.eq(false).and(
                issues::project_id.eq_any(
                    project_observers::table
                        .filter(project_observers::user_id.eq($user))
                        .select(project_observers::project_id),
                ),
            ))
    };
}

/// The row of `$from` for the issue `$id`, narrowed by a scope's condition when there is
/// one: a statement of its own type, so prepared once.
macro_rules! one_of {
    ($conn:expr, $id:expr, $from:expr, $select:expr $(, $visible:expr)?) => {
        native!($conn, c => $from
            .filter(issues::id.eq($id))
            $(.filter($visible))?
            .select($select)
            .get_result(c)
            .optional())
    };
}

/// One row of `$from`, by the issue's id, if the scope lets the caller see the issue. The
/// same rules as [`list`], written out per scope so that each is one statement prepared
/// once (a boxed query is built again on every call).
macro_rules! visible_one {
    ($conn:expr, $scope:expr, $id:expr, $from:expr, $select:expr) => {
        match $scope {
            Scope::All => one_of!($conn, $id, $from, $select),
            Scope::Observer(user) => one_of!($conn, $id, $from, $select, observer_sees!(user)),
            Scope::Department(d) => one_of!(
                $conn,
                $id,
                $from,
                $select,
                issues::id.eq_any(
                    issue_departments::table
                        .filter(issue_departments::department_id.eq(d))
                        .select(issue_departments::issue_id),
                )
            ),
            Scope::Nothing => Ok(None),
        }
    };
}

/// One issue, if the scope lets the caller see it.
pub fn find_visible(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<Option<IssueRow>> {
    visible_one!(conn, scope, id, issues::table, IssueRow::as_select())
}

/// One issue with its clocks (none before it reached a department), if the scope lets the
/// caller see it: one statement.
pub fn find_visible_with_clock(
    conn: &mut DbConn,
    scope: Scope,
    id: i64,
) -> QueryResult<Option<WithClock>> {
    visible_one!(
        conn,
        scope,
        id,
        issues::table.left_join(issue_clocks::table),
        (IssueRow::as_select(), Option::<ClockMarks>::as_select())
    )
}

/// Takes the issue's row lock for the rest of the write transaction, so that what the
/// caller reads next is what its write will change. Every writer that reads an issue and
/// then changes it (transitions, comments, the SLA worker, a calendar change) takes this
/// first, in the same order, so they queue instead of failing each other's version check.
/// On SQLite the single writer and `BEGIN IMMEDIATE` already serialise writes: nothing to do.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM issues WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(pg)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<IssueRow>> {
    native!(conn, c => issues::table
        .find(id)
        .select(IssueRow::as_select())
        .get_result(c)
        .optional())
}

#[derive(Debug, Default, Clone)]
pub struct IssueFilter {
    pub status: Option<Status>,
    pub department_id: Option<i64>,
    pub project_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub overdue: Option<bool>,
    /// An extension request waits for a supervisor's decision.
    pub extension_pending: Option<bool>,
    /// Escalated at least once.
    pub escalated: Option<bool>,
    /// Returned by a department at least once.
    pub returned: Option<bool>,
    pub updated_since: Option<NaiveDateTime>,
    /// With `updated_since`: also the issues that entered this user's view since.
    pub viewer_id: Option<i64>,
    /// The last id of the previous page: issues are listed newest first.
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl IssueFilter {
    /// Nothing narrows the page but its cursor.
    fn is_plain(&self) -> bool {
        let IssueFilter {
            status,
            department_id,
            project_id,
            reporter_id,
            overdue,
            extension_pending,
            escalated,
            returned,
            updated_since,
            viewer_id: _,
            before_id: _,
            limit: _,
        } = self;
        status.is_none()
            && department_id.is_none()
            && project_id.is_none()
            && reporter_id.is_none()
            && overdue.is_none()
            && extension_pending.is_none()
            && escalated.is_none()
            && returned.is_none()
            && updated_since.is_none()
    }
}

/// The filters of a page of issues and its cursor, on a boxed query `$q` whose rows come in
/// the order of `$id` (see [`list`]).
macro_rules! page {
    ($c:ident, $q:expr, $id:expr, $f:expr) => {{
        let f = $f;
        let mut q = $q;
        if let Some(s) = &f.status {
            q = q.filter(issues::status.eq(*s));
        }
        if let Some(d) = f.department_id {
            q = q.filter(issues::department_id.eq(d));
        }
        if let Some(p) = f.project_id {
            q = q.filter(issues::project_id.eq(p));
        }
        if let Some(r) = f.reporter_id {
            q = q.filter(issues::reporter_id.eq(r));
        }
        if let Some(o) = f.overdue {
            q = q.filter(issues::overdue.eq(o));
        }
        match f.extension_pending {
            Some(true) => q = q.filter(issues::extension_requested_minutes.is_not_null()),
            Some(false) => q = q.filter(issues::extension_requested_minutes.is_null()),
            None => {}
        }
        match f.escalated {
            Some(true) => q = q.filter(issues::escalation_level.gt(0)),
            Some(false) => q = q.filter(issues::escalation_level.eq(0)),
            None => {}
        }
        if let Some(r) = f.returned {
            let returned = issue_events::table
                .filter(issue_events::kind.eq(EventKind::Return))
                .select(issue_events::issue_id);
            q = if r {
                q.filter(issues::id.eq_any(returned))
            } else {
                q.filter(issues::id.ne_all(returned))
            };
        }
        if let Some(since) = f.updated_since {
            let viewer = f.viewer_id.unwrap_or(-1);
            q = q.filter(
                issues::updated_at
                    .ge(since)
                    .or(issues::id.nullable().eq_any(
                        visibility_changes::table
                            .filter(visibility_changes::user_id.eq(viewer))
                            .filter(visibility_changes::visible.eq(true))
                            .filter(visibility_changes::at.ge(since))
                            .select(visibility_changes::issue_id),
                    )),
            );
        }
        if let Some(before) = f.before_id {
            q = q.filter($id.lt(before));
        }
        q.order($id.desc()).limit(f.limit).load($c)
    }};
}

/// A page of the issues `scope` lets the caller see, newest first: each issue's key (the
/// rows themselves come from [`by_ids`] for the issues a page does not hold, and the clock
/// marks from [`super::sla::marks_of`] for the few issues whose view shows them). An
/// observer sees their own issues and the non-private issues of projects they follow, read
/// source by source ([`observer_page`]); a department every issue ever routed to it, read
/// from the department's index newest first, so that a page stops after its rows however
/// many the department had. Built on the backend's own connection: a filter's statement is
/// still built per call (the filters vary), but not translated through the two-backend
/// connection as well.
pub fn list(conn: &mut DbConn, scope: Scope, f: &IssueFilter) -> QueryResult<Vec<IssueKey>> {
    if let Scope::Observer(user) = scope
        && let Some(rows) = observer_page(conn, user, f)?
    {
        return Ok(rows);
    }
    if f.is_plain() {
        return plain_page(conn, scope, f.before_id.unwrap_or(i64::MAX), f.limit);
    }
    native!(conn, c => match scope {
        Scope::All => page!(
            c,
            issues::table.select(IssueKey::as_select()).into_boxed(),
            issues::id,
            f
        ),
        Scope::Observer(user) => page!(
            c,
            issues::table
                .filter(observer_sees!(user))
                .select(IssueKey::as_select())
                .into_boxed(),
            issues::id,
            f
        ),
        Scope::Department(d) => page!(
            c,
            issue_departments::table
                .inner_join(issues::table)
                .filter(issue_departments::department_id.eq(d))
                .select(IssueKey::as_select())
                .into_boxed(),
            issue_departments::issue_id,
            f
        ),
        Scope::Nothing => Ok(Vec::new()),
    })
}

/// A page with no filter but its cursor, the page every list opens on: the same rows as
/// [`list`] gives, in statements of their own type, so that each is prepared once per
/// connection and reused (a boxed query is parsed and planned again on every call). The
/// first page asks for ids below `i64::MAX`, so the first and the next pages share a
/// statement.
fn plain_page(
    conn: &mut DbConn,
    scope: Scope,
    before: i64,
    limit: i64,
) -> QueryResult<Vec<IssueKey>> {
    // `$q`'s rows before the cursor, newest first by `$id`.
    macro_rules! newest {
        ($c:ident, $q:expr, $id:expr) => {
            $q.filter($id.lt(before))
                .order($id.desc())
                .limit(limit)
                .select(IssueKey::as_select())
                .load($c)
        };
    }
    if let (Scope::Department(d), DbConn::Pg(pg)) = (scope, &mut *conn) {
        return department_page_pg(pg, d, before, limit);
    }
    native!(conn, c => match scope {
        Scope::All => newest!(c, issues::table, issues::id),
        Scope::Observer(user) => {
            newest!(c, issues::table.filter(observer_sees!(user)), issues::id)
        }
        Scope::Department(d) => newest!(
            c,
            issue_departments::table
                .inner_join(issues::table)
                .filter(issue_departments::department_id.eq(d)),
            issue_departments::issue_id
        ),
        Scope::Nothing => Ok(Vec::new()),
    })
}

/// A department's page on PostgreSQL: the issues whose ids are the newest of the
/// department's routing rows, `id = ANY(ARRAY(SELECT issue_id … LIMIT n))`. Written as a
/// join, PostgreSQL planned the page afresh on every call (its generic plan, which cannot
/// know how many issues the department holds, is costed above the custom one) and the
/// planning cost twice the execution; written this way both plans read the department's
/// index for the ids and the issues by their key, so the statement keeps its generic plan
/// after the first few calls. Routing rows and issues are never deleted, so every id has
/// its row.
fn department_page_pg(
    pg: &mut diesel::PgConnection,
    department: i64,
    before: i64,
    limit: i64,
) -> QueryResult<Vec<IssueKey>> {
    use diesel::pg::expression::dsl::array;
    let newest = issue_departments::table
        .filter(issue_departments::department_id.eq(department))
        .filter(issue_departments::issue_id.lt(before))
        .order(issue_departments::issue_id.desc())
        .limit(limit)
        .select(issue_departments::issue_id);
    issues::table
        .filter(issues::id.eq_any(array(newest)))
        .order(issues::id.desc())
        .select(IssueKey::as_select())
        .load(pg)
}

/// An issue and its SLA clocks, as a single read shows them.
pub type WithClock = (IssueRow, Option<ClockMarks>);

/// An issue's id and what identifies its current row: what a page reads of each issue. The
/// rest of the row is the same for as long as the key is (`version` moves with every change
/// to the issue, `updated_at` with every comment too), so a page shows what it holds for
/// the key and reads in full ([`by_ids`]) only the issues it does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = issues)]
pub struct IssueKey {
    pub id: i64,
    pub version: i64,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

impl IssueKey {
    pub fn of(row: &IssueRow) -> IssueKey {
        IssueKey {
            id: row.id,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

/// The rows of these issues (those that exist), in no particular order.
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<IssueRow>> {
    native!(conn, c => issues::table
        .filter(among(issues::id, ids))
        .select(IssueRow::as_select())
        .load(c))
}

/// Followed projects past which an observer's page is one statement over the rule again
/// (the page below costs a statement per followed project).
const MERGED_PROJECTS: i64 = 16;

/// A page of what an observer sees, for an observer who follows at most
/// [`MERGED_PROJECTS`] projects (`None` for one who follows more). What they see is the
/// union of their own issues and each followed project's non-private issues (the rule of
/// `observer_sees!`, taken apart), so the page is the newest of the newest of each: every
/// source, narrowed by the page's filters, is read from its index (`(reporter_id, id)`,
/// `(project_id, id)`) newest first and stops after a page, and only the page's issues are
/// read further (their keys). (One statement over the rule reads either every
/// issue the observer can see, to sort them, or every issue, newest first, for the few they
/// can see; which of the two depends on the database.) The keys are read under the rule
/// again, so that an issue that left the observer's view meanwhile is not shown; should
/// that leave the page short, it is read again.
fn observer_page(
    conn: &mut DbConn,
    user: i64,
    f: &IssueFilter,
) -> QueryResult<Option<Vec<IssueKey>>> {
    native!(conn, c => {
        let mut rows = Vec::new();
        for _ in 0..3 {
            let followed: Vec<i64> = project_observers::table
                .filter(project_observers::user_id.eq(user))
                .select(project_observers::project_id)
                .limit(MERGED_PROJECTS + 1)
                .load(c)?;
            if i64::try_from(followed.len()).unwrap_or(i64::MAX) > MERGED_PROJECTS {
                return Ok(None);
            }
            let mut ids: Vec<i64> = page!(
                c,
                issues::table
                    .filter(issues::reporter_id.eq(user))
                    .select(issues::id)
                    .into_boxed(),
                issues::id,
                f
            )?;
            for project in followed {
                let newest: Vec<i64> = page!(
                    c,
                    issues::table
                        .filter(issues::project_id.eq(project))
                        .filter(issues::private.eq(false))
                        .select(issues::id)
                        .into_boxed(),
                    issues::id,
                    f
                )?;
                ids.extend(newest);
            }
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            ids.truncate(usize::try_from(f.limit).unwrap_or(0));
            if ids.is_empty() {
                return Ok(Some(Vec::new()));
            }
            rows = issues::table
                .filter(among(issues::id, &ids))
                .filter(observer_sees!(user))
                .order(issues::id.desc())
                .select(IssueKey::as_select())
                .load(c)?;
            if rows.len() == ids.len() {
                break;
            }
        }
        Ok(Some(rows))
    })
}

/// The next number in a year's sequence, inside the caller's write transaction: no two
/// issues get one number, and numbers rise in the order issues are filed.
///
/// On SQLite the single writer bumps the year's counter row. On PostgreSQL a sequence per
/// year hands numbers out without a lock held to the commit (a counter row would make every
/// filing wait for the previous one's commit); the price is a gap where a filing fails
/// after drawing its number.
pub fn next_number(conn: &mut DbConn, year: i32) -> QueryResult<i64> {
    if let DbConn::Pg(pg) = conn {
        return next_from_sequence(pg, year);
    }
    next_from_counter(conn, year)
}

mod sequences {
    use diesel::sql_types::{Nullable, Oid, Text};

    // PostgreSQL's own functions, as typed expressions so that the draw is a statement diesel
    // prepares once per connection (a raw SQL string is parsed again on every filing).
    diesel::define_sql_function! {
        /// The sequence of this name, or null while there is none.
        fn to_regclass(name: Text) -> Nullable<Oid>;
    }
    diesel::define_sql_function! {
        /// The sequence's next value; null for a null sequence.
        fn nextval(sequence: Nullable<Oid>) -> Nullable<BigInt>;
    }
}

fn next_from_sequence(pg: &mut diesel::PgConnection, year: i32) -> QueryResult<i64> {
    use diesel::sql_types::Text;
    let name = format!("issue_number_{}", year.max(0));
    // `to_regclass` is null while the year has no sequence, and so is `nextval(null)`.
    let draw = |pg: &mut diesel::PgConnection| {
        diesel::select(sequences::nextval(sequences::to_regclass(&name)))
            .get_result::<Option<i64>>(pg)
    };
    if let Some(n) = draw(pg)? {
        return Ok(n);
    }
    // The year's first filing: the sequence starts after what the year's counter handed
    // out, created once under a lock that concurrent first filings queue on.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<Text, _>(&name)
        .execute(pg)?;
    let start = issue_counters::table
        .find(year)
        .select(issue_counters::last)
        .first::<i64>(pg)
        .optional()?
        .unwrap_or(0)
        + 1;
    // Both parts of the statement are numbers, so it is safe to build.
    diesel::sql_query(format!(
        "CREATE SEQUENCE IF NOT EXISTS {name} START WITH {start}"
    ))
    .execute(pg)?;
    draw(pg)?.ok_or(diesel::result::Error::NotFound)
}

fn next_from_counter(conn: &mut DbConn, year: i32) -> QueryResult<i64> {
    // The year's counter, bumped and read in one statement.
    let bump = |conn: &mut DbConn| {
        native!(conn, c => diesel::update(issue_counters::table.find(year))
            .set(issue_counters::last.eq(issue_counters::last + 1))
            .returning(issue_counters::last)
            .get_result::<i64>(c)
            .optional())
    };
    if let Some(n) = bump(conn)? {
        return Ok(n);
    }
    let inserted = conn.transaction(|c| {
        diesel::insert_into(issue_counters::table)
            .values((
                issue_counters::year.eq(year),
                issue_counters::last.eq(1_i64),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(1),
        // Another transaction created the year's row first: take the next from it.
        Err(e) if crate::error::is_unique_violation(&e) => {
            bump(conn)?.ok_or(diesel::result::Error::NotFound)
        }
        Err(e) => Err(e),
    }
}

/// Inserts an issue and hands back its row, in one statement.
pub fn insert(conn: &mut DbConn, new: &NewIssue) -> QueryResult<IssueRow> {
    native!(conn, c => diesel::insert_into(issues::table)
        .values(new)
        .returning(IssueRow::as_returning())
        .get_result(c))
}

/// Compare-and-set: applies only at `expected_version`; 0 rows means another change won.
pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &IssueChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        issues::table
            .filter(issues::id.eq(id))
            .filter(issues::version.eq(expected_version)),
    )
    .set((
        changes,
        issues::version.eq(issues::version + 1),
        issues::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Moves `updated_at` (a comment is something a syncing client must fetch) without
/// changing the version: the issue itself, and so its ETag, is unchanged.
pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(issues::table.filter(issues::id.eq(id)))
        .set(issues::updated_at.eq(now))
        .execute(conn)
}

/// Records that an issue reached a department; it stays visible to that department.
pub fn remember_department(
    conn: &mut DbConn,
    issue_id: i64,
    department_id: i64,
) -> QueryResult<()> {
    let known: bool = diesel::select(diesel::dsl::exists(
        issue_departments::table
            .filter(issue_departments::issue_id.eq(issue_id))
            .filter(issue_departments::department_id.eq(department_id)),
    ))
    .get_result(conn)?;
    if !known {
        let filed = filed_at(conn, issue_id)?;
        insert_department(conn, issue_id, filed, department_id)?;
    }
    Ok(())
}

/// The first department a just-filed issue reached (`issue` as inserted): no earlier row
/// to look for.
pub fn remember_first_department(
    conn: &mut DbConn,
    issue: &IssueRow,
    department_id: i64,
) -> QueryResult<()> {
    insert_department(conn, issue.id, Some(issue.created_at), department_id)
}

fn insert_department(
    conn: &mut DbConn,
    issue_id: i64,
    filed: Option<NaiveDateTime>,
    department_id: i64,
) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(issue_departments::table)
        .values((
            issue_departments::issue_id.eq(issue_id),
            issue_departments::department_id.eq(department_id),
            issue_departments::issue_created_at.eq(filed),
        ))
        .execute(c))?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issue_events)]
pub struct EventRow {
    pub id: i64,
    pub issue_id: i64,
    pub kind: EventKind,
    pub actor_id: Option<i64>,
    pub at: NaiveDateTime,
    pub data: String,
    pub internal: bool,
}

/// Appends to the timeline. Events are never updated or deleted (the database refuses).
pub fn add_event(
    conn: &mut DbConn,
    issue_id: i64,
    kind: EventKind,
    actor_id: Option<i64>,
    at: NaiveDateTime,
    data: &serde_json::Value,
    internal: bool,
) -> QueryResult<()> {
    // Addressed to the department that has the issue now (after the change it records).
    let department: Option<i64> = issues::table
        .find(issue_id)
        .select(issues::department_id)
        .first(conn)
        .optional()?
        .flatten();
    add_event_for(
        conn, issue_id, kind, actor_id, at, data, internal, department,
    )
}

/// When an issue was filed (kept on its timeline rows and routing rows for the reports).
fn filed_at(conn: &mut DbConn, issue_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    issues::table
        .find(issue_id)
        .select(issues::created_at)
        .first(conn)
        .optional()
}

/// An event addressed to a named department (a return: the department that gave it back).
#[allow(clippy::too_many_arguments)]
pub fn add_event_for(
    conn: &mut DbConn,
    issue_id: i64,
    kind: EventKind,
    actor_id: Option<i64>,
    at: NaiveDateTime,
    data: &serde_json::Value,
    internal: bool,
    department_id: Option<i64>,
) -> QueryResult<()> {
    let filed = filed_at(conn, issue_id)?;
    let event = Event {
        kind,
        actor_id,
        at,
        data,
        internal,
    };
    insert_event(conn, issue_id, filed, department_id, &event)
}

/// An event of an issue, as [`add_event`] records it.
pub struct Event<'a> {
    pub kind: EventKind,
    pub actor_id: Option<i64>,
    pub at: NaiveDateTime,
    pub data: &'a serde_json::Value,
    pub internal: bool,
}

/// An event of an issue whose row the caller holds as it is after the change the event
/// records (addressed to its department): nothing to look up first.
pub fn add_event_on(conn: &mut DbConn, issue: &IssueRow, event: &Event<'_>) -> QueryResult<()> {
    add_events_on(conn, issue, [event])
}

/// Several events of an issue at once, as [`add_event_on`] writes each: one statement of its
/// own type for each count, so prepared once.
pub fn add_events_on<const N: usize>(
    conn: &mut DbConn,
    issue: &IssueRow,
    events: [&Event<'_>; N],
) -> QueryResult<()> {
    let values =
        events.map(|e| event_values(issue.id, Some(issue.created_at), issue.department_id, e));
    native!(conn, c => diesel::insert_into(issue_events::table)
        .values(values)
        .execute(c))?;
    Ok(())
}

fn insert_event(
    conn: &mut DbConn,
    issue_id: i64,
    filed: Option<NaiveDateTime>,
    department_id: Option<i64>,
    e: &Event<'_>,
) -> QueryResult<()> {
    let values = event_values(issue_id, filed, department_id, e);
    native!(conn, c => diesel::insert_into(issue_events::table)
        .values(values)
        .execute(c))?;
    Ok(())
}

/// An event's row, addressed to `department_id`. Owned values: a batch's statement type is
/// its cache key, so it may borrow nothing.
type EventValues = (
    diesel::dsl::Eq<issue_events::issue_id, i64>,
    diesel::dsl::Eq<issue_events::kind, EventKind>,
    diesel::dsl::Eq<issue_events::actor_id, Option<i64>>,
    diesel::dsl::Eq<issue_events::at, NaiveDateTime>,
    diesel::dsl::Eq<issue_events::data, String>,
    diesel::dsl::Eq<issue_events::internal, bool>,
    diesel::dsl::Eq<issue_events::department_id, Option<i64>>,
    diesel::dsl::Eq<issue_events::issue_created_at, Option<NaiveDateTime>>,
);

fn event_values(
    issue_id: i64,
    filed: Option<NaiveDateTime>,
    department_id: Option<i64>,
    e: &Event<'_>,
) -> EventValues {
    (
        issue_events::issue_id.eq(issue_id),
        issue_events::kind.eq(e.kind),
        issue_events::actor_id.eq(e.actor_id),
        issue_events::at.eq(e.at),
        issue_events::data.eq(e.data.to_string()),
        issue_events::internal.eq(e.internal),
        issue_events::department_id.eq(department_id),
        issue_events::issue_created_at.eq(filed),
    )
}

pub fn events(
    conn: &mut DbConn,
    issue_id: i64,
    include_internal: bool,
) -> QueryResult<Vec<EventRow>> {
    let mut q = issue_events::table
        .filter(issue_events::issue_id.eq(issue_id))
        .select(EventRow::as_select())
        .into_boxed();
    if !include_internal {
        q = q.filter(issue_events::internal.eq(false));
    }
    q.order(issue_events::id.asc()).load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issue_comments)]
pub struct CommentRow {
    pub id: i64,
    pub issue_id: i64,
    pub author_id: i64,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

pub fn add_comment(
    conn: &mut DbConn,
    issue_id: i64,
    author_id: i64,
    body: &str,
    internal: bool,
    at: NaiveDateTime,
) -> QueryResult<CommentRow> {
    diesel::insert_into(issue_comments::table)
        .values((
            issue_comments::issue_id.eq(issue_id),
            issue_comments::author_id.eq(author_id),
            issue_comments::body.eq(body),
            issue_comments::internal.eq(internal),
            issue_comments::created_at.eq(at),
        ))
        .returning(issue_comments::all_columns)
        .get_result(conn)
}

pub fn comments(
    conn: &mut DbConn,
    issue_id: i64,
    include_internal: bool,
    since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    let mut q = issue_comments::table
        .filter(issue_comments::issue_id.eq(issue_id))
        .select(CommentRow::as_select())
        .into_boxed();
    if !include_internal {
        q = q.filter(issue_comments::internal.eq(false));
    }
    // Comments are never edited: "changed since" is "written since".
    if let Some(since) = since {
        q = q.filter(issue_comments::created_at.ge(since));
    }
    if let Some(after) = after_id {
        q = q.filter(issue_comments::id.gt(after));
    }
    q.order(issue_comments::id.asc()).limit(limit).load(conn)
}

pub fn comment(conn: &mut DbConn, id: i64) -> QueryResult<Option<CommentRow>> {
    issue_comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .optional()
}

/// The ids of an issue's internal comments (hidden from observers, with their files).
pub fn internal_comment_ids(conn: &mut DbConn, issue_id: i64) -> QueryResult<Vec<i64>> {
    issue_comments::table
        .filter(issue_comments::issue_id.eq(issue_id))
        .filter(issue_comments::internal.eq(true))
        .select(issue_comments::id)
        .load(conn)
}
