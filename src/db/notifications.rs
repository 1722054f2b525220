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

/// A notification to write with [`insert_all`].
#[derive(Debug)]
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub issue_id: Option<i64>,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub data: &'a str,
    pub created_at: NaiveDateTime,
}

/// Several notifications, written in groups of 16, 8, 4, 2 or 1 rows (a department of
/// three users: a group of two and one of one): each group size is a statement of its own
/// type, prepared once per connection, where a list of any length would be a new statement
/// to parse and plan on every call. The id each one was given, with its user.
pub fn insert_all(conn: &mut DbConn, rows: &[NewNotification<'_>]) -> QueryResult<Vec<(i64, i64)>> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut rest = rows;
    while !rest.is_empty() {
        let size = [16, 8, 4, 2, 1]
            .into_iter()
            .find(|size| *size <= rest.len())
            .unwrap_or(1);
        let (group, after) = rest.split_at(size);
        ids.extend(match size {
            16 => insert_group::<16>(conn, group)?,
            8 => insert_group::<8>(conn, group)?,
            4 => insert_group::<4>(conn, group)?,
            2 => insert_group::<2>(conn, group)?,
            _ => insert_group::<1>(conn, group)?,
        });
        rest = after;
    }
    Ok(ids)
}

/// `N` notifications in one statement. The values are owned: a batch's statement type is
/// its cache key, so it may borrow nothing.
fn insert_group<const N: usize>(
    conn: &mut DbConn,
    rows: &[NewNotification<'_>],
) -> QueryResult<Vec<(i64, i64)>> {
    let group: &[NewNotification<'_>; N] = rows.try_into().map_err(|_| {
        diesel::result::Error::QueryBuilderError("a group of the wrong size".into())
    })?;
    let values = group.each_ref().map(|n| {
        (
            notifications::user_id.eq(n.user_id),
            notifications::issue_id.eq(n.issue_id),
            notifications::kind.eq(n.kind.to_string()),
            notifications::title.eq(n.title.to_string()),
            notifications::body.eq(n.body.to_string()),
            notifications::data.eq(n.data.to_string()),
            notifications::created_at.eq(n.created_at),
            notifications::updated_at.eq(n.created_at),
        )
    });
    native!(conn, c => diesel::insert_into(notifications::table)
        .values(values)
        .returning((notifications::id, notifications::user_id))
        .get_results(c))
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

/// Active users of a department with one of `roles` (none when no department has this id).
pub fn department_users(
    conn: &mut DbConn,
    department_id: i64,
    roles: &[&str],
) -> QueryResult<Vec<UserRow>> {
    Ok(department_audience(conn, department_id, roles)?
        .map(|(_, users)| users)
        .unwrap_or_default())
}

/// Who hears of a department's issues: its webhook address, and its active users with one
/// of `roles`, in one statement. `None` when no department has this id.
pub fn department_audience(
    conn: &mut DbConn,
    department_id: i64,
    roles: &[&str],
) -> QueryResult<Option<(Option<String>, Vec<UserRow>)>> {
    // The roles are picked here rather than bound as a list, so that the statement is the
    // same for every call and prepared once; a department has tens of users, not thousands.
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
