//! `AuthUser`: the caller behind a valid bearer token, loaded fresh from the database for
//! every write so that a deactivated user or a changed password takes effect at once; a read
//! may use what was loaded in the last few seconds (`auth::callers`).

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::callers::CallerKey;
use crate::db;
use crate::domain::role::{Actor, Role};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i64>,
    pub locale: String,
}

impl AuthUser {
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id,
            role: self.role,
            department_id: self.department_id,
        }
    }

    /// Refuses the request unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Result<&str, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    let value = value
        .to_str()
        .map_err(|_| AppError::new(ErrorCode::InvalidToken))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AppError::new(ErrorCode::InvalidToken))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::new(ErrorCode::InvalidToken));
    }
    Ok(token.trim())
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // The token is checked here, before anything waits: only whose it is goes on.
        let key = match &state {
            Some(state) => bearer_token(req).and_then(|token| state.tokens.caller(token)),
            None => Err(AppError::internal("application state missing")),
        };
        let read = matches!(*req.method(), Method::GET | Method::HEAD);
        Box::pin(async move {
            let (state, key) = (
                state.ok_or_else(|| AppError::internal("application state missing"))?,
                key?,
            );
            if read && let Some(user) = state.callers.get(&key) {
                return Ok(user);
            }
            let user = load(&state, &key).await?;
            state.callers.put(key, user.clone());
            Ok(user)
        })
    }
}

/// The caller of a token, from the database: refused when the user is inactive, the
/// session ended, or the password changed since the token was issued.
async fn load(state: &AppState, key: &CallerKey) -> Result<AuthUser, AppError> {
    let (user_id, session) = (key.user_id, key.session.clone());
    let found = state
        .db
        .read(move |conn| Ok(db::users::find_in_session(conn, user_id, &session)?))
        .await?;
    // A token of a session that ended (logout, reuse detected) is void.
    let row = found
        .filter(|(u, open)| u.active && *open)
        .map(|(u, _)| u)
        .ok_or_else(|| AppError::new(ErrorCode::InvalidToken))?;
    // A token issued before the last password change is void.
    if key.password_stamp != row.password_changed_at.and_utc().timestamp_micros() {
        return Err(AppError::new(ErrorCode::InvalidToken));
    }
    let role =
        Role::parse(&row.role).ok_or_else(|| AppError::internal("unknown role in database"))?;
    Ok(AuthUser {
        id: row.id,
        username: row.username,
        role,
        department_id: row.department_id,
        locale: row.locale,
    })
}
