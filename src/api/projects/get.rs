//! `GET /api/v1/projects/{id}`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::api::extract::etag;
use crate::api::projects::{view::ProjectView, visible_project};
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
    let (row, observers) = state
        .db
        .read(move |c| {
            let row = visible_project(c, &auth, id)?;
            let observers = db::projects::observers(c, id)?;
            Ok((row, observers))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(ProjectView::new(row, observers)))
}
