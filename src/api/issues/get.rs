//! `GET /api/v1/issues/{id}`: 404 for an issue the caller may not see.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::{etag, read_with_etag};
use crate::api::issues::{Reader, present_one, scope};
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
    let scope = scope(&auth.actor());
    let reader = Reader::of(&auth);
    let app = state.clone();
    let (version, view) = state
        .db
        .read(move |c| {
            let row = db::issues::find_visible(c, scope, id)?.ok_or_else(AppError::not_found)?;
            Ok((row.version, present_one(c, &app.calendars, row, reader)?))
        })
        .await?;
    Ok(read_with_etag(&req, etag(version), &view))
}
