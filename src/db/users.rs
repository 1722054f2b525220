//! The `users` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use super::{DbConn, native};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub department_id: Option<i64>,
    pub email: Option<String>,
    pub locale: String,
    pub active: bool,
    pub version: i64,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub notify_email: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub department_id: Option<i64>,
    pub email: Option<&'a str>,
    pub locale: &'a str,
    pub active: bool,
    pub version: i64,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A change to a user; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub department_id: Option<Option<i64>>,
    pub email: Option<Option<String>>,
    pub locale: Option<String>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<NaiveDateTime>,
    pub notify_email: Option<bool>,
}

pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    native!(conn, c => users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(c)
        .optional())
}

/// A user, and whether the session `family_id` is still open: not logged out or revoked,
/// i.e. any of its refresh tokens unrevoked (revocation always takes the whole family).
/// What a token's caller is checked against, in one statement.
pub fn find_in_session(
    conn: &mut DbConn,
    id: i64,
    family_id: &str,
) -> QueryResult<Option<(UserRow, bool)>> {
    use super::schema::refresh_tokens;
    native!(conn, c => users::table
        .find(id)
        .select((
            UserRow::as_select(),
            diesel::dsl::exists(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(family_id))
                    .filter(refresh_tokens::revoked_at.is_null()),
            ),
        ))
        .get_result(c)
        .optional())
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub department_id: Option<i64>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, f: &UserFilter) -> QueryResult<Vec<UserRow>> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = &f.role {
        q = q.filter(users::role.eq(role.clone()));
    }
    if let Some(d) = f.department_id {
        q = q.filter(users::department_id.eq(d));
    }
    if let Some(since) = f.updated_since {
        q = q.filter(users::updated_at.ge(since));
    }
    if let Some(after) = f.after_id {
        q = q.filter(users::id.gt(after));
    }
    q.order(users::id.asc()).limit(f.limit).load(conn)
}

/// Compare-and-set update: applies only if the row still has `expected_version`.
/// Returns the number of rows changed (0 means someone else changed it first).
pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &UserChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(expected_version)),
    )
    .set((
        changes,
        users::version.eq(users::version + 1),
        users::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Locks the rows of every active admin until the transaction ends (a no-op update takes
/// row locks on PostgreSQL; SQLite transactions are serialised anyway), so that two
/// concurrent demotions cannot both see another admin left.
pub fn lock_active_admins(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::role.eq("admin"))
            .filter(users::active.eq(true)),
    )
    .set(users::version.eq(users::version))
    .execute(conn)
}

pub fn count_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq("admin"))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}
