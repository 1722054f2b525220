//! `PATCH /api/v1/departments/{id}` (admin), with optional `If-Match`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::departments::view::DepartmentView;
use crate::api::extract::{Json, Precondition, etag};
use crate::api::{Fields, double_option};
use crate::auth::AuthUser;
use crate::db::{self, departments};
use crate::domain::department::{parse_code, parse_webhook_secret, parse_webhook_url};
use crate::domain::user::parse_text;
use crate::error::{AppError, ErrorCode, is_unique_violation};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartment {
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub webhook_secret: Option<Option<String>>,
}

pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<UpdateDepartment>,
) -> Result<HttpResponse, AppError> {
    if !auth.actor().may_manage_departments() {
        return Err(AppError::forbidden());
    }
    let id = id.into_inner();
    let expected = Precondition::from_request(&req)?;
    let b = body.0;
    let mut f = Fields::default();
    let changes = departments::DepartmentChanges {
        code: b
            .code
            .as_deref()
            .and_then(|v| f.check(parse_code("code", v))),
        name: b
            .name
            .as_deref()
            .and_then(|v| f.check(parse_text("name", v, 100))),
        webhook_url: match &b.webhook_url {
            None => None,
            Some(None) => Some(None),
            Some(Some(u)) => f
                .check(parse_webhook_url(
                    "webhook_url",
                    u,
                    state.settings.webhook_allow_private,
                ))
                .map(Some),
        },
        webhook_secret: match &b.webhook_secret {
            None => None,
            Some(None) => Some(None),
            Some(Some(s)) => f.check(parse_webhook_secret("webhook_secret", s)).map(Some),
        },
    };
    f.finish()?;
    let row = state
        .db
        .write(move |c| {
            let current = db::departments::find(c, id)?.ok_or_else(AppError::not_found)?;
            expected.check(current.version)?;
            let changed =
                departments::update_if_version(c, id, current.version, &changes, db::now())
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            AppError::new(ErrorCode::DepartmentCodeTaken)
                        } else {
                            e.into()
                        }
                    })?;
            if changed == 0 {
                return Err(expected.lost_race());
            }
            db::departments::find(c, id)?.ok_or_else(AppError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(DepartmentView::for_role(row, auth.role)))
}
