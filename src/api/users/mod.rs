//! Users: created and managed by admins; read by themselves, supervisors, and their head.

pub mod create;
pub mod get;
pub mod list;
pub mod update;
pub mod view;

use crate::db::{self, DbConn};
use crate::domain::role::Role;
use crate::error::{ApiError, FieldError};

/// Checks that a role and a department fit together and that the department exists.
pub(crate) fn check_membership(
    conn: &mut DbConn,
    role: Role,
    department_id: Option<i64>,
) -> Result<(), ApiError> {
    match (role.belongs_to_department(), department_id) {
        (true, None) => Err(ApiError::field(
            "department_id",
            "required",
            "department staff and heads belong to a department",
        )),
        (false, Some(_)) => Err(ApiError::field(
            "department_id",
            "not_allowed",
            "only department staff and heads belong to a department",
        )),
        (true, Some(id)) => {
            if db::departments::exists(conn, id)? {
                Ok(())
            } else {
                Err(ApiError::validation(vec![FieldError::new(
                    "department_id",
                    "unknown",
                    "no department has this id",
                )]))
            }
        }
        (false, None) => Ok(()),
    }
}
