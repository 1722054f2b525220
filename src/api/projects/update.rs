//! `PATCH /api/v1/projects/{id}` (supervisor, admin), with optional `If-Match`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::extract::{Json, Precondition, etag};
use crate::api::projects::create::{check_investment, optional_text};
use crate::api::projects::{check_department, check_observers, may_manage, view::ProjectView};
use crate::api::{Fields, double_option};
use crate::auth::AuthUser;
use crate::db::{self, projects};
use crate::domain::department::parse_code;
use crate::domain::issue::Stage;
use crate::domain::user::parse_text;
use crate::error::{AppError, ErrorCode, is_unique_violation};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub lead_department_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub park: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub chain_group: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub investment_wan: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub enterprise: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_person: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub agent: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub stage: Option<Stage>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub observer_ids: Option<Vec<i64>>,
}

fn nullable_text(
    f: &mut Fields,
    field: &str,
    v: &Option<Option<String>>,
    max: usize,
) -> Option<Option<String>> {
    match v {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => Some(optional_text(f, field, Some(s), max)),
    }
}

pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<UpdateProject>,
) -> Result<HttpResponse, AppError> {
    if !may_manage(&auth) {
        return Err(AppError::forbidden());
    }
    let id = id.into_inner();
    let expected = Precondition::from_request(&req)?;
    let b = body.0;
    let mut f = Fields::default();
    check_investment(&mut f, b.investment_wan.flatten());
    let changes = projects::ProjectChanges {
        code: b
            .code
            .as_deref()
            .and_then(|v| f.check(parse_code("code", v))),
        name: b
            .name
            .as_deref()
            .and_then(|v| f.check(parse_text("name", v, 200))),
        lead_department_id: b.lead_department_id,
        park: nullable_text(&mut f, "park", &b.park, 100),
        chain_group: nullable_text(&mut f, "chain_group", &b.chain_group, 100),
        investment_wan: b.investment_wan,
        enterprise: nullable_text(&mut f, "enterprise", &b.enterprise, 200),
        contact_person: nullable_text(&mut f, "contact_person", &b.contact_person, 100),
        contact_phone: nullable_text(&mut f, "contact_phone", &b.contact_phone, 40),
        agent: nullable_text(&mut f, "agent", &b.agent, 100),
        stage: b.stage.map(|s| s.as_str().to_string()),
    };
    f.finish()?;
    let (row, observers) = state
        .db
        .write(move |c| {
            let current = db::projects::find(c, id)?.ok_or_else(AppError::not_found)?;
            expected.check(current.version)?;
            if let Some(d) = changes.lead_department_id {
                check_department(c, "lead_department_id", d)?;
            }
            let now = db::now();
            let changed = projects::update_if_version(c, id, current.version, &changes, now)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        AppError::with_detail(
                            ErrorCode::Conflict,
                            "a project with this code exists",
                        )
                    } else {
                        e.into()
                    }
                })?;
            if changed == 0 {
                return Err(expected.lost_race());
            }
            if let Some(ids) = &b.observer_ids {
                let ids = check_observers(c, ids)?;
                let before = projects::observers(c, id)?;
                projects::set_observers(c, id, &ids)?;
                // Delta sync: their issues enter or leave these observers' view.
                let now = db::now();
                for u in before.iter().filter(|u| !ids.contains(u)) {
                    db::visibility::record_following(c, id, *u, false, now)?;
                }
                for u in ids.iter().filter(|u| !before.contains(u)) {
                    db::visibility::record_following(c, id, *u, true, now)?;
                }
            }
            let row = db::projects::find(c, id)?.ok_or_else(AppError::not_found)?;
            Ok((row, db::projects::observers(c, id)?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(ProjectView::new(row, observers)))
}
