//! `PATCH /api/v1/inspections/{id}` (the filing department's staff and heads): change or
//! cancel it before it happens, or record that it took place and what it found.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::Fields;
use crate::api::extract::{Json, Precondition, etag};
use crate::api::inspections::{check_texts, present};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::inspection::InspectionStatus;
use crate::domain::user::parse_paragraph;
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::inspections::{self, Edit};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateInspection {
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub planned_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::api::double_option")]
    pub window_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::double_option")]
    pub window_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub purpose: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub basis: Option<String>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub inspectors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub joint_department_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub status: Option<InspectionStatus>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub took_place_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::api::non_null")]
    pub outcome: Option<String>,
}

pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<UpdateInspection>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let expected = Precondition::from_request(&req)?;
    let b = body.0;
    let mut f = Fields::default();
    let t = check_texts(
        &mut f,
        b.purpose.as_deref(),
        b.basis.as_deref(),
        b.window_from.as_ref().map(|w| w.as_deref()),
        b.window_until.as_ref().map(|w| w.as_deref()),
        b.inspectors.as_deref(),
    );
    let outcome = b
        .outcome
        .as_deref()
        .and_then(|v| f.check(parse_paragraph("outcome", v, 2000)));
    f.finish()?;
    let edit = Edit {
        planned_on: b.planned_on,
        window_from: t.window_from,
        window_until: t.window_until,
        purpose: t.purpose,
        basis: t.basis,
        inspectors: t.inspectors,
        joint_department_ids: b.joint_department_ids,
        status: b.status,
        took_place_on: b.took_place_on,
        outcome,
    };
    let actor = auth.actor();
    let (version, view) = state
        .db
        .write(move |c| {
            let (row, _) = inspections::change(c, &actor, id, expected.0, edit, db::now())?;
            let version = row.version;
            let view = present(c, &actor, vec![row])?
                .pop()
                .ok_or_else(|| AppError::internal("presented nothing"))?;
            Ok((version, view))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(view))
}
