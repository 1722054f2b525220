//! `POST /api/v1/auth/refresh`: spends a refresh token for a new pair.

use actix_web::{HttpResponse, web};
use chrono::TimeDelta;

use crate::api::auth::{RefreshTokenBody, TokenResponse};
use crate::api::extract::Json;
use crate::auth::sessions::{self, Rotation, RotationPolicy};
use crate::db;
use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;

pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.refresh_token;
    if token.len() > 256 {
        return Err(ApiError::new(ErrorCode::InvalidRefreshToken));
    }
    let ttl = TimeDelta::from_std(state.settings.refresh_token_ttl).map_err(ApiError::internal)?;
    let reuse_grace =
        TimeDelta::from_std(state.settings.refresh_reuse_grace).map_err(ApiError::internal)?;
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
        .await?;
    match outcome {
        (
            Rotation::Rotated {
                refresh_token,
                session,
                ..
            },
            Some(user),
        ) => {
            Ok(HttpResponse::Ok().json(TokenResponse::new(&state, user, refresh_token, &session)?))
        }
        _ => Err(ApiError::new(ErrorCode::InvalidRefreshToken)),
    }
}
