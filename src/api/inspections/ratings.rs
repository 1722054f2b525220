//! `POST /api/v1/inspections/{id}/ratings` (an observer of the project, once, after the
//! inspection took place). The answer holds nothing that names the rating or its time.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::api::extract::Json;
use crate::auth::AuthUser;
use crate::domain::user::parse_paragraph;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub score: i32,
    #[serde(default)]
    pub comment: Option<String>,
}

pub async fn rate(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Json<Rate>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let b = body.0;
    let comment = match b.comment.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            Some(parse_paragraph("comment", c, 1000).map_err(|e| AppError::validation(vec![e]))?)
        }
    };
    let actor = auth.actor();
    let secret = state.rater_secret.clone();
    state
        .db
        .write(move |c| {
            crate::workflow::inspections::rate(c, &secret, &actor, id, b.score, comment)
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({ "inspection_id": id, "rated": true })))
}
