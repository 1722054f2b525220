//! `POST /api/v1/auth/login`: password login, throttled per username and per address.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::TimeDelta;
use serde::Deserialize;

use crate::api::auth::TokenResponse;
use crate::api::extract::Json;
use crate::auth::{password, sessions};
use crate::db::{self, login_throttle, run_blocking};
use crate::domain::throttle;
use crate::domain::user::Username;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The address failures are counted against: the peer, or the first `X-Forwarded-For`
/// hop when the service is configured to sit behind a proxy that sets it.
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for && let Some(ip) = req.connection_info().realip_remote_addr() {
        return ip.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.0;
    if username.len() > 128 || password.len() > 1024 {
        return Err(ApiError::validation(vec![FieldError::new(
            if username.len() > 128 {
                "username"
            } else {
                "password"
            },
            "too_long",
            "is longer than any account's",
        )]));
    }
    let username = Username::normalise(&username);
    let user_key = format!("user:{username}");
    let address_key = format!(
        "address:{}",
        client_address(&req, state.settings.trust_forwarded_for)
    );

    // Refused before any account lookup, so a locked known username and a locked unknown
    // one take the same path and the same time.
    let now = db::now();
    let keys = (user_key.clone(), address_key.clone());
    let (by_user, by_address) = state
        .db
        .read(move |c| {
            Ok((
                login_throttle::load(c, &keys.0)?,
                login_throttle::load(c, &keys.1)?,
            ))
        })
        .await?;
    let wait = throttle::retry_after(by_user.as_ref(), now)
        .max(throttle::retry_after(by_address.as_ref(), now));
    if let Some(secs) = wait {
        return Err(ApiError::too_many_requests(secs));
    }

    let lookup = username.clone();
    let user = state
        .db
        .read(move |c| Ok(db::users::find_by_username(c, &lookup)?))
        .await?;
    // An unknown username is checked against a dummy hash, so it costs what a known one does.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let matches = run_blocking(move || Ok(password::verify(&password, &stored))).await?;

    match user.filter(|u| matches && u.active) {
        None => {
            let policy = state.settings.throttle;
            state
                .db
                .write(move |c| {
                    let now = db::now();
                    for (key, limit) in [
                        (&user_key, policy.max_failures_per_user),
                        (&address_key, policy.max_failures_per_address),
                    ] {
                        let before = login_throttle::load(c, key)?;
                        let after = throttle::after_failure(before.as_ref(), now, limit, &policy);
                        login_throttle::store(c, key, &after)?;
                    }
                    Ok(())
                })
                .await?;
            tracing::info!("failed login");
            Err(ApiError::new(ErrorCode::InvalidCredentials))
        }
        Some(user) => {
            let ttl = TimeDelta::from_std(state.settings.refresh_token_ttl)
                .map_err(ApiError::internal)?;
            let user_id = user.id;
            let refresh_token = state
                .db
                .write(move |c| {
                    login_throttle::clear(c, &user_key)?;
                    sessions::start(c, user_id, ttl, db::now())
                })
                .await?;
            tracing::info!(user_id, "login");
            Ok(HttpResponse::Ok().json(TokenResponse::new(&state, user, refresh_token)?))
        }
    }
}
