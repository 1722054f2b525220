//! The `projects` and `project_observers` tables.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{project_observers, projects};
use super::{DbConn, native};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub lead_department_id: Option<i64>,
    pub park: Option<String>,
    pub chain_group: Option<String>,
    pub investment_wan: Option<f64>,
    pub enterprise: Option<String>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
    pub agent: Option<String>,
    pub stage: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject {
    pub code: String,
    pub name: String,
    pub lead_department_id: Option<i64>,
    pub park: Option<String>,
    pub chain_group: Option<String>,
    pub investment_wan: Option<f64>,
    pub enterprise: Option<String>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
    pub agent: Option<String>,
    pub stage: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = projects)]
pub struct ProjectChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub lead_department_id: Option<Option<i64>>,
    pub park: Option<Option<String>>,
    pub chain_group: Option<Option<String>>,
    pub investment_wan: Option<Option<f64>>,
    pub enterprise: Option<Option<String>>,
    pub contact_person: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    pub agent: Option<Option<String>>,
    pub stage: Option<String>,
}

pub fn insert(conn: &mut DbConn, new: &NewProject) -> QueryResult<ProjectRow> {
    diesel::insert_into(projects::table)
        .values(new)
        .returning(projects::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ProjectRow>> {
    native!(conn, c => projects::table
        .find(id)
        .select(ProjectRow::as_select())
        .first(c)
        .optional())
}

/// A project, and whether `user_id` follows it: one statement.
pub fn find_followed(
    conn: &mut DbConn,
    id: i64,
    user_id: i64,
) -> QueryResult<Option<(ProjectRow, bool)>> {
    native!(conn, c => projects::table
        .find(id)
        .select((
            ProjectRow::as_select(),
            diesel::dsl::exists(
                project_observers::table
                    .filter(project_observers::project_id.eq(projects::id))
                    .filter(project_observers::user_id.eq(user_id)),
            ),
        ))
        .get_result(c)
        .optional())
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<ProjectRow>> {
    projects::table
        .filter(projects::code.eq(code))
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()
}

/// Projects in id order; `follower` limits them to those a user follows.
pub fn list(
    conn: &mut DbConn,
    follower: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<ProjectRow>> {
    let mut q = projects::table.select(ProjectRow::as_select()).into_boxed();
    if let Some(user) = follower {
        q = q.filter(
            projects::id.eq_any(
                project_observers::table
                    .filter(project_observers::user_id.eq(user))
                    .select(project_observers::project_id),
            ),
        );
    }
    if let Some(since) = updated_since {
        q = q.filter(projects::updated_at.ge(since));
    }
    if let Some(after) = after_id {
        q = q.filter(projects::id.gt(after));
    }
    q.order(projects::id.asc()).limit(limit).load(conn)
}

pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &ProjectChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        projects::table
            .filter(projects::id.eq(id))
            .filter(projects::version.eq(expected_version)),
    )
    .set((
        changes,
        projects::version.eq(projects::version + 1),
        projects::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Bumps the version and `updated_at` (when only the observers changed).
pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(projects::table.filter(projects::id.eq(id)))
        .set((
            projects::version.eq(projects::version + 1),
            projects::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn observers(conn: &mut DbConn, project_id: i64) -> QueryResult<Vec<i64>> {
    project_observers::table
        .filter(project_observers::project_id.eq(project_id))
        .select(project_observers::user_id)
        .order(project_observers::user_id.asc())
        .load(conn)
}

/// The observers of many projects at once, as (project, user) pairs.
pub fn observers_of(conn: &mut DbConn, project_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    project_observers::table
        .filter(project_observers::project_id.eq_any(project_ids))
        .select((project_observers::project_id, project_observers::user_id))
        .order((
            project_observers::project_id.asc(),
            project_observers::user_id.asc(),
        ))
        .load(conn)
}

pub fn set_observers(conn: &mut DbConn, project_id: i64, user_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(project_observers::table.filter(project_observers::project_id.eq(project_id)))
        .execute(conn)?;
    for user_id in user_ids {
        diesel::insert_into(project_observers::table)
            .values((
                project_observers::project_id.eq(project_id),
                project_observers::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn is_follower(conn: &mut DbConn, project_id: i64, user_id: i64) -> QueryResult<bool> {
    native!(conn, c => diesel::select(diesel::dsl::exists(
        project_observers::table
            .filter(project_observers::project_id.eq(project_id))
            .filter(project_observers::user_id.eq(user_id)),
    ))
    .get_result(c))
}
