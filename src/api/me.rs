//! `GET /api/v1/me` and `POST /api/v1/me/password`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::extract::{Json, etag, read_with_etag};
use crate::api::users::view::UserView;
use crate::auth::{AuthUser, password};
use crate::db::{self, refresh_tokens, run_blocking, users};
use crate::domain::user::NewPassword;
use crate::error::{ApiError, FieldError};
use crate::startup::AppState;

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = auth.id;
    let row = state
        .db
        .read(move |c| Ok(db::users::find(c, id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(read_with_etag(
        &req,
        etag(row.version),
        &UserView::from(row),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password and ends all their sessions (refresh tokens and the
/// access tokens minted before the change). The client logs in again.
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let ChangePassword {
        current_password,
        new_password,
    } = body.0;
    let new_password = NewPassword::parse("new_password", &new_password)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let id = auth.id;
    let current = state
        .db
        .read(move |c| Ok(db::users::find(c, id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let stored = current.password_hash.clone();
    let new_hash = run_blocking(move || {
        if current_password.len() > 1024 || !password::verify(&current_password, &stored) {
            return Err(ApiError::validation(vec![FieldError::new(
                "current_password",
                "incorrect",
                "is not your current password",
            )]));
        }
        password::hash(new_password.expose())
    })
    .await?;
    state
        .db
        .write(move |c| {
            let now = db::now();
            let changes = users::UserChanges {
                password_hash: Some(new_hash),
                password_changed_at: Some(now),
                ..Default::default()
            };
            if users::update_if_version(c, id, current.version, &changes, now)? == 0 {
                return Err(ApiError::new(crate::error::ErrorCode::Conflict));
            }
            refresh_tokens::revoke_all_for_user(c, id, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(user_id = id, "password changed; sessions revoked");
    Ok(HttpResponse::NoContent().finish())
}
