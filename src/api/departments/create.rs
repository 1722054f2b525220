//! `POST /api/v1/departments` (admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::Fields;
use crate::api::departments::view::DepartmentView;
use crate::api::extract::{Json, etag};
use crate::auth::AuthUser;
use crate::db::{self, departments};
use crate::domain::department::{parse_code, parse_webhook_secret, parse_webhook_url};
use crate::domain::user::parse_text;
use crate::error::{AppError, ErrorCode, is_unique_violation};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartment {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateDepartment>,
) -> Result<HttpResponse, AppError> {
    if !auth.actor().may_manage_departments() {
        return Err(AppError::forbidden());
    }
    let b = body.0;
    let mut f = Fields::default();
    let code = f.check(parse_code("code", &b.code));
    let name = f.check(parse_text("name", &b.name, 100));
    let webhook_url = b.webhook_url.as_deref().and_then(|u| {
        f.check(parse_webhook_url(
            "webhook_url",
            u,
            state.settings.webhook_allow_private,
        ))
    });
    let webhook_secret = b
        .webhook_secret
        .as_deref()
        .and_then(|s| f.check(parse_webhook_secret("webhook_secret", s)));
    f.finish()?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::internal("validated fields missing"));
    };
    let row = state
        .db
        .write(move |c| {
            let now = db::now();
            departments::insert(
                c,
                &departments::NewDepartment {
                    code: &code,
                    name: &name,
                    webhook_url: webhook_url.as_deref(),
                    webhook_secret: webhook_secret.as_deref(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::new(ErrorCode::DepartmentCodeTaken)
                } else {
                    e.into()
                }
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/departments/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(DepartmentView::for_role(row, auth.role)))
}
