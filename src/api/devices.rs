//! `POST/GET /api/v1/devices`, `DELETE /api/v1/devices/{id}`: the phones a user can be
//! reached on by push. Registering is idempotent by push token; logging out with the push
//! token (or deleting the device) removes it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::Fields;
use crate::api::extract::Json;
use crate::auth::AuthUser;
use crate::db::{self, devices::DeviceRow};
use crate::error::{AppError, FieldError};
use crate::state::AppState;

const PLATFORMS: &[&str] = &["ios", "android", "harmony", "web"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    pub platform: String,
    pub push_token: String,
    #[serde(default)]
    pub app_version: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: i64,
    pub platform: String,
    pub push_token: String,
    pub app_version: Option<String>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl From<DeviceRow> for DeviceView {
    fn from(d: DeviceRow) -> Self {
        DeviceView {
            id: d.id,
            platform: d.platform,
            push_token: d.push_token,
            app_version: d.app_version,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// 201 for a new device, 200 when the token was known (refreshed, and now this user's).
pub async fn register(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<RegisterDevice>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let mut f = Fields::default();
    if !PLATFORMS.contains(&b.platform.as_str()) {
        f.push(FieldError::new(
            "platform",
            "unknown_value",
            format!("one of {}", PLATFORMS.join(", ")),
        ));
    }
    let token = b.push_token.trim().to_string();
    if token.is_empty() || token.len() > 512 {
        f.push(FieldError::new(
            "push_token",
            "invalid",
            "must be 1 to 512 characters",
        ));
    }
    if b.app_version.as_ref().is_some_and(|v| v.len() > 64) {
        f.push(FieldError::new(
            "app_version",
            "too_long",
            "must be at most 64 characters",
        ));
    }
    f.finish()?;
    let user = auth.id;
    let (row, created) = state
        .db
        .write(move |c| {
            Ok(db::devices::upsert(
                c,
                user,
                &b.platform,
                &token,
                b.app_version.as_deref(),
                db::now(),
            )?)
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(DeviceView::from(row)))
}

pub async fn list(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    let user = auth.id;
    let rows = state
        .db
        .read(move |c| Ok(db::devices::of_user(c, user)?))
        .await?;
    let items: Vec<DeviceView> = rows.into_iter().map(DeviceView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

/// 204; another user's device is 404, as if it did not exist.
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (user, id) = (auth.id, id.into_inner());
    let removed = state
        .db
        .write(move |c| Ok(db::devices::delete(c, user, id)?))
        .await?;
    if removed == 0 {
        return Err(AppError::not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}
