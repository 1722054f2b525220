//! `POST /api/v1/projects` (supervisor, admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::Fields;
use crate::api::extract::{Json, etag};
use crate::api::projects::{check_department, check_observers, may_manage, view::ProjectView};
use crate::auth::AuthUser;
use crate::db::{self, projects};
use crate::domain::department::parse_code;
use crate::domain::issue::Stage;
use crate::domain::user::parse_text;
use crate::error::{AppError, ErrorCode, FieldError, is_unique_violation};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub lead_department_id: Option<i64>,
    #[serde(default)]
    pub park: Option<String>,
    #[serde(default)]
    pub chain_group: Option<String>,
    #[serde(default)]
    pub investment_wan: Option<f64>,
    #[serde(default)]
    pub enterprise: Option<String>,
    #[serde(default)]
    pub contact_person: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub stage: Option<Stage>,
    #[serde(default)]
    pub observer_ids: Vec<i64>,
}

/// An optional short text: trimmed, at most `max` characters; empty means none.
pub(crate) fn optional_text(
    f: &mut Fields,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let raw = raw?;
    if raw.trim().is_empty() {
        return None;
    }
    f.check(parse_text(field, raw, max))
}

pub(crate) fn check_investment(f: &mut Fields, v: Option<f64>) {
    if let Some(v) = v
        && !(v.is_finite() && (0.0..1e12).contains(&v))
    {
        f.push(FieldError::new(
            "investment_wan",
            "invalid",
            "must be a non-negative amount in 万元",
        ));
    }
}

pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CreateProject>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let b = body.0;
    let mut f = Fields::default();
    let code = f.check(parse_code("code", &b.code));
    let name = f.check(parse_text("name", &b.name, 200));
    let park = optional_text(&mut f, "park", b.park.as_deref(), 100);
    let chain_group = optional_text(&mut f, "chain_group", b.chain_group.as_deref(), 100);
    let enterprise = optional_text(&mut f, "enterprise", b.enterprise.as_deref(), 200);
    let contact_person = optional_text(&mut f, "contact_person", b.contact_person.as_deref(), 100);
    let contact_phone = optional_text(&mut f, "contact_phone", b.contact_phone.as_deref(), 40);
    let agent = optional_text(&mut f, "agent", b.agent.as_deref(), 100);
    check_investment(&mut f, b.investment_wan);
    f.finish()?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::internal("validated fields missing"));
    };
    let (row, observers) = state
        .db
        .write(move |c| {
            check_department(c, "lead_department_id", b.lead_department_id)?;
            let observers = check_observers(c, &b.observer_ids)?;
            let now = db::now();
            let row = projects::insert(
                c,
                &projects::NewProject {
                    code,
                    name,
                    lead_department_id: b.lead_department_id,
                    park,
                    chain_group,
                    investment_wan: b.investment_wan,
                    enterprise,
                    contact_person,
                    contact_phone,
                    agent,
                    stage: b.stage.unwrap_or(Stage::Signed).as_str().to_string(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::with_detail(ErrorCode::Conflict, "a project with this code exists")
                } else {
                    e.into()
                }
            })?;
            projects::set_observers(c, row.id, &observers)?;
            Ok((row, observers))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/projects/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(ProjectView::new(row, observers)))
}
