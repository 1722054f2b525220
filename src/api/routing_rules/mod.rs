//! Routing rules: category × park / milestone kind → department (supervisor, admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::extract::Json;
use crate::api::projects::{check_department, may_manage};
use crate::auth::AuthUser;
use crate::db::{self, routing_rules::RoutingRuleRow};
use crate::domain::issue::{Category, MilestoneKind};
use crate::domain::user::parse_text;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct RoutingRuleView {
    pub id: i64,
    pub category: String,
    pub park: Option<String>,
    pub milestone_kind: Option<String>,
    pub department_id: i64,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
}

impl From<RoutingRuleRow> for RoutingRuleView {
    fn from(r: RoutingRuleRow) -> Self {
        RoutingRuleView {
            id: r.id,
            category: r.category,
            park: r.park,
            milestone_kind: r.milestone_kind,
            department_id: r.department_id,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoutingRule {
    pub category: Category,
    #[serde(default)]
    pub park: Option<String>,
    #[serde(default)]
    pub milestone_kind: Option<MilestoneKind>,
    pub department_id: i64,
}

/// `GET /api/v1/routing-rules`: all rules, oldest first.
pub async fn list(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let rows = state.db.read(|c| Ok(db::routing_rules::all(c)?)).await?;
    let items: Vec<RoutingRuleView> = rows.into_iter().map(RoutingRuleView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

/// `POST /api/v1/routing-rules`.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateRoutingRule>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let b = body.0;
    let park = match b.park.as_deref() {
        Some(p) => Some(parse_text("park", p, 100).map_err(|e| AppError::validation(vec![e]))?),
        None => None,
    };
    let row = state
        .db
        .write(move |c| {
            check_department(c, "department_id", Some(b.department_id))?;
            Ok(db::routing_rules::insert(
                c,
                &db::routing_rules::NewRoutingRule {
                    category: b.category.as_str().to_string(),
                    park,
                    milestone_kind: b.milestone_kind.map(|k| k.as_str().to_string()),
                    department_id: b.department_id,
                    created_at: db::now(),
                },
            )?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/routing-rules/{}", row.id),
        ))
        .json(RoutingRuleView::from(row)))
}

/// `DELETE /api/v1/routing-rules/{id}`.
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let id = id.into_inner();
    let removed = state
        .db
        .write(move |c| Ok(db::routing_rules::delete(c, id)?))
        .await?;
    if removed == 0 {
        return Err(AppError::not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}
