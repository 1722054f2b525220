//! `GET /api/v1/projects`: observers list the projects they follow; others, all.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::pagination::{Page, PageParams};
use crate::api::projects::view::ProjectView;
use crate::auth::AuthUser;
use crate::db;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListProjects {
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListProjects>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let follower = (auth.role == Role::Observer).then_some(auth.id);
    let (rows, observers) = state
        .db
        .read(move |c| {
            let rows =
                db::projects::list(c, follower, page.updated_since, page.after_id, page.fetch())?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut observers: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            for (project, user) in db::projects::observers_of(c, &ids)? {
                observers.entry(project).or_default().push(user);
            }
            Ok((rows, observers))
        })
        .await?;
    let page = Page::from_rows(
        rows,
        &page,
        |r| r.id,
        |r| {
            let followers = observers.get(&r.id).cloned().unwrap_or_default();
            ProjectView::new(r, followers)
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
