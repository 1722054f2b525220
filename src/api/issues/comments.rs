//! `GET/POST /api/v1/issues/{id}/comments`: public comments for everyone who sees the
//! issue; internal ones for departments and supervisors only. Oldest first, paged by
//! cursor; `updated_since` returns the comments written since (they are never edited).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::api::extract::Json;
use crate::api::idempotency::{Answer, Once};
use crate::api::issues::{scope, sees_internal, view::CommentView};
use crate::api::pagination::{Page, PageParams, SyncPage};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::user::parse_paragraph;
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct ListComments {
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<ListComments>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let scope = scope(&auth);
    let internal = sees_internal(&auth);
    let read_at = db::now();
    let rows = state
        .db
        .read(move |c| {
            db::issues::find_visible(c, scope, id)?.ok_or_else(ApiError::not_found)?;
            Ok(db::issues::comments(
                c,
                id,
                internal,
                page.updated_since,
                page.after_id,
                page.fetch(),
            )?)
        })
        .await?;
    let page = Page::from_rows(rows, &page, |r| r.id, CommentView::from);
    Ok(HttpResponse::Ok().json(SyncPage::new(page, read_at)))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<CreateComment>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let once = Once::json(&req, state.settings.idempotency_ttl, &body.0)?;
    let b = body.0;
    let text = parse_paragraph("body", &b.body, 5000).map_err(|e| ApiError::validation(vec![e]))?;
    if b.internal && !sees_internal(&auth) {
        return Err(ApiError::forbidden());
    }
    let scope = scope(&auth);
    let author = auth.id;
    let (answer, replayed) = state
        .db
        .write(move |c| {
            let now = db::now();
            once.run(c, author, now, |c| {
                db::issues::lock(c, id)?;
                let issue =
                    db::issues::find_visible(c, scope, id)?.ok_or_else(ApiError::not_found)?;
                let row = db::issues::add_comment(c, id, author, &text, b.internal, now)?;
                db::issues::add_event(
                    c,
                    id,
                    "comment",
                    Some(author),
                    now,
                    &serde_json::json!({ "comment_id": row.id, "body": row.body, "internal": row.internal }),
                    row.internal,
                )?;
                db::issues::touch(c, id, now)?;
                crate::notify::outbox::after_comment(c, &issue, author, &row.body, row.internal)?;
                Ok(Answer::json(StatusCode::CREATED, &CommentView::from(row))?
                    .header(header::LOCATION, format!("/api/v1/issues/{id}/comments")))
            })
        })
        .await?;
    Ok(answer.into_response(replayed))
}
