//! `GET /api/v1/issues/{id}`: 404 for an issue the caller may not see.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::encoded::{Coding, Encoded};
use crate::api::extract::{etag, respond_with_etag};
use crate::api::issues::{Reader, present_with_clock, scope};
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
    let coding = Coding::of(&req);
    let (version, view) = state
        .db
        .read(move |c| {
            let (row, clock) = db::issues::find_visible_with_clock(c, scope, id)?
                .ok_or_else(AppError::not_found)?;
            let version = row.version;
            let view = present_with_clock(c, &app.rulebook, row, clock, reader)?;
            // Serialized and compressed here, on the thread that read it.
            Ok((version, Encoded::json(&view, coding)?))
        })
        .await?;
    Ok(respond_with_etag(&req, etag(version), |ok| {
        view.respond(ok)
    }))
}
