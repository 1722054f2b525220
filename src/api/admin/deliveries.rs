//! `GET /api/v1/admin/deliveries` and `POST /api/v1/admin/deliveries/{id}/retry` (admin):
//! what failed or was dead-lettered, and sending it again.

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::api::pagination::{Page, PageParams};
use crate::auth::AuthUser;
use crate::db::{self, deliveries::DeliveryRow};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub notification_id: Option<i64>,
    pub department_id: Option<i64>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub next_attempt_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    pub sent_at: Option<String>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(d: DeliveryRow) -> Self {
        DeliveryView {
            id: d.id,
            channel: d.channel.as_str().to_string(),
            target: d.target,
            state: d.state,
            attempts: d.attempts,
            last_error: d.last_error,
            notification_id: d.notification_id,
            department_id: d.department_id,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            sent_at: d.sent_at.as_ref().map(crate::api::time::rfc3339),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListDeliveries {
    /// `failed` (pending after a failed try), `dead`, `pending` or `sent`; all when absent.
    pub state: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListDeliveries>,
) -> Result<HttpResponse, AppError> {
    auth.require(&[Role::Admin])?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit.as_deref(), q.cursor.as_deref(), None)?;
    let wanted = q.state.clone();
    if let Some(s) = wanted.as_deref()
        && !["failed", "dead", "pending", "sent"].contains(&s)
    {
        return Err(AppError::with_detail(
            ErrorCode::InvalidQuery,
            "state must be failed, dead, pending or sent",
        ));
    }
    let rows = state
        .db
        .read(move |c| {
            Ok(db::deliveries::list(
                c,
                wanted.as_deref(),
                page.after_id,
                page.fetch(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, &page, |r| r.id, DeliveryView::from)))
}

pub async fn retry(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    auth.require(&[Role::Admin])?;
    let id = id.into_inner();
    let row = state
        .db
        .write(move |c| {
            let current = db::deliveries::find(c, id)?.ok_or_else(AppError::not_found)?;
            if current.state == "sent" {
                return Err(AppError::with_detail(
                    ErrorCode::Conflict,
                    "this delivery was sent already",
                ));
            }
            db::deliveries::retry(c, id, db::now())?;
            db::deliveries::find(c, id)?.ok_or_else(AppError::not_found)
        })
        .await?;
    tracing::info!(
        delivery = id,
        by = auth.id,
        "delivery queued again by an admin"
    );
    Ok(HttpResponse::Ok().json(DeliveryView::from(row)))
}
