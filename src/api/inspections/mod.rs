//! Inspection filings (督查报备): `POST/GET /api/v1/inspections`, `GET/PATCH
//! /api/v1/inspections/{id}`, ratings, alerts and their thresholds.

pub mod alerts;
pub mod create;
pub mod list;
pub mod ratings;
pub mod update;

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::api::Fields;
use crate::db::DbConn;
use crate::db::inspections::{self as db_inspections, InspectionRow};
use crate::domain::inspection::{parse_inspectors, parse_time_of_day};
use crate::domain::role::{Actor, Role};
use crate::domain::user::{parse_paragraph, parse_text};
use crate::error::AppError;

/// Ratings are shown once at least this many observers rated, so that a single rating never
/// points at the one observer who could have given it.
pub const MIN_RATINGS_SHOWN: usize = 2;

#[derive(Debug, Serialize)]
pub struct RatingSummary {
    pub count: usize,
    pub average: f64,
    /// The comments, in an order that says nothing of who wrote them or when.
    pub comments: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct InspectionView {
    pub id: i64,
    pub department_id: i64,
    pub project_id: i64,
    pub joint_department_ids: Vec<i64>,
    pub planned_on: NaiveDate,
    pub window_from: Option<String>,
    pub window_until: Option<String>,
    pub purpose: String,
    pub basis: String,
    /// Absent for observers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspectors: Option<Vec<String>>,
    pub status: String,
    pub took_place_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    /// For departments and supervisors, once enough observers rated; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingSummary>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

/// The filings as `actor` may see them: observers without the inspectors' names or ratings.
pub(crate) fn present(
    c: &mut DbConn,
    actor: &Actor,
    rows: Vec<InspectionRow>,
) -> Result<Vec<InspectionView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut joint: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (i, d) in db_inspections::joint_of(c, &ids)? {
        joint.entry(i).or_default().push(d);
    }
    let observer = actor.role == Role::Observer;
    let mut ratings: BTreeMap<i64, Vec<(i32, Option<String>)>> = BTreeMap::new();
    if !observer {
        for (i, score, comment) in db_inspections::ratings_of(c, &ids)? {
            ratings.entry(i).or_default().push((score, comment));
        }
    }
    rows.into_iter()
        .map(|r| {
            let inspectors = if observer {
                None
            } else {
                Some(serde_json::from_str(&r.inspectors).map_err(AppError::internal)?)
            };
            let rating = ratings
                .remove(&r.id)
                .filter(|given| given.len() >= MIN_RATINGS_SHOWN)
                .map(|given| RatingSummary {
                    count: given.len(),
                    average: given.iter().map(|(s, _)| f64::from(*s)).sum::<f64>()
                        / given.len() as f64,
                    comments: given.into_iter().filter_map(|(_, c)| c).collect(),
                });
            Ok(InspectionView {
                id: r.id,
                department_id: r.department_id,
                project_id: r.project_id,
                joint_department_ids: joint.remove(&r.id).unwrap_or_default(),
                planned_on: r.planned_on,
                window_from: r.window_from,
                window_until: r.window_until,
                purpose: r.purpose,
                basis: r.basis,
                inspectors,
                status: r.status,
                took_place_on: r.took_place_on,
                outcome: r.outcome,
                rating,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

/// The text fields of a plan, checked: purpose and basis (paragraphs), the window's times and
/// the inspectors' names.
pub(crate) struct Texts {
    pub purpose: Option<String>,
    pub basis: Option<String>,
    pub window_from: Option<Option<String>>,
    pub window_until: Option<Option<String>>,
    pub inspectors: Option<Vec<String>>,
}

pub(crate) fn check_texts(
    f: &mut Fields,
    purpose: Option<&str>,
    basis: Option<&str>,
    window_from: Option<Option<&str>>,
    window_until: Option<Option<&str>>,
    inspectors: Option<&[String]>,
) -> Texts {
    let time = |f: &mut Fields, field: &str, v: Option<Option<&str>>| {
        v.map(|v| v.and_then(|t| f.check(parse_time_of_day(field, t))))
    };
    Texts {
        purpose: purpose.and_then(|v| f.check(parse_paragraph("purpose", v, 1000))),
        basis: basis.and_then(|v| f.check(parse_text("basis", v, 500))),
        window_from: time(f, "window_from", window_from),
        window_until: time(f, "window_until", window_until),
        inspectors: inspectors.and_then(|v| f.check(parse_inspectors(v))),
    }
}
