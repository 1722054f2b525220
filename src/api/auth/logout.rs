//! `POST /api/v1/auth/logout`: ends the session of a refresh token.

use actix_web::{HttpResponse, web};

use crate::api::auth::RefreshTokenBody;
use crate::api::extract::Json;
use crate::auth::sessions;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

/// Always 204, whether or not the token was known: logging out twice is not an error,
/// and the answer tells nothing about which tokens exist.
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.refresh_token;
    if token.len() <= 256 {
        state
            .db
            .write(move |c| sessions::end(c, &token, db::now()))
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
