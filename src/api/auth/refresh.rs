//! `POST /api/v1/auth/refresh`: spends a refresh token for a new pair.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::TimeDelta;

use crate::api::auth::{RefreshTokenBody, cookie, token_answer};
use crate::api::extract::Json;
use crate::auth::sessions::{self, Rotation, RotationPolicy};
use crate::db;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<RefreshTokenBody>,
) -> Result<HttpResponse, AppError> {
    // The body's token, or in a cookie session the cookie's.
    let (token, in_cookie) = match body.0.refresh_token {
        Some(t) => (t, false),
        None => (
            cookie::token(&req).ok_or_else(|| AppError::new(ErrorCode::InvalidRefreshToken))?,
            true,
        ),
    };
    if token.len() > 256 {
        return Err(AppError::new(ErrorCode::InvalidRefreshToken));
    }
    let ttl = TimeDelta::from_std(state.settings.refresh_token_ttl).map_err(AppError::internal)?;
    let reuse_grace =
        TimeDelta::from_std(state.settings.refresh_reuse_grace).map_err(AppError::internal)?;
    let app = state.clone();
    let outcome = state
        .db
        .write(move |c| {
            let policy = RotationPolicy {
                tokens: &app.tokens,
                ttl,
                reuse_grace,
            };
            let rotation = sessions::rotate(c, &token, &policy, db::now())?;
            let user = match &rotation {
                Rotation::Rotated { user_id, .. } => db::users::find(c, *user_id)?,
                _ => None,
            };
            Ok((rotation, user))
        })
        .await;
    // A rotation may have ended a session (a reused token revokes its family).
    state.callers.forget_all();
    let outcome = outcome?;
    match outcome {
        (
            Rotation::Rotated {
                refresh_token,
                session,
                ..
            },
            Some(user),
        ) => token_answer(&state, user, refresh_token, &session, in_cookie),
        _ => Err(AppError::new(ErrorCode::InvalidRefreshToken)),
    }
}
