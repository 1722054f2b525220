//! Login, refresh and logout.

pub mod cookie;
pub mod login;
pub mod logout;
pub mod refresh;

use serde::{Deserialize, Serialize};

use crate::api::users::view::UserView;
use crate::db::users::UserRow;
use crate::error::AppError;
use crate::state::AppState;

/// The answer to a login or a refresh.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// `None` in a cookie session: the token travels only in the `HttpOnly` cookie.
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub user: UserView,
}

impl TokenResponse {
    pub fn new(
        state: &AppState,
        user: UserRow,
        refresh_token: Option<String>,
        session: &str,
    ) -> Result<TokenResponse, AppError> {
        let access_token = state.tokens.issue(
            user.id,
            &user.role,
            user.password_changed_at.and_utc().timestamp_micros(),
            session,
        )?;
        Ok(TokenResponse {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl().as_secs(),
            user: UserView::from(user),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenBody {
    /// Absent in a cookie session (the token comes from the cookie).
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub refresh_token: Option<String>,
}

/// The answer carrying a new pair: in a cookie session the refresh token is set as the
/// cookie and left out of the body; otherwise it is in the body.
pub fn token_answer(
    state: &AppState,
    user: UserRow,
    refresh_token: String,
    session: &str,
    in_cookie: bool,
) -> Result<actix_web::HttpResponse, AppError> {
    let mut answer = actix_web::HttpResponse::Ok();
    let body_token = if in_cookie {
        let value = cookie::set(&refresh_token, state.settings.refresh_token_ttl)
            .ok_or_else(|| AppError::internal("refresh token not a header value"))?;
        answer.insert_header((actix_web::http::header::SET_COOKIE, value));
        None
    } else {
        Some(refresh_token)
    };
    Ok(answer.json(TokenResponse::new(state, user, body_token, session)?))
}
