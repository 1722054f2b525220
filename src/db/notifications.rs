//! The `notifications` table: the in-app feed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{notifications, users};
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

pub fn supervisors(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::role.eq("supervisor"))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .order(users::id.asc())
        .load(conn)
}
