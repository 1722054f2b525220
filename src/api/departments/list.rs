//! `GET /api/v1/departments`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::departments::view::DepartmentView;
use crate::api::pagination::{Page, PageParams};
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListDepartments {
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListDepartments>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let rows = state
        .db
        .read(move |c| {
            Ok(db::departments::list(
                c,
                page.updated_since,
                page.after_id,
                page.fetch(),
            )?)
        })
        .await?;
    let role = auth.role;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        &page,
        |r| r.id,
        |r| DepartmentView::for_role(r, role),
    )))
}
