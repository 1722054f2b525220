//! `GET /api/v1/projects/{id}/milestones`: for whoever may see the project.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::api::milestones::view::MilestoneView;
use crate::api::projects::visible_project;
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// A project has a handful of milestones: they come in one list, in order of creation.
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    project_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let project_id = project_id.into_inner();
    let rows = state
        .db
        .read(move |c| {
            visible_project(c, &auth, project_id)?;
            Ok(db::milestones::for_project(c, project_id)?)
        })
        .await?;
    let items: Vec<MilestoneView> = rows.into_iter().map(MilestoneView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}
