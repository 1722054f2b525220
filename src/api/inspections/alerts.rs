//! `GET /api/v1/inspection-alerts` (supervisors, admins): project units inspected more often
//! than the thresholds allow; `GET/PUT /api/v1/inspection-limits`: the thresholds (supervisors
//! change them).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::api::extract::{Json, Precondition, etag};
use crate::api::pagination::{Page, PageParams, id_param};
use crate::auth::AuthUser;
use crate::db::{self, inspections::AlertRow};
use crate::domain::inspection::Limits;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub project_id: i64,
    /// `day`, `week` or `month`.
    pub period: String,
    pub period_start: NaiveDate,
    pub inspections: i64,
    pub threshold: i64,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
}

impl From<AlertRow> for AlertView {
    fn from(a: AlertRow) -> Self {
        AlertView {
            id: a.id,
            project_id: a.project_id,
            period: a.period,
            period_start: a.period_start,
            inspections: a.inspections,
            threshold: a.threshold,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListAlerts {
    pub project_id: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn supervises(auth: &AuthUser) -> bool {
    matches!(auth.role, Role::Supervisor | Role::Admin)
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListAlerts>,
) -> Result<HttpResponse, AppError> {
    if !supervises(&auth) {
        return Err(AppError::forbidden());
    }
    let q = q.into_inner();
    let page = PageParams::parse(q.limit.as_deref(), q.cursor.as_deref(), None)?;
    let project = id_param("project_id", q.project_id.as_deref())?;
    let rows = state
        .db
        .read(move |c| {
            Ok(db::inspections::alerts(
                c,
                project,
                page.after_id,
                page.fetch(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |a| a.id, AlertView::from)))
}

pub async fn limits(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    if !supervises(&auth) {
        return Err(AppError::forbidden());
    }
    let (limits, version) = state.db.read(|c| Ok(db::inspections::limits(c)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(limits))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutLimits {
    pub per_day: i64,
    pub per_week: i64,
    pub per_month: i64,
}

pub async fn set_limits(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: Json<PutLimits>,
) -> Result<HttpResponse, AppError> {
    if auth.role != Role::Supervisor {
        return Err(AppError::forbidden());
    }
    let expected = Precondition::from_request(&req)?;
    let limits = Limits {
        per_day: body.0.per_day,
        per_week: body.0.per_week,
        per_month: body.0.per_month,
    };
    limits.check().map_err(AppError::validation)?;
    let version = state
        .db
        .write(move |c| {
            if db::inspections::set_limits(c, &limits, expected.0, db::now())? == 0 {
                return Err(expected.lost_race());
            }
            Ok(db::inspections::limits(c)?.1)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(limits))
}
