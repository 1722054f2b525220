//! `POST /api/v1/projects/{id}/milestones` (supervisor, admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::extract::{Json, etag};
use crate::api::milestones::view::MilestoneView;
use crate::api::projects::{check_department, may_manage};
use crate::auth::AuthUser;
use crate::db::{self, milestones};
use crate::domain::issue::{MilestoneKind, MilestoneStatus};
use crate::domain::user::parse_text;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMilestone {
    pub kind: MilestoneKind,
    pub title: String,
    #[serde(default)]
    pub responsible_department_id: Option<i64>,
    #[serde(default)]
    pub planned_date: Option<NaiveDate>,
    #[serde(default)]
    pub actual_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub status: Option<MilestoneStatus>,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    project_id: web::Path<i64>,
    body: Json<CreateMilestone>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let project_id = project_id.into_inner();
    let b = body.0;
    let title = parse_text("title", &b.title, 200).map_err(|e| AppError::validation(vec![e]))?;
    let row = state
        .db
        .write(move |c| {
            db::projects::find(c, project_id)?.ok_or_else(AppError::not_found)?;
            check_department(c, "responsible_department_id", b.responsible_department_id)?;
            let now = db::now();
            let row = milestones::insert(
                c,
                &milestones::NewMilestone {
                    project_id,
                    kind: b.kind.as_str().to_string(),
                    title,
                    responsible_department_id: b.responsible_department_id,
                    planned_date: b.planned_date,
                    actual_date: b.actual_date,
                    status: b
                        .status
                        .unwrap_or(MilestoneStatus::Planned)
                        .as_str()
                        .to_string(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            db::projects::touch(c, project_id, now)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/milestones/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(MilestoneView::from(row)))
}
