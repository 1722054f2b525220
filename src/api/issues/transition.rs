//! `POST /api/v1/issues/{id}/transitions`: one step of the lifecycle, applied by
//! `workflow::transitions` in one write transaction.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::{Json, Precondition, etag};
use crate::api::idempotency::{Answer, Once};
use crate::api::issues::{Reader, present_one};
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::transitions::{self, TransitionRequest};

pub async fn transition(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<TransitionRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // The request's own form first (422), then its conditions (412).
    transitions::check_fields(&body.0)?;
    let expected = Precondition::from_request(&req)?;
    let once = Once::json(&req, state.settings.idempotency_ttl, &body.0)?;
    let r = body.0;
    let app = state.clone();
    let (answer, replayed) = state
        .db
        .write(move |c| {
            let now = db::now();
            once.run(c, auth.id, now, |c| {
                let row = transitions::step(c, &auth.actor(), id, &r, expected.0, now)?;
                let version = row.version;
                Ok(Answer::json(
                    StatusCode::OK,
                    &present_one(c, &app.rulebook, row, Reader::of(&auth))?,
                )?
                .header(header::ETAG, etag(version)))
            })
        })
        .await?;
    Ok(answer.into_response(replayed))
}
