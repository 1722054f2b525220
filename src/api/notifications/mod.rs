//! The in-app feed: `GET /api/v1/notifications`, `POST /notifications/{id}/read`,
//! `POST /notifications/read-all`. Everyone sees only their own.

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::pagination::{Page, PageParams, SyncPage};
use crate::auth::AuthUser;
use crate::db::{self, notifications::NotificationRow};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub issue_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub read: bool,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl From<NotificationRow> for NotificationView {
    fn from(n: NotificationRow) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            issue_id: n.issue_id,
            title: n.title,
            body: n.body,
            data: serde_json::from_str(&n.data).unwrap_or(serde_json::Value::Null),
            read: n.read_at.is_some(),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListNotifications {
    pub unread: Option<String>,
    pub updated_since: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Serialize)]
struct Feed {
    #[serde(flatten)]
    page: SyncPage<NotificationView>,
    unread_count: i64,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListNotifications>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let page = PageParams::parse(
        q.limit.as_deref(),
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
    )?;
    let unread = match q.unread.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(AppError::with_detail(
                ErrorCode::InvalidQuery,
                "unread must be true or false",
            ));
        }
    };
    let user = auth.id;
    let read_at = db::now();
    let (rows, unread_count) = state
        .db
        .read(move |c| {
            let rows = db::notifications::list(
                c,
                user,
                unread,
                page.updated_since,
                page.after_id,
                page.fetch(),
            )?;
            Ok((rows, db::notifications::unread_count(c, user)?))
        })
        .await?;
    let page = Page::from_rows(rows, &page, |r| r.id, NotificationView::from);
    Ok(HttpResponse::Ok().json(Feed {
        page: SyncPage::new(page, read_at),
        unread_count,
    }))
}

pub async fn read(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let user = auth.id;
    let unread = state
        .db
        .write(move |c| {
            if db::notifications::mark_read(c, user, id, db::now())? == 0 {
                return Err(AppError::not_found());
            }
            Ok(db::notifications::unread_count(c, user)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "unread_count": unread })))
}

pub async fn read_all(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, AppError> {
    let user = auth.id;
    state
        .db
        .write(move |c| Ok(db::notifications::mark_all_read(c, user, db::now())?))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "unread_count": 0 })))
}
