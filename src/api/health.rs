//! Health, readiness, metrics and the OpenAPI document.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

/// The contract, as committed at the repository root.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when the database answers and no migration is pending, else 503.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    match state.db.ready(Duration::from_secs(2)).await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            Err(AppError::db_unavailable(reason))
        }
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let now = crate::db::now();
    let backlog = state
        .db
        .read(move |c| {
            let (due_timers, oldest_due) = crate::db::sla::due_backlog(c, now)?;
            let (pending_deliveries, oldest_pending, dead_deliveries) =
                crate::db::deliveries::backlog(c)?;
            Ok(crate::metrics::Backlog {
                due_timers,
                oldest_due,
                pending_deliveries,
                oldest_pending,
                dead_deliveries,
            })
        })
        .await
        .ok();
    let mut body = state.metrics.render();
    body.push_str(&crate::metrics::render_operations(
        &state.db.pool_report(),
        state
            .metrics
            .sla_fired
            .load(std::sync::atomic::Ordering::Relaxed),
        backlog.as_ref(),
        now,
    ));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
