//! `GET /api/v1/issues`: newest first, filtered in SQL by what the caller may see.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::issues::{present, scope};
use crate::api::pagination::{Page, PageParams};
use crate::auth::AuthUser;
use crate::db::{self, issues::IssueFilter};
use crate::domain::issue::Status;
use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct ListIssues {
    pub status: Option<String>,
    pub department_id: Option<String>,
    pub project_id: Option<String>,
    pub reporter_id: Option<String>,
    pub overdue: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn id_param(name: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.map(|s| {
        s.parse::<i64>().map_err(|_| {
            ApiError::with_detail(ErrorCode::InvalidQuery, format!("{name} must be a number"))
        })
    })
    .transpose()
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListIssues>,
) -> Result<HttpResponse, ApiError> {
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
                .ok_or_else(|| ApiError::with_detail(ErrorCode::InvalidQuery, "unknown status"))
        })
        .transpose()?;
    let overdue = match q.overdue.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::with_detail(
                ErrorCode::InvalidQuery,
                "overdue must be true or false",
            ));
        }
    };
    let filter = IssueFilter {
        status: status.map(|s| s.as_str().to_string()),
        department_id: id_param("department_id", q.department_id.as_deref())?,
        project_id: id_param("project_id", q.project_id.as_deref())?,
        reporter_id: id_param("reporter_id", q.reporter_id.as_deref())?,
        overdue,
        updated_since: page.updated_since,
        before_id: page.after_id,
        limit: page.fetch(),
    };
    let scope = scope(&auth);
    let views = state
        .db
        .read(move |c| {
            let rows = db::issues::list(c, scope, &filter)?;
            present(c, rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(views, &page, |v| v.id, |v| v)))
}
