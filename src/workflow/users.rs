//! Changes to a user that carry rules beyond their fields: a role and a department that fit
//! together, the last active admin kept, a whole new view recorded for delta sync, and the
//! sessions ended with a new password or a deactivation.

use chrono::NaiveDateTime;

use crate::db::{self, DbConn, refresh_tokens, users};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode, FieldError};

/// Checks that a role and a department fit together and that the department exists.
pub fn check_membership(
    conn: &mut DbConn,
    role: Role,
    department_id: Option<i64>,
) -> Result<(), AppError> {
    match (role.belongs_to_department(), department_id) {
        (true, None) => Err(AppError::field(
            "department_id",
            "required",
            "department staff and heads belong to a department",
        )),
        (false, Some(_)) => Err(AppError::field(
            "department_id",
            "not_allowed",
            "only department staff and heads belong to a department",
        )),
        (true, Some(id)) => {
            if db::departments::exists(conn, id)? {
                Ok(())
            } else {
                Err(AppError::validation(vec![FieldError::new(
                    "department_id",
                    "unknown",
                    "no department has this id",
                )]))
            }
        }
        (false, None) => Ok(()),
    }
}

/// What an admin (or the user, for their own profile fields) asks to change.
pub struct Edit {
    pub role: Option<Role>,
    pub department_id: Option<Option<i64>>,
    pub active: Option<bool>,
    /// The plain field changes (name, email, locale, notification choice, password hash).
    pub changes: users::UserChanges,
}

/// Applies `edit` to user `id` at `now`, if its version is still `expected_version` (when
/// given; a lost race is `precondition_failed` then, `conflict` otherwise).
pub fn update(
    c: &mut DbConn,
    id: i64,
    edit: Edit,
    expected_version: Option<i64>,
    now: NaiveDateTime,
) -> Result<users::UserRow, AppError> {
    let lost = || {
        AppError::new(if expected_version.is_some() {
            ErrorCode::PreconditionFailed
        } else {
            ErrorCode::Conflict
        })
    };
    let Edit {
        role: new_role,
        department_id: new_department,
        active,
        mut changes,
    } = edit;
    let current = db::users::find(c, id)?.ok_or_else(AppError::not_found)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(lost());
    }
    let old_role =
        Role::parse(&current.role).ok_or_else(|| AppError::internal("unknown role in database"))?;
    let role = new_role.unwrap_or(old_role);
    let department_id = match new_department {
        Some(d) => d,
        // A role outside departments drops the department it had.
        None if !role.belongs_to_department() => None,
        None => current.department_id,
    };
    if new_role.is_some() || new_department.is_some() {
        check_membership(c, role, department_id)?;
        changes.role = Some(role.as_str().to_string());
        changes.department_id = Some(department_id);
    }
    if active.is_some() {
        changes.active = active;
    }
    let active = active.unwrap_or(current.active);
    let loses_admin = old_role == Role::Admin && current.active && (role != Role::Admin || !active);
    if loses_admin {
        db::users::lock_active_admins(c)?;
        if db::users::count_active_admins(c)? <= 1 {
            return Err(AppError::new(ErrorCode::LastAdmin));
        }
    }
    if users::update_if_version(c, id, current.version, &changes, now)? == 0 {
        return Err(lost());
    }
    let new_view = changes.role.as_deref().is_some_and(|r| r != current.role)
        || changes
            .department_id
            .is_some_and(|d| d != current.department_id);
    if new_view {
        // Delta sync: what this user may see changed as a whole.
        db::visibility::record_whole_view(c, id, now)?;
    }
    if changes.password_hash.is_some() || !active {
        refresh_tokens::revoke_all_for_user(c, id, now)?;
    }
    db::users::find(c, id)?.ok_or_else(AppError::not_found)
}
