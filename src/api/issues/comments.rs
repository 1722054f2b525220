//! `GET/POST /api/v1/issues/{id}/comments`: public comments for everyone who sees the
//! issue; internal ones for departments and supervisors only.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::api::extract::Json;
use crate::api::issues::{scope, sees_internal, view::CommentView};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::user::parse_text;
use crate::error::ApiError;
use crate::startup::AppState;

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let scope = scope(&auth);
    let internal = sees_internal(&auth);
    let rows = state
        .db
        .read(move |c| {
            db::issues::find_visible(c, scope, id)?.ok_or_else(ApiError::not_found)?;
            Ok(db::issues::comments(c, id, internal)?)
        })
        .await?;
    let items: Vec<CommentView> = rows.into_iter().map(CommentView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: Json<CreateComment>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let text = parse_text("body", &b.body, 5000).map_err(|e| ApiError::validation(vec![e]))?;
    if b.internal && !sees_internal(&auth) {
        return Err(ApiError::forbidden());
    }
    let scope = scope(&auth);
    let author = auth.id;
    let row = state
        .db
        .write(move |c| {
            db::issues::lock(c, id)?;
            let issue = db::issues::find_visible(c, scope, id)?.ok_or_else(ApiError::not_found)?;
            let now = db::now();
            let row = db::issues::add_comment(c, id, author, &text, b.internal, now)?;
            db::issues::add_event(
                c,
                id,
                "comment",
                Some(author),
                now,
                &json!({ "comment_id": row.id, "body": row.body, "internal": row.internal }),
                row.internal,
            )?;
            db::issues::touch(c, id, now)?;
            crate::notify::outbox::after_comment(c, &issue, author, &row.body, row.internal)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/issues/{id}/comments")))
        .json(CommentView::from(row)))
}
