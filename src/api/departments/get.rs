//! `GET /api/v1/departments/{id}`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::api::departments::view::DepartmentView;
use crate::api::extract::etag;
use crate::auth::AuthUser;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let row = state
        .db
        .read(move |c| Ok(db::departments::find(c, id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(DepartmentView::for_role(row, auth.role)))
}
