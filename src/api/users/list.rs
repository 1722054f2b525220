//! `GET /api/v1/users`: admins and supervisors see everyone, a department head their
//! department; others may not list users.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::pagination::{Page, PageParams};
use crate::api::users::view::UserView;
use crate::auth::AuthUser;
use crate::db::{self, users::UserFilter};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListUsers {
    pub role: Option<String>,
    pub department_id: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListUsers>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let role = q
        .role
        .as_deref()
        .map(|r| {
            Role::parse(r)
                .ok_or_else(|| AppError::with_detail(ErrorCode::InvalidQuery, "unknown role"))
        })
        .transpose()?;
    let department_id = q
        .department_id
        .as_deref()
        .map(|d| {
            d.parse::<i64>().map_err(|_| {
                AppError::with_detail(ErrorCode::InvalidQuery, "department_id must be a number")
            })
        })
        .transpose()?;
    let department_id = match auth.role {
        Role::Admin | Role::Supervisor => department_id,
        Role::DepartmentHead => {
            if department_id.is_some() && department_id != auth.department_id {
                return Err(AppError::forbidden());
            }
            Some(auth.department_id.ok_or_else(AppError::forbidden)?)
        }
        Role::Observer | Role::DepartmentStaff => return Err(AppError::forbidden()),
    };
    let filter = UserFilter {
        role: role.map(|r| r.as_str().to_string()),
        department_id,
        updated_since: page.updated_since,
        after_id: page.after_id,
        limit: page.fetch(),
    };
    let rows = state
        .db
        .read(move |c| Ok(db::users::list(c, &filter)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |r| r.id, UserView::from)))
}
