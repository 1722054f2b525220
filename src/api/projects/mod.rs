//! Projects (重点项目): supervisors and admins manage them; observers see the projects they
//! follow; department users, supervisors and admins see all.

pub mod create;
pub mod get;
pub mod list;
pub mod update;
pub mod view;

use crate::auth::AuthUser;
use crate::db::{self, DbConn, projects::ProjectRow};
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};

/// Whether the caller may see a project at all.
pub(crate) fn may_see(
    conn: &mut DbConn,
    auth: &AuthUser,
    project: &ProjectRow,
) -> Result<bool, AppError> {
    Ok(match auth.role {
        Role::Observer => db::projects::is_follower(conn, project.id, auth.id)?,
        _ => true,
    })
}

/// The project, or 404 when it does not exist or the caller may not see it.
pub(crate) fn visible_project(
    conn: &mut DbConn,
    auth: &AuthUser,
    id: i64,
) -> Result<ProjectRow, AppError> {
    let project = db::projects::find(conn, id)?.ok_or_else(AppError::not_found)?;
    if may_see(conn, auth, &project)? {
        Ok(project)
    } else {
        Err(AppError::not_found())
    }
}

pub(crate) fn may_manage(auth: &AuthUser) -> bool {
    matches!(auth.role, Role::Supervisor | Role::Admin)
}

/// Checks that every id names an active observer; returns them sorted and unique.
pub(crate) fn check_observers(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        let ok = db::users::find(conn, *id)?
            .is_some_and(|u| u.active && u.role == Role::Observer.as_str());
        if !ok {
            return Err(AppError::validation(vec![FieldError::new(
                "observer_ids",
                "unknown",
                format!("user {id} is not an active observer"),
            )]));
        }
    }
    Ok(ids)
}

/// Checks that an optional department exists.
pub(crate) fn check_department(
    conn: &mut DbConn,
    field: &str,
    id: Option<i64>,
) -> Result<(), AppError> {
    match id {
        Some(id) if !db::departments::exists(conn, id)? => {
            Err(AppError::validation(vec![FieldError::new(
                field,
                "unknown",
                "no department has this id",
            )]))
        }
        _ => Ok(()),
    }
}
