//! `PATCH /api/v1/users/{id}`: admins change anything; a user changes their own name,
//! email and locale. The last active admin cannot be demoted or deactivated.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::extract::{Json, Precondition, etag};
use crate::api::users::view::UserView;
use crate::api::{Fields, double_option};
use crate::auth::AuthUser;
use crate::db::{self, users};
use crate::domain::role::Role;
use crate::domain::user::{NewPassword, parse_email, parse_locale, parse_text};
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    pub department_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub locale: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub notify_email: Option<bool>,
    /// Admin only: sets a new password and ends the user's sessions.
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub password: Option<String>,
}

impl UpdateUser {
    fn touches_admin_fields(&self) -> bool {
        self.role.is_some()
            || self.department_id.is_some()
            || self.active.is_some()
            || self.password.is_some()
    }
}

pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<UpdateUser>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let expected = Precondition::from_request(&req)?;
    let b = body.0;
    let actor = auth.actor();
    let is_admin = actor.may_manage_users();
    if !is_admin && auth.id != id {
        // Invisible users stay invisible; visible ones are read-only to non-admins.
        let visible = state
            .db
            .read(move |c| Ok(db::users::find(c, id)?))
            .await?
            .is_some_and(|u| actor.may_read_user(u.id, u.department_id));
        return Err(if visible {
            AppError::forbidden()
        } else {
            AppError::not_found()
        });
    }
    if !is_admin && b.touches_admin_fields() {
        return Err(AppError::forbidden());
    }

    let mut f = Fields::default();
    let mut changes = users::UserChanges {
        display_name: b
            .display_name
            .as_deref()
            .and_then(|v| f.check(parse_text("display_name", v, 100))),
        locale: b
            .locale
            .as_deref()
            .and_then(|v| f.check(parse_locale("locale", v))),
        active: b.active,
        notify_email: b.notify_email,
        ..Default::default()
    };
    changes.email = match &b.email {
        None => None,
        Some(None) => Some(None),
        Some(Some(e)) => f.check(parse_email("email", e)).map(Some),
    };
    let new_password = b
        .password
        .as_deref()
        .and_then(|p| f.check(NewPassword::parse("password", p)));
    f.finish()?;
    if let Some(p) = new_password {
        changes.password_hash = Some(state.hashing.hash(p.expose().to_string()).await?);
        changes.password_changed_at = Some(db::now());
    }

    let edit = workflow::users::Edit {
        role: b.role,
        department_id: b.department_id,
        active: b.active,
        changes,
    };
    let row = state
        .db
        .write(move |c| workflow::users::update(c, id, edit, expected.0, db::now()))
        .await;
    state.callers.forget_all();
    let row = row?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(UserView::from(row)))
}
