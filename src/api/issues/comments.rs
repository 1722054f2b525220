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
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::comments;

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
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let scope = scope(&auth.actor());
    let internal = sees_internal(&auth.actor());
    let read_at = db::now();
    let rows = state
        .db
        .read(move |c| {
            db::issues::find_visible(c, scope, id)?.ok_or_else(AppError::not_found)?;
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
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let once = Once::json(&req, state.settings.idempotency_ttl, &body.0)?;
    let b = body.0;
    let text = parse_paragraph("body", &b.body, 5000).map_err(|e| AppError::validation(vec![e]))?;
    let actor = auth.actor();
    let (answer, replayed) = state
        .db
        .write(move |c| {
            let now = db::now();
            once.run(c, actor.id, now, |c| {
                let row = comments::add(c, &actor, id, &text, b.internal, now)?;
                Ok(Answer::json(StatusCode::CREATED, &CommentView::from(row))?
                    .header(header::LOCATION, format!("/api/v1/issues/{id}/comments")))
            })
        })
        .await?;
    Ok(answer.into_response(replayed))
}
