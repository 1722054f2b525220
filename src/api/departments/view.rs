//! How a department is shown. The webhook secret never leaves the service; the webhook
//! URL (it often carries a bot key) only to admins and supervisors.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::departments::DepartmentRow;
use crate::domain::role::Role;

#[derive(Debug, Serialize)]
pub struct DepartmentView {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Present (possibly `null`) for admins and supervisors; absent for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Option<String>>,
    pub webhook_secret_set: bool,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl DepartmentView {
    pub fn for_role(d: DepartmentRow, role: Role) -> DepartmentView {
        DepartmentView {
            id: d.id,
            code: d.code,
            name: d.name,
            webhook_url: role.sees_everyone().then_some(d.webhook_url),
            webhook_secret_set: d.webhook_secret.is_some(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}
