//! `GET /api/v1/issues/{id}/events`: the timeline, oldest first; observers never see
//! internal events.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::api::issues::{scope, sees_internal, view::EventView};
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let scope = scope(&auth.actor());
    let internal = sees_internal(&auth.actor());
    let rows = state
        .db
        .read(move |c| {
            db::issues::find_visible(c, scope, id)?.ok_or_else(AppError::not_found)?;
            Ok(db::issues::events(c, id, internal)?)
        })
        .await?;
    let items: Vec<EventView> = rows.into_iter().map(EventView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}
