//! `GET /api/v1/users/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::{etag, read_with_etag};
use crate::api::users::view::UserView;
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// A user the caller may not read answers 404, as if it did not exist.
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state
        .db
        .read(move |c| Ok(db::users::find(c, id)?))
        .await?
        .filter(|u| auth.actor().may_read_user(u.id, u.department_id))
        .ok_or_else(AppError::not_found)?;
    Ok(read_with_etag(
        &req,
        etag(row.version),
        &UserView::from(row),
    ))
}
