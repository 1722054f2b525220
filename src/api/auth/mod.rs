//! Login, refresh and logout.

pub mod login;
pub mod logout;
pub mod refresh;

use serde::{Deserialize, Serialize};

use crate::api::users::view::UserView;
use crate::db::users::UserRow;
use crate::error::ApiError;
use crate::startup::AppState;

/// The answer to a login or a refresh.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub user: UserView,
}

impl TokenResponse {
    pub fn new(
        state: &AppState,
        user: UserRow,
        refresh_token: String,
        session: &str,
    ) -> Result<TokenResponse, ApiError> {
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
    pub refresh_token: String,
}
