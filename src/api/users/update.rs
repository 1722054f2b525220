//! `PATCH /api/v1/users/{id}`: admins change anything; a user changes their own name,
//! email and locale. The last active admin cannot be demoted or deactivated.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::extract::{Json, Precondition, etag};
use crate::api::users::{check_membership, view::UserView};
use crate::api::{Fields, double_option};
use crate::auth::AuthUser;
use crate::db::{self, refresh_tokens, users};
use crate::domain::role::Role;
use crate::domain::user::{NewPassword, parse_email, parse_locale, parse_text};
use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;

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
) -> Result<HttpResponse, ApiError> {
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
            ApiError::forbidden()
        } else {
            ApiError::not_found()
        });
    }
    if !is_admin && b.touches_admin_fields() {
        return Err(ApiError::forbidden());
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

    let row = state
        .db
        .write(move |c| {
            let current = db::users::find(c, id)?.ok_or_else(ApiError::not_found)?;
            expected.check(current.version)?;
            let old_role = Role::parse(&current.role)
                .ok_or_else(|| ApiError::internal("unknown role in database"))?;
            let role = b.role.unwrap_or(old_role);
            let department_id = match b.department_id {
                Some(d) => d,
                // A role outside departments drops the department it had.
                None if !role.belongs_to_department() => None,
                None => current.department_id,
            };
            if b.role.is_some() || b.department_id.is_some() {
                check_membership(c, role, department_id)?;
                changes.role = Some(role.as_str().to_string());
                changes.department_id = Some(department_id);
            }
            let active = b.active.unwrap_or(current.active);
            let loses_admin =
                old_role == Role::Admin && current.active && (role != Role::Admin || !active);
            if loses_admin {
                db::users::lock_active_admins(c)?;
                if db::users::count_active_admins(c)? <= 1 {
                    return Err(ApiError::new(ErrorCode::LastAdmin));
                }
            }
            let now = db::now();
            if users::update_if_version(c, id, current.version, &changes, now)? == 0 {
                return Err(expected.lost_race());
            }
            if changes.role.as_deref() != Some(current.role.as_str()) && changes.role.is_some()
                || changes
                    .department_id
                    .is_some_and(|d| d != current.department_id)
            {
                // Delta sync: what this user may see changed as a whole.
                db::visibility::record_whole_view(c, id, now)?;
            }
            if changes.password_hash.is_some() || !active {
                refresh_tokens::revoke_all_for_user(c, id, now)?;
            }
            db::users::find(c, id)?.ok_or_else(ApiError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(UserView::from(row)))
}
