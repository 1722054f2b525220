//! `GET/PUT /api/v1/sla-policies`. Durations are working minutes (fractions allowed, down
//! to a second); `auto_close_days` counts working days of the calendar in force.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::api::extract::JsonList;
use crate::api::projects::may_manage;
use crate::auth::AuthUser;
use crate::db::{self, sla::PolicyRow};
use crate::domain::issue::{Category, Priority};
use crate::error::{AppError, FieldError};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub category: Category,
    pub priority: Priority,
    pub ack_minutes: f64,
    pub resolve_minutes: f64,
    pub warn_percent: i32,
    pub auto_close_days: f64,
}

fn view(r: PolicyRow) -> serde_json::Value {
    serde_json::json!({
        "category": r.category,
        "priority": r.priority,
        "ack_minutes": r.ack_seconds as f64 / 60.0,
        "resolve_minutes": r.resolve_seconds as f64 / 60.0,
        "warn_percent": r.warn_percent,
        "auto_close_days": r.auto_close_days,
    })
}

async fn all(state: &AppState) -> Result<Vec<serde_json::Value>, AppError> {
    let rows = state.db.read(|c| Ok(db::sla::policies(c)?)).await?;
    Ok(rows.into_iter().map(view).collect())
}

pub async fn list(state: web::Data<AppState>, _auth: AuthUser) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(all(&state).await?))
}

/// Longest a clock may be set to: a year of working time at 24 hours a day.
const MAX_SECONDS: f64 = 366.0 * 86_400.0;

/// Sets the policies given; the others stay as they are.
pub async fn replace(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonList<PolicyBody>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let now = db::now();
    for (i, p) in body.0.into_iter().enumerate() {
        let seconds = |field: &str, minutes: f64, errors: &mut Vec<FieldError>| {
            let s = (minutes * 60.0).round();
            if !(s.is_finite() && (1.0..=MAX_SECONDS).contains(&s)) {
                errors.push(FieldError::new(
                    format!("[{i}].{field}"),
                    "invalid",
                    "must be at least one second and at most a year",
                ));
            }
            s as i64
        };
        let ack_seconds = seconds("ack_minutes", p.ack_minutes, &mut errors);
        let resolve_seconds = seconds("resolve_minutes", p.resolve_minutes, &mut errors);
        if !(1..=100).contains(&p.warn_percent) {
            errors.push(FieldError::new(
                format!("[{i}].warn_percent"),
                "invalid",
                "must be 1 to 100",
            ));
        }
        if !(p.auto_close_days.is_finite() && p.auto_close_days > 0.0 && p.auto_close_days <= 365.0)
        {
            errors.push(FieldError::new(
                format!("[{i}].auto_close_days"),
                "invalid",
                "must be more than 0 and at most 365",
            ));
        }
        if !seen.insert((p.category, p.priority)) {
            errors.push(FieldError::new(
                format!("[{i}]"),
                "duplicate",
                "this category and priority appear twice",
            ));
        }
        rows.push(PolicyRow {
            category: p.category.as_str().into(),
            priority: p.priority.as_str().into(),
            ack_seconds,
            resolve_seconds,
            warn_percent: p.warn_percent,
            auto_close_days: p.auto_close_days,
            updated_at: now,
        });
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    state
        .db
        .write(move |c| {
            for row in &rows {
                db::sla::upsert_policy(c, row)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(all(&state).await?))
}
