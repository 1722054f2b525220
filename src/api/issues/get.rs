//! `GET /api/v1/issues/{id}`: 404 for an issue the caller may not see.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::api::extract::etag;
use crate::api::issues::{present_one, scope};
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
    let scope = scope(&auth);
    let (version, view) = state
        .db
        .read(move |c| {
            let row = db::issues::find_visible(c, scope, id)?.ok_or_else(ApiError::not_found)?;
            Ok((row.version, present_one(c, row)?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(view))
}
