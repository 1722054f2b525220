//! `GET /api/v1/projects/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::{etag, read_with_etag};
use crate::api::projects::{view::ProjectView, visible_project};
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
    let (row, observers) = state
        .db
        .read(move |c| {
            let row = visible_project(c, &auth, id)?;
            let observers = db::projects::observers(c, id)?;
            Ok((row, observers))
        })
        .await?;
    Ok(read_with_etag(
        &req,
        etag(row.version),
        &ProjectView::new(row, observers),
    ))
}
