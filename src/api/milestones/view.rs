//! How a milestone is shown.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::db::milestones::MilestoneRow;

#[derive(Debug, Serialize)]
pub struct MilestoneView {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub title: String,
    pub responsible_department_id: Option<i64>,
    pub planned_date: Option<NaiveDate>,
    pub actual_date: Option<NaiveDate>,
    pub status: String,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl From<MilestoneRow> for MilestoneView {
    fn from(m: MilestoneRow) -> Self {
        MilestoneView {
            id: m.id,
            project_id: m.project_id,
            kind: m.kind,
            title: m.title,
            responsible_department_id: m.responsible_department_id,
            planned_date: m.planned_date,
            actual_date: m.actual_date,
            status: m.status,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
