//! `POST /api/v1/auth/logout`: ends the session of a refresh token.

use actix_web::{HttpRequest, HttpResponse, web};

use serde::Deserialize;

use crate::api::auth::cookie;
use crate::api::extract::Json;
use crate::auth::sessions;
use crate::db;
use crate::error::{AppError, FieldError};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {
    /// Absent in a cookie session (the token comes from the cookie).
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub refresh_token: Option<String>,
    /// The phone's push token: its device registration is removed with the session, so
    /// that a phone that logged out gets no more pushes.
    #[serde(default)]
    pub push_token: Option<String>,
}

/// 204 whether or not the token was known: logging out twice is not an error, and the
/// answer tells nothing about which tokens exist. Only a body that cannot be a token
/// (empty, longer than any issued) is refused, as the schema says.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LogoutBody>,
) -> Result<HttpResponse, AppError> {
    let LogoutBody {
        refresh_token,
        push_token,
    } = body.0;
    let in_body = refresh_token.is_some();
    // In a cookie session the cookie is cleared whatever else happens.
    let done = || {
        let mut answer = HttpResponse::NoContent();
        if !in_body {
            answer.insert_header((actix_web::http::header::SET_COOKIE, cookie::clear()));
        }
        Ok(answer.finish())
    };
    // The body's own form first: a token that cannot be one, a push token with control
    // characters.
    let mut f = crate::api::Fields::default();
    let token_like = |t: &str| {
        (1..=256).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if refresh_token.as_deref().is_some_and(|t| !token_like(t)) {
        f.push(FieldError::new(
            "refresh_token",
            "invalid",
            "is not a refresh token",
        ));
    }
    if push_token
        .as_ref()
        .is_some_and(|p| p.chars().count() > 512 || p.chars().any(char::is_control))
    {
        f.push(FieldError::new(
            "push_token",
            "invalid",
            "at most 512 characters, none of them control characters",
        ));
    }
    f.finish()?;
    let Some(token) = refresh_token
        .or_else(|| cookie::token(&req))
        .filter(|t| token_like(t))
    else {
        return done();
    };
    let ended = state
        .db
        .write(move |c| {
            let user = sessions::end(c, &token, db::now())?;
            if let (Some(user), Some(push)) = (user, push_token) {
                db::devices::delete_token(c, user, &push)?;
            }
            Ok(())
        })
        .await;
    state.callers.forget_all();
    ended?;
    done()
}
