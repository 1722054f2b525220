//! `POST /api/v1/issues`: an observer files an issue against a project they follow; it is
//! numbered and routed in the same transaction.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{Datelike, FixedOffset};
use serde::Deserialize;
use serde_json::json;

use crate::api::Fields;
use crate::api::extract::{Json, etag};
use crate::api::issues::view::IssueView;
use crate::auth::AuthUser;
use crate::db::{self, DbConn, issues};
use crate::domain::issue::{Category, Priority, Status, issue_number};
use crate::domain::role::Role;
use crate::domain::routing::{self, Decision};
use crate::domain::user::parse_text;
use crate::error::{ApiError, FieldError};
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIssue {
    pub project_id: i64,
    #[serde(default)]
    pub milestone_id: Option<i64>,
    pub category: Category,
    #[serde(default)]
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub location: Option<LocationInput>,
    #[serde(default)]
    pub private: bool,
}

/// The county keeps Beijing time (UTC+8, no daylight saving): an issue filed at 01:00 on
/// 1 January local time belongs to the new year.
fn county_year(now: chrono::NaiveDateTime) -> i32 {
    match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => now.and_utc().with_timezone(&offset).year(),
        None => now.year(),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateIssue>,
) -> Result<HttpResponse, ApiError> {
    if auth.role != Role::Observer {
        return Err(ApiError::forbidden());
    }
    let b = body.0;
    let mut f = Fields::default();
    let title = f.check(parse_text("title", &b.title, 200));
    let description = f.check(parse_text("description", &b.description, 5000));
    if let Some(l) = &b.location {
        if !(l.lat.is_finite() && (-90.0..=90.0).contains(&l.lat)) {
            f.push(FieldError::new(
                "location.lat",
                "invalid",
                "must be between -90 and 90",
            ));
        }
        if !(l.lng.is_finite() && (-180.0..=180.0).contains(&l.lng)) {
            f.push(FieldError::new(
                "location.lng",
                "invalid",
                "must be between -180 and 180",
            ));
        }
    }
    f.finish()?;
    let (Some(title), Some(description)) = (title, description) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let reporter = auth.id;
    let row = state
        .db
        .write(move |c| {
            let project = db::projects::find(c, b.project_id)?.ok_or_else(|| {
                ApiError::field("project_id", "unknown", "no project has this id")
            })?;
            if !db::projects::is_follower(c, project.id, reporter)? {
                return Err(ApiError::field(
                    "project_id",
                    "not_followed",
                    "you do not follow this project",
                ));
            }
            let milestone = match b.milestone_id {
                Some(id) => Some(
                    db::milestones::find(c, id)?
                        .filter(|m| m.project_id == project.id)
                        .ok_or_else(|| {
                            ApiError::field(
                                "milestone_id",
                                "unknown",
                                "no milestone of this project has this id",
                            )
                        })?,
                ),
                None => None,
            };
            let rules: Vec<routing::Rule> =
                db::routing_rules::for_category(c, b.category.as_str())?
                    .into_iter()
                    .map(|r| routing::Rule {
                        id: r.id,
                        category: r.category,
                        park: r.park,
                        milestone_kind: r.milestone_kind,
                        department_id: r.department_id,
                    })
                    .collect();
            let decision = routing::route(
                &routing::Target {
                    category: b.category.as_str(),
                    park: project.park.as_deref(),
                    milestone_kind: milestone.as_ref().map(|m| m.kind.as_str()),
                    milestone_department: milestone
                        .as_ref()
                        .and_then(|m| m.responsible_department_id),
                    project_lead_department: project.lead_department_id,
                },
                &rules,
            );
            let now = db::now();
            let number = issue_number(county_year(now), issues::next_number(c, county_year(now))?);
            let status = match decision {
                Decision::Unassigned => Status::Unassigned,
                _ => Status::Assigned,
            };
            let row = issues::insert(
                c,
                &issues::NewIssue {
                    number,
                    project_id: project.id,
                    milestone_id: milestone.as_ref().map(|m| m.id),
                    reporter_id: reporter,
                    category: b.category.as_str().to_string(),
                    priority: b.priority.unwrap_or(Priority::Normal).as_str().to_string(),
                    title,
                    description,
                    lat: b.location.as_ref().map(|l| l.lat),
                    lng: b.location.as_ref().map(|l| l.lng),
                    private: b.private,
                    status: status.as_str().to_string(),
                    department_id: decision.department_id(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            record_filing(c, &row, reporter, decision)?;
            Ok(row)
        })
        .await?;
    tracing::info!(issue_id = row.id, number = %row.number, "issue filed");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/issues/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(IssueView::from(row)))
}

/// The first events of an issue: it was filed, and where routing sent it.
fn record_filing(
    c: &mut DbConn,
    row: &issues::IssueRow,
    reporter: i64,
    decision: Decision,
) -> Result<(), ApiError> {
    issues::add_event(
        c,
        row.id,
        "filed",
        Some(reporter),
        row.created_at,
        &json!({ "number": row.number, "category": row.category, "priority": row.priority, "status": row.status }),
        false,
    )?;
    issues::add_event(
        c,
        row.id,
        "routed",
        None,
        row.created_at,
        &json!(decision),
        false,
    )?;
    if let Some(d) = decision.department_id() {
        issues::remember_department(c, row.id, d)?;
    }
    Ok(())
}
