//! `GET /api/v1/issues`: newest first, filtered in SQL by what the caller may see.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::encoded::{Coding, Encoded};
use crate::api::issues::shown::{self, PageTail, ShownIssues};
use crate::api::issues::{Reader, scope};
use crate::api::pagination::{Page, PageParams, id_param, next_updated_since};
use crate::auth::AuthUser;
use crate::db::{self, issues::IssueFilter};
use crate::domain::issue::Status;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::workflow::access::sees_internal;

#[derive(Debug, Deserialize)]
pub struct ListIssues {
    pub status: Option<String>,
    pub department_id: Option<String>,
    pub project_id: Option<String>,
    pub reporter_id: Option<String>,
    pub overdue: Option<String>,
    pub extension_pending: Option<String>,
    pub escalated: Option<String>,
    pub returned: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn flag(name: &str, v: Option<&str>) -> Result<Option<bool>, AppError> {
    match v {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(AppError::with_detail(
            ErrorCode::InvalidQuery,
            format!("{name} must be true or false"),
        )),
    }
}

pub async fn list(
    state: web::Data<AppState>,
    shown: web::Data<ShownIssues>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<ListIssues>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s)
                .ok_or_else(|| AppError::with_detail(ErrorCode::InvalidQuery, "unknown status"))
        })
        .transpose()?;
    let overdue = flag("overdue", q.overdue.as_deref())?;
    // The internal marks: what an observer may not see, they may not filter by either.
    let extension_pending = flag("extension_pending", q.extension_pending.as_deref())?;
    let escalated = flag("escalated", q.escalated.as_deref())?;
    let returned = flag("returned", q.returned.as_deref())?;
    if !sees_internal(&auth.actor())
        && (extension_pending.is_some() || escalated.is_some() || returned.is_some())
    {
        return Err(AppError::with_detail(
            ErrorCode::Forbidden,
            "extension_pending, escalated and returned are for departments and supervisors",
        ));
    }
    let filter = IssueFilter {
        status,
        department_id: id_param("department_id", q.department_id.as_deref())?,
        project_id: id_param("project_id", q.project_id.as_deref())?,
        reporter_id: id_param("reporter_id", q.reporter_id.as_deref())?,
        overdue,
        extension_pending,
        escalated,
        returned,
        updated_since: page.updated_since,
        viewer_id: Some(auth.id),
        before_id: page.after_id,
        limit: page.fetch(),
    };
    let scope = scope(&auth.actor());
    let reader = Reader::of(&auth);
    let viewer = auth.id;
    let first_page = page.after_id.is_none();
    let read_at = db::now();
    let app = state.clone();
    let coding = Coding::of(&req);
    let body = state
        .db
        .read(move |c| {
            // On the first page of a sync: what left the caller's view since.
            let changes = match filter.updated_since {
                Some(since) if first_page => Some(db::visibility::since(c, viewer, since)?),
                _ => None,
            };
            let keys = db::issues::list(c, scope, &filter)?;
            let Page { items, next_cursor } = Page::from_rows(keys, &page, |k| k.id, |r| r);
            let items = shown.page(c, items)?;
            let visits = shown::visits(c, &items)?;
            let rules = app.rulebook.current(c)?;
            let (removed_ids, resync) = match changes {
                Some(ch) => (Some(ch.left), Some(ch.resync)),
                None => (None, None),
            };
            let tail = PageTail {
                next_cursor,
                next_updated_since: next_updated_since(read_at),
                removed_ids,
                resync,
            };
            // Written and compressed here, on the thread that read it.
            Encoded::written(coding, |out| {
                shown::write_page(
                    out,
                    &items,
                    reader,
                    &rules.calendar,
                    db::now(),
                    &visits,
                    &tail,
                )
            })
        })
        .await?;
    Ok(body.respond(HttpResponse::Ok()))
}
