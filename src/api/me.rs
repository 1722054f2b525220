//! `GET /api/v1/me` and `POST /api/v1/me/password`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::extract::{Json, etag, read_with_etag};
use crate::api::users::view::UserView;
use crate::auth::AuthUser;
use crate::db::{self, login_throttle, refresh_tokens, users};
use crate::domain::user::NewPassword;
use crate::error::{AppError, FieldError};
use crate::state::AppState;

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let id = auth.id;
    let row = state
        .db
        .read(move |c| Ok(db::users::find(c, id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
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
) -> Result<HttpResponse, AppError> {
    let ChangePassword {
        current_password,
        new_password,
    } = body.0;
    let new_password = NewPassword::parse("new_password", &new_password)
        .map_err(|e| AppError::validation(vec![e]))?;
    let id = auth.id;
    let current = state
        .db
        .read(move |c| Ok(db::users::find(c, id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    // Guesses at the current password are throttled like logins, per account, and counted
    // before the check so that parallel guesses cannot outrun the count.
    let policy = state.settings.throttle;
    let key = format!("password:{id}");
    let admit_key = key.clone();
    let wait = state
        .db
        .write(move |c| {
            let limits = [(admit_key.as_str(), policy.max_failures_per_user)];
            Ok(login_throttle::admit(c, &limits, db::now(), &policy)?)
        })
        .await?;
    if let Some(secs) = wait {
        return Err(AppError::too_many_requests(secs));
    }
    let stored = current.password_hash.clone();
    let matches =
        current_password.len() <= 1024 && state.hashing.verify(current_password, stored).await?;
    if !matches {
        return Err(AppError::validation(vec![FieldError::new(
            "current_password",
            "incorrect",
            "is not your current password",
        )]));
    }
    let new_hash = state
        .hashing
        .hash(new_password.expose().to_string())
        .await?;
    let changed = state
        .db
        .write(move |c| {
            login_throttle::clear(c, &key)?;
            let now = db::now();
            let changes = users::UserChanges {
                password_hash: Some(new_hash),
                password_changed_at: Some(now),
                ..Default::default()
            };
            if users::update_if_version(c, id, current.version, &changes, now)? == 0 {
                return Err(AppError::new(crate::error::ErrorCode::Conflict));
            }
            refresh_tokens::revoke_all_for_user(c, id, now)?;
            Ok(())
        })
        .await;
    state.callers.forget_all();
    changed?;
    tracing::info!(user_id = id, "password changed; sessions revoked");
    Ok(HttpResponse::NoContent().finish())
}
