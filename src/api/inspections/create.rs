//! `POST /api/v1/inspections` (department staff and heads, for their own department).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::Fields;
use crate::api::extract::{Json, etag};
use crate::api::inspections::{check_texts, present};
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::inspections::{self, Plan};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInspection {
    pub department_id: i64,
    pub project_id: i64,
    pub planned_on: NaiveDate,
    #[serde(default)]
    pub window_from: Option<String>,
    #[serde(default)]
    pub window_until: Option<String>,
    pub purpose: String,
    pub basis: String,
    pub inspectors: Vec<String>,
    #[serde(default)]
    pub joint_department_ids: Vec<i64>,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateInspection>,
) -> Result<HttpResponse, AppError> {
    let actor = auth.actor();
    if actor.department_id != Some(body.0.department_id) {
        return Err(AppError::forbidden());
    }
    let b = body.0;
    let mut f = Fields::default();
    let t = check_texts(
        &mut f,
        Some(&b.purpose),
        Some(&b.basis),
        Some(b.window_from.as_deref()),
        Some(b.window_until.as_deref()),
        Some(&b.inspectors),
    );
    f.finish()?;
    let (Some(purpose), Some(basis), Some(inspectors)) = (t.purpose, t.basis, t.inspectors) else {
        return Err(AppError::internal("validated fields missing"));
    };
    let plan = Plan {
        project_id: b.project_id,
        planned_on: b.planned_on,
        window_from: t.window_from.flatten(),
        window_until: t.window_until.flatten(),
        purpose,
        basis,
        inspectors,
        joint_department_ids: b.joint_department_ids,
    };
    let view = state
        .db
        .write(move |c| {
            let (row, _) = inspections::file(c, &actor, b.department_id, plan, db::now())?;
            present(c, &actor, vec![row])?
                .pop()
                .ok_or_else(|| AppError::internal("presented nothing"))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/inspections/{}", view.id)))
        .insert_header((header::ETAG, etag(1)))
        .json(view))
}
