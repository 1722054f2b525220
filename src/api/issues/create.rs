//! `POST /api/v1/issues`: an observer files an issue against a project they follow; it is
//! numbered and routed in the same transaction.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::api::Fields;
use crate::api::extract::{Json, etag};
use crate::api::idempotency::{Answer, Once};
use crate::api::issues::{Reader, present_with_clock};
use crate::auth::AuthUser;
use crate::db;
use crate::db::sla::ClockMarks;
use crate::domain::issue::{Category, Priority};
use crate::domain::role::Role;
use crate::domain::user::{parse_paragraph, parse_text};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::workflow::filing::{self, Filing};
use crate::workflow::rulebook::Rulebook;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIssue {
    pub project_id: i64,
    #[serde(default)]
    pub milestone_id: Option<i64>,
    pub category: Category,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub location: Option<LocationInput>,
    #[serde(default)]
    pub private: bool,
    /// `inspection_disturbance` only: the department that came, if known.
    #[serde(default)]
    pub visiting_department_id: Option<i64>,
    /// `inspection_disturbance` only: the day of the visit; default today.
    #[serde(default)]
    pub visited_on: Option<chrono::NaiveDate>,
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: Json<CreateIssue>,
) -> Result<HttpResponse, AppError> {
    if auth.role != Role::Observer {
        return Err(AppError::forbidden());
    }
    let once = Once::json(&req, state.settings.idempotency_ttl, &body.0)?;
    let b = body.0;
    let mut f = Fields::default();
    let title = f.check(parse_text("title", &b.title, 200));
    let description = f.check(parse_paragraph("description", &b.description, 5000));
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
        return Err(AppError::internal("validated fields missing"));
    };
    let reporter = auth.id;
    let app = state.clone();
    let (answer, replayed) = state
        .db
        .write(move |c| {
            let now = db::now();
            once.run(c, reporter, now, |c| {
                file(
                    c,
                    &app.rulebook,
                    reporter,
                    b,
                    (title, description),
                    app.settings.inspection_match_days,
                    now,
                )
            })
        })
        .await?;
    Ok(answer.into_response(replayed))
}

fn file(
    c: &mut db::DbConn,
    rulebook: &Rulebook,
    reporter: i64,
    b: CreateIssue,
    (title, description): (String, String),
    match_days: i64,
    now: chrono::NaiveDateTime,
) -> Result<Answer, AppError> {
    let filing = Filing {
        project_id: b.project_id,
        milestone_id: b.milestone_id,
        category: b.category,
        priority: b.priority.unwrap_or(Priority::Normal),
        title,
        description,
        location: b.location.map(|l| (l.lat, l.lng)),
        private: b.private,
        visit: (b.visiting_department_id.is_some() || b.visited_on.is_some()).then(|| {
            crate::workflow::inspections::Visit {
                visiting_department_id: b.visiting_department_id,
                visited_on: b
                    .visited_on
                    .unwrap_or_else(|| crate::workflow::inspections::county_day(now)),
            }
        }),
        match_days,
    };
    let (row, clock) = filing::file(c, rulebook, reporter, filing, now)?;
    let version = row.version;
    // Only observers file, so the answer is an observer's view.
    let clock = clock.as_ref().map(ClockMarks::from);
    let view = present_with_clock(c, rulebook, row, clock, Reader::Public)?;
    tracing::info!(issue_id = view.facts.id, number = %view.facts.number, "issue filed");
    Ok(Answer::json(StatusCode::CREATED, &view)?
        .header(
            header::LOCATION,
            format!("/api/v1/issues/{}", view.facts.id),
        )
        .header(header::ETAG, etag(version)))
}
