//! `POST /api/v1/users` (admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::Fields;
use crate::api::extract::{Json, etag};
use crate::api::users::view::UserView;
use crate::auth::AuthUser;
use crate::db::{self, users};
use crate::domain::role::Role;
use crate::domain::user::{NewPassword, Username, parse_email, parse_locale, parse_text};
use crate::error::{AppError, ErrorCode, is_unique_violation};
use crate::state::AppState;
use crate::workflow::users::check_membership;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub department_id: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub locale: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    if !auth.actor().may_manage_users() {
        return Err(AppError::forbidden());
    }
    let b = body.0;
    let mut f = Fields::default();
    let username = f.check(Username::parse("username", &b.username));
    let new_password = f.check(NewPassword::parse("password", &b.password));
    let display_name = f.check(parse_text("display_name", &b.display_name, 100));
    let email = b.email.as_deref().map(|e| f.check(parse_email("email", e)));
    let locale = f.check(parse_locale(
        "locale",
        b.locale.as_deref().unwrap_or("zh-CN"),
    ));
    f.finish()?;
    let (Some(username), Some(new_password), Some(display_name), Some(locale)) =
        (username, new_password, display_name, locale)
    else {
        return Err(AppError::internal("validated fields missing"));
    };
    let email = email.flatten();

    let hash = state
        .hashing
        .hash(new_password.expose().to_string())
        .await?;
    let row = state
        .db
        .write(move |c| {
            check_membership(c, b.role, b.department_id)?;
            let now = db::now();
            users::insert(
                c,
                &users::NewUser {
                    username: username.as_str(),
                    password_hash: &hash,
                    display_name: &display_name,
                    role: b.role.as_str(),
                    department_id: b.department_id,
                    email: email.as_deref(),
                    locale: &locale,
                    active: true,
                    version: 1,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::new(ErrorCode::UsernameTaken)
                } else {
                    e.into()
                }
            })
        })
        .await?;
    tracing::info!(user_id = row.id, by = auth.id, "user created");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(UserView::from(row)))
}
