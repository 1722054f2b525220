//! The `notifications` table: the in-app feed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{departments, notifications, users};
use super::users::UserRow;
use super::{DbConn, native};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub issue_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// `None` is written as NULL (see [`crate::db::issues::NewIssue`]).
#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub issue_id: Option<i64>,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub data: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, n: &NewNotification<'_>) -> QueryResult<i64> {
    native!(conn, c => diesel::insert_into(notifications::table)
        .values((n, notifications::updated_at.eq(n.created_at)))
        .returning(notifications::id)
        .get_result(c))
}

/// Several notifications, a statement per [`INSERT_CHUNK`] of them (a department's users
/// or the supervisors: one statement): the id each one was given, with its user.
pub fn insert_all(conn: &mut DbConn, rows: &[NewNotification<'_>]) -> QueryResult<Vec<(i64, i64)>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|n| (n, notifications::updated_at.eq(n.created_at)))
            .collect();
        let written: Vec<(i64, i64)> = native!(conn, c => diesel::insert_into(notifications::table)
            .values(values)
            .returning((notifications::id, notifications::user_id))
            .get_results(c))?;
        ids.extend(written);
    }
    Ok(ids)
}

/// Rows per insert: eight parameters each, well inside either database's limit on the
/// parameters of one statement (32,766 for SQLite, 65,535 for PostgreSQL).
const INSERT_CHUNK: usize = 500;

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

/// A user's notifications, newest first, before `before_id`.
pub fn list(
    conn: &mut DbConn,
    user_id: i64,
    unread_only: bool,
    updated_since: Option<NaiveDateTime>,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut q = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(NotificationRow::as_select())
        .into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    if let Some(since) = updated_since {
        q = q.filter(notifications::updated_at.ge(since));
    }
    if let Some(before) = before_id {
        q = q.filter(notifications::id.lt(before));
    }
    q.order(notifications::id.desc()).limit(limit).load(conn)
}

pub fn unread_count(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks one of the user's notifications read; 0 when it is not theirs.
pub fn mark_read(
    conn: &mut DbConn,
    user_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mine = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user_id));
    let exists: bool = diesel::select(diesel::dsl::exists(mine)).get_result(conn)?;
    if !exists {
        return Ok(0);
    }
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::read_at.eq(now),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(1)
}

pub fn mark_all_read(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::read_at.eq(now),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Active users of a department with one of `roles`.
pub fn department_users(
    conn: &mut DbConn,
    department_id: i64,
    roles: &[&str],
) -> QueryResult<Vec<UserRow>> {
    // The roles are picked here rather than bound as a list, so that the statement is the
    // same for every call and prepared once; a department has tens of users, not thousands.
    let mut found: Vec<UserRow> = native!(conn, c => users::table
        .filter(users::department_id.eq(department_id))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .order(users::id.asc())
        .load(c))?;
    found.retain(|u| roles.contains(&u.role.as_str()));
    Ok(found)
}

/// Who hears of a department's issues: its webhook address, and its active users of
/// `roles` (as [`department_users`] picks them), in one statement. `None` when no
/// department has this id.
pub fn department_audience(
    conn: &mut DbConn,
    department_id: i64,
    roles: &[&str],
) -> QueryResult<Option<(Option<String>, Vec<UserRow>)>> {
    let rows: Vec<(Option<String>, Option<UserRow>)> = native!(conn, c => departments::table
        .left_join(
            users::table.on(users::department_id
                .eq(departments::id.nullable())
                .and(users::active.eq(true))),
        )
        .filter(departments::id.eq(department_id))
        .select((departments::webhook_url, Option::<UserRow>::as_select()))
        .order(users::id.asc())
        .load(c))?;
    let Some(webhook) = rows.first().map(|(url, _)| url.clone()) else {
        return Ok(None);
    };
    let users = rows
        .into_iter()
        .filter_map(|(_, user)| user)
        .filter(|u| roles.contains(&u.role.as_str()))
        .collect();
    Ok(Some((webhook, users)))
}

pub fn supervisors(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::role.eq("supervisor"))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .order(users::id.asc())
        .load(conn)
}
