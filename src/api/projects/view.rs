//! How a project is shown.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::projects::ProjectRow;

#[derive(Debug, Serialize)]
pub struct ProjectView {
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
    pub observer_ids: Vec<i64>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl ProjectView {
    pub fn new(p: ProjectRow, observer_ids: Vec<i64>) -> ProjectView {
        ProjectView {
            id: p.id,
            code: p.code,
            name: p.name,
            lead_department_id: p.lead_department_id,
            park: p.park,
            chain_group: p.chain_group,
            investment_wan: p.investment_wan,
            enterprise: p.enterprise,
            contact_person: p.contact_person,
            contact_phone: p.contact_phone,
            agent: p.agent,
            stage: p.stage,
            observer_ids,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}
