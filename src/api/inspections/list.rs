//! `GET /api/v1/inspections` and `GET /api/v1/inspections/{id}`: supervisors and admins see
//! every filing; a department its own and those it joins; an observer those on the projects
//! they follow (without the inspectors' names).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::extract::{etag, read_with_etag};
use crate::api::inspections::present;
use crate::api::pagination::{Page, PageParams, id_param};
use crate::auth::AuthUser;
use crate::db::inspections::{self as db_inspections, Filter, Scope};
use crate::domain::inspection::InspectionStatus;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::workflow::inspections::may_read;

#[derive(Debug, Deserialize)]
pub struct ListInspections {
    pub project_id: Option<String>,
    pub department_id: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn bad(what: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidQuery, what.to_string())
}

fn date(raw: Option<&str>, name: &str) -> Result<Option<NaiveDate>, AppError> {
    raw.map(|v| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| bad(&format!("{name} must be a date YYYY-MM-DD")))
    })
    .transpose()
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListInspections>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            InspectionStatus::parse(s)
                .ok_or_else(|| bad("status must be planned, cancelled or done"))?
                .as_str(),
        ),
    };
    let actor = auth.actor();
    let scope = match actor.role {
        Role::Supervisor | Role::Admin => Scope::Everything,
        Role::DepartmentStaff | Role::DepartmentHead => {
            Scope::Department(actor.department_id.ok_or_else(AppError::forbidden)?)
        }
        Role::Observer => Scope::Follower(actor.id),
    };
    let filter = Filter {
        scope,
        project_id: id_param("project_id", q.project_id.as_deref())?,
        department_id: id_param("department_id", q.department_id.as_deref())?,
        status,
        planned_from: date(q.from.as_deref(), "from")?,
        planned_until: date(q.to.as_deref(), "to")?,
        updated_since: page.updated_since,
        after_id: page.after_id,
        limit: page.fetch(),
    };
    let views = state
        .db
        .read(move |c| {
            let rows = db_inspections::list(c, &filter)?;
            present(c, &actor, rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(views, &page, |v| v.id, |v| v)))
}

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = auth.actor();
    let (version, view) = state
        .db
        .read(move |c| {
            let row = db_inspections::find(c, id)?.ok_or_else(AppError::not_found)?;
            if !may_read(c, &actor, &row)? {
                return Err(AppError::not_found());
            }
            let version = row.version;
            let view = present(c, &actor, vec![row])?
                .pop()
                .ok_or_else(|| AppError::internal("presented nothing"))?;
            Ok((version, view))
        })
        .await?;
    Ok(read_with_etag(&req, etag(version), &view))
}
