//! `POST /api/v1/auth/login`: password login, throttled per username and per address.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::TimeDelta;
use serde::Deserialize;

use crate::api::auth::token_answer;
use crate::api::extract::Json;
use crate::auth::sessions;
use crate::db::{self, login_throttle};
use crate::domain::user::Username;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// A browser session: the refresh token goes into an `HttpOnly` cookie, not the body.
    #[serde(default)]
    pub cookie: bool,
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest {
        username,
        password,
        cookie,
    } = body.0;
    check_lengths(&username, &password)?;
    let Keys {
        possible,
        username,
        user_key,
        address_key,
    } = keys(&req, &state, &username);

    // Counted (or refused) before any account lookup and before the password is checked,
    // in one transaction: a locked known username and a locked unknown one take the same
    // path and the same time, and parallel guesses cannot outrun the count.
    let policy = state.settings.throttle;
    let keys = (user_key.clone(), address_key.clone());
    let wait = state
        .db
        .write(move |c| {
            let limits = [
                (keys.0.as_str(), policy.max_failures_per_user),
                (keys.1.as_str(), policy.max_failures_per_address),
            ];
            Ok(login_throttle::admit(c, &limits, db::now(), &policy)?)
        })
        .await?;
    if let Some(secs) = wait {
        return Err(AppError::too_many_requests(secs));
    }

    let lookup = username.clone();
    let user = if possible {
        state
            .db
            .read(move |c| Ok(db::users::find_by_username(c, &lookup)?))
            .await?
    } else {
        None
    };
    // An unknown username is checked against a dummy hash, so it costs what a known one does.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let matches = state.hashing.verify(password, stored).await?;

    match user.filter(|u| matches && u.active) {
        None => {
            tracing::info!("failed login");
            Err(AppError::new(ErrorCode::InvalidCredentials))
        }
        Some(user) => {
            let ttl = TimeDelta::from_std(state.settings.refresh_token_ttl)
                .map_err(AppError::internal)?;
            let user_id = user.id;
            let (refresh_token, session) = state
                .db
                .write(move |c| {
                    login_throttle::succeeded(
                        c,
                        &user_key,
                        &address_key,
                        policy.max_failures_per_address,
                    )?;
                    sessions::start(c, user_id, ttl, db::now())
                })
                .await?;
            tracing::info!(user_id, "login");
            token_answer(&state, user, refresh_token, &session, cookie)
        }
    }
}

/// A username or password longer than any account's is refused before anything else.
fn check_lengths(username: &str, password: &str) -> Result<(), AppError> {
    if username.len() <= 128 && password.len() <= 1024 {
        return Ok(());
    }
    let field = if username.len() > 128 {
        "username"
    } else {
        "password"
    };
    Err(AppError::validation(vec![FieldError::new(
        field,
        "too_long",
        "is longer than any account's",
    )]))
}

/// The name as it is looked up, and the keys failures are counted under.
struct Keys {
    /// Whether the name can be a username at all.
    possible: bool,
    username: String,
    user_key: String,
    address_key: String,
}

fn keys(req: &HttpRequest, state: &AppState, raw: &str) -> Keys {
    // A name that cannot be a username (say, with a NUL byte) is looked up by nobody and
    // throttled under a digest of itself, so it never reaches the database as text.
    let possible = Username::parse("username", raw).is_ok();
    let username = Username::normalise(raw);
    let user_key = if possible {
        format!("user:{username}")
    } else {
        use sha2::Digest;
        format!(
            "user#{}",
            crate::encoding::hex(&sha2::Sha256::digest(username.as_bytes()))
        )
    };
    let address_key = format!(
        "address:{}",
        crate::api::client::address(req, state.settings.trusted_proxy_hops)
    );
    Keys {
        possible,
        username,
        user_key,
        address_key,
    }
}
