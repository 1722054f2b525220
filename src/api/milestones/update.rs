//! `PATCH /api/v1/milestones/{id}` (supervisor, admin), with optional `If-Match`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::double_option;
use crate::api::extract::{Json, Precondition, etag};
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
pub struct UpdateMilestone {
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub kind: Option<MilestoneKind>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub responsible_department_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub planned_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    pub actual_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub status: Option<MilestoneStatus>,
}

pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<UpdateMilestone>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let id = id.into_inner();
    let expected = Precondition::from_request(&req)?;
    let b = body.0;
    let title = b
        .title
        .as_deref()
        .map(|t| parse_text("title", t, 200).map_err(|e| AppError::validation(vec![e])))
        .transpose()?;
    let changes = milestones::MilestoneChanges {
        kind: b.kind.map(|k| k.as_str().to_string()),
        title,
        responsible_department_id: b.responsible_department_id,
        planned_date: b.planned_date,
        actual_date: b.actual_date,
        status: b.status.map(|s| s.as_str().to_string()),
    };
    let row = state
        .db
        .write(move |c| {
            let current = db::milestones::find(c, id)?.ok_or_else(AppError::not_found)?;
            expected.check(current.version)?;
            if let Some(d) = changes.responsible_department_id {
                check_department(c, "responsible_department_id", d)?;
            }
            let now = db::now();
            if milestones::update_if_version(c, id, current.version, &changes, now)? == 0 {
                return Err(expected.lost_race());
            }
            db::projects::touch(c, current.project_id, now)?;
            db::milestones::find(c, id)?.ok_or_else(AppError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(MilestoneView::from(row)))
}
