//! `GET/PUT /api/v1/calendar/{year}`. A year a supervisor has not set is the shipped
//! official calendar, or, for a year the service knows nothing of, Monday to Friday
//! (`fallback: true`, and a warning in the log). Setting a calendar moves every deadline
//! that is still running.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::api::extract::Json;
use crate::api::projects::may_manage;
use crate::auth::AuthUser;
use crate::db;
use crate::domain::calendar::YearCalendar;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::state::AppState;
use crate::workflow::sla::{self, CalendarSource};

fn check_year(year: i32) -> Result<i32, AppError> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(AppError::with_detail(
            ErrorCode::InvalidPathParameter,
            "year must be 2000 to 2100",
        ))
    }
}

fn view(year: i32, cal: &YearCalendar, source: CalendarSource) -> serde_json::Value {
    json!({
        "year": year,
        "timezone": cal.timezone,
        "weekdays": cal.weekdays,
        "hours": cal.hours,
        "holidays": cal.holidays,
        "workdays": cal.workdays,
        "source": source.as_str(),
        "fallback": source == CalendarSource::Fallback,
    })
}

pub async fn get(
    state: web::Data<AppState>,
    _auth: AuthUser,
    year: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let year = check_year(year.into_inner())?;
    let (cal, source) = state.db.read(move |c| sla::year_calendar(c, year)).await?;
    if source == CalendarSource::Fallback {
        tracing::warn!(
            year,
            "no business calendar for this year: Monday to Friday is assumed"
        );
    }
    Ok(HttpResponse::Ok().json(view(year, &cal, source)))
}

pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    year: web::Path<i32>,
    body: Json<YearCalendar>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let year = check_year(year.into_inner())?;
    let mut cal = body.0;
    cal.holidays.sort_unstable();
    cal.holidays.dedup();
    cal.workdays.sort_unstable();
    cal.workdays.dedup();
    cal.weekdays.sort_unstable();
    cal.weekdays.dedup();
    cal.validate(year).map_err(|reason| {
        AppError::validation(vec![FieldError::new("calendar", "invalid", reason)])
    })?;
    let stored = cal.clone();
    let moved = state
        .db
        .write(move |c| {
            let now = db::now();
            let body = serde_json::to_string(&stored).map_err(AppError::internal)?;
            sla::set_calendar(c, year, &body, now)
        })
        .await;
    state.rulebook.forget();
    let moved = moved?;
    tracing::info!(
        year,
        moved,
        by = auth.id,
        "business calendar set; running deadlines recomputed"
    );
    Ok(HttpResponse::Ok().json(view(year, &cal, CalendarSource::Custom)))
}
