//! The `milestones` table.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::milestones;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = milestones)]
pub struct MilestoneRow {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub title: String,
    pub responsible_department_id: Option<i64>,
    pub planned_date: Option<NaiveDate>,
    pub actual_date: Option<NaiveDate>,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = milestones)]
pub struct NewMilestone {
    pub project_id: i64,
    pub kind: String,
    pub title: String,
    pub responsible_department_id: Option<i64>,
    pub planned_date: Option<NaiveDate>,
    pub actual_date: Option<NaiveDate>,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = milestones)]
pub struct MilestoneChanges {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub responsible_department_id: Option<Option<i64>>,
    pub planned_date: Option<Option<NaiveDate>>,
    pub actual_date: Option<Option<NaiveDate>>,
    pub status: Option<String>,
}

pub fn insert(conn: &mut DbConn, new: &NewMilestone) -> QueryResult<MilestoneRow> {
    diesel::insert_into(milestones::table)
        .values(new)
        .returning(milestones::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<MilestoneRow>> {
    milestones::table
        .find(id)
        .select(MilestoneRow::as_select())
        .first(conn)
        .optional()
}

pub fn for_project(conn: &mut DbConn, project_id: i64) -> QueryResult<Vec<MilestoneRow>> {
    milestones::table
        .filter(milestones::project_id.eq(project_id))
        .select(MilestoneRow::as_select())
        .order(milestones::id.asc())
        .load(conn)
}

pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &MilestoneChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        milestones::table
            .filter(milestones::id.eq(id))
            .filter(milestones::version.eq(expected_version)),
    )
    .set((
        changes,
        milestones::version.eq(milestones::version + 1),
        milestones::updated_at.eq(now),
    ))
    .execute(conn)
}
