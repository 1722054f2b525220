//! The `departments` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::departments;
use super::{DbConn, native};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = departments)]
pub struct NewDepartment<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub webhook_url: Option<&'a str>,
    pub webhook_secret: Option<&'a str>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = departments)]
pub struct DepartmentChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub webhook_url: Option<Option<String>>,
    pub webhook_secret: Option<Option<String>>,
}

pub fn insert(conn: &mut DbConn, new: &NewDepartment<'_>) -> QueryResult<DepartmentRow> {
    diesel::insert_into(departments::table)
        .values(new)
        .returning(departments::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<DepartmentRow>> {
    native!(conn, c => departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(c)
        .optional())
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<DepartmentRow>> {
    departments::table
        .filter(departments::code.eq(code))
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()
}

/// Every department's code and id.
pub fn codes(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    departments::table
        .select((departments::code, departments::id))
        .load(conn)
}

pub fn exists(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(departments::table.find(id))).get_result(conn)
}

pub fn list(
    conn: &mut DbConn,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = departments::table
        .select(DepartmentRow::as_select())
        .into_boxed();
    if let Some(since) = updated_since {
        q = q.filter(departments::updated_at.ge(since));
    }
    if let Some(after) = after_id {
        q = q.filter(departments::id.gt(after));
    }
    q.order(departments::id.asc()).limit(limit).load(conn)
}

/// Compare-and-set update; 0 rows means the version moved on.
pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &DepartmentChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        departments::table
            .filter(departments::id.eq(id))
            .filter(departments::version.eq(expected_version)),
    )
    .set((
        changes,
        departments::version.eq(departments::version + 1),
        departments::updated_at.eq(now),
    ))
    .execute(conn)
}
