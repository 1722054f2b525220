//! How a user is shown: never the password hash.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::users::UserRow;

#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub department_id: Option<i64>,
    pub email: Option<String>,
    pub locale: String,
    pub active: bool,
    /// Whether notifications also come by email (when `email` is set).
    pub notify_email: bool,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            department_id: u.department_id,
            email: u.email,
            locale: u.locale,
            active: u.active,
            notify_email: u.notify_email,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}
