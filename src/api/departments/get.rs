//! `GET /api/v1/departments/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::departments::view::DepartmentView;
use crate::api::extract::{etag, read_with_etag};
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state
        .db
        .read(move |c| Ok(db::departments::find(c, id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(read_with_etag(
        &req,
        etag(row.version),
        &DepartmentView::for_role(row, auth.role),
    ))
}
