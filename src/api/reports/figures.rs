//! `GET /api/v1/reports/departments`, `/reports/projects` and `/reports/observers`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::api::reports::table::{Cell, Table};
use crate::api::reports::{Figures, Format, Reader, county_today, period, reader, respond};
use crate::auth::AuthUser;
use crate::db::{self, reports::By};
use crate::domain::inspection::InspectionFigures;
use crate::domain::report::{Counts, Period, ratio};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DepartmentRow {
    pub department_id: i64,
    pub department_code: String,
    pub department_name: String,
    #[serde(flatten)]
    pub figures: Figures,
    #[serde(flatten)]
    pub inspections: InspectionFigures,
}

#[derive(Debug, Serialize)]
pub struct Report<T> {
    pub from: String,
    pub to: String,
    pub items: Vec<T>,
}

/// Every department's figures for a period (all departments, also those with no issues).
pub fn department_rows(
    c: &mut db::DbConn,
    p: Period,
    now: NaiveDateTime,
) -> Result<Vec<DepartmentRow>, AppError> {
    let (start, end) = p.utc_bounds();
    let mut counts = db::reports::counts(c, By::Department, start, end, now)?;
    let (mut inspections, _) = inspection_figures(c, p)?;
    Ok(db::reports::departments(c)?
        .into_iter()
        .map(|(id, code, name)| DepartmentRow {
            department_id: id,
            department_code: code,
            department_name: name,
            figures: Figures::new(&counts.remove(&id).unwrap_or_default()),
            inspections: inspections.remove(&id).unwrap_or_default(),
        })
        .collect())
}

/// The period's inspection figures, per department and for the county.
pub fn inspection_figures(
    c: &mut db::DbConn,
    p: Period,
) -> Result<
    (
        std::collections::BTreeMap<i64, InspectionFigures>,
        InspectionFigures,
    ),
    AppError,
> {
    let (start, end) = p.utc_bounds();
    let (filings, visits, alerts) = db::inspections::report_facts(c, p.from, p.to, start, end)?;
    Ok(crate::domain::inspection::figures(
        p.from, p.to, &filings, &visits, &alerts,
    ))
}

/// A table of figures: a code and a name column (key, Chinese header each), then the figures.
fn figures_table<'a>(
    name: &str,
    code: (&'static str, &'static str),
    label: (&'static str, &'static str),
    rows: impl Iterator<Item = (&'a str, &'a str, &'a Figures)>,
) -> Table {
    let mut columns = vec![code, label];
    columns.extend_from_slice(Figures::COLUMNS);
    Table {
        name: name.into(),
        columns,
        rows: rows
            .map(|(code, label, figures)| {
                let mut cells = vec![Cell::Text(code.into()), Cell::Text(label.into())];
                cells.extend(figures.cells());
                cells
            })
            .collect(),
    }
}

pub fn department_table(name: &str, rows: &[DepartmentRow]) -> Table {
    let mut table = figures_table(
        name,
        ("department_code", "单位编码"),
        ("department_name", "责任单位"),
        rows.iter().map(|r| {
            (
                r.department_code.as_str(),
                r.department_name.as_str(),
                &r.figures,
            )
        }),
    );
    table.columns.extend_from_slice(InspectionFigures::COLUMNS);
    for (cells, r) in table.rows.iter_mut().zip(rows) {
        let i = &r.inspections;
        cells.extend([
            Cell::Int(i.inspections_filed),
            Cell::Int(i.unfiled_visits),
            Cell::Int(i.inspection_alerts),
            Cell::Int(i.inspection_ratings),
            Cell::Num(i.inspection_rating_avg),
        ]);
    }
    table
}

/// The format, the period and the time of a figures request.
fn parse(req: &HttpRequest, q: &PeriodQuery) -> Result<(Format, Period, NaiveDateTime), AppError> {
    let format = Format::from_request(req, q.format.as_deref())?;
    let now = db::now();
    let p = period(q.from.as_deref(), q.to.as_deref(), county_today(now))?;
    Ok((format, p, now))
}

fn stem(kind: &str, p: &Period) -> String {
    format!("{kind}-{}-{}", p.from, p.to)
}

pub async fn departments(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let who = reader(&auth, true)?;
    let (format, p, now) = parse(&req, &q)?;
    let mut rows = state.db.read(move |c| department_rows(c, p, now)).await?;
    if let Reader::Department(own) = who {
        rows.retain(|r| r.department_id == own);
    }
    let table = department_table("部门", &rows);
    let report = Report {
        from: p.from.to_string(),
        to: p.to.to_string(),
        items: rows,
    };
    respond(format, &report, vec![table], &stem("departments", &p)).await
}

#[derive(Debug, Serialize)]
pub struct ProjectRow {
    pub project_id: i64,
    pub project_code: String,
    pub project_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

pub async fn projects(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    reader(&auth, false)?;
    let (format, p, now) = parse(&req, &q)?;
    let rows = state
        .db
        .read(move |c| {
            let (start, end) = p.utc_bounds();
            let mut counts = db::reports::counts(c, By::Project, start, end, now)?;
            Ok(db::reports::projects(c)?
                .into_iter()
                .map(|(id, code, name)| ProjectRow {
                    project_id: id,
                    project_code: code,
                    project_name: name,
                    figures: Figures::new(&counts.remove(&id).unwrap_or_default()),
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let table = figures_table(
        "项目",
        ("project_code", "项目编码"),
        ("project_name", "项目名称"),
        rows.iter()
            .map(|r| (r.project_code.as_str(), r.project_name.as_str(), &r.figures)),
    );
    let report = Report {
        from: p.from.to_string(),
        to: p.to.to_string(),
        items: rows,
    };
    respond(format, &report, vec![table], &stem("projects", &p)).await
}

#[derive(Debug, Serialize)]
pub struct ObserverRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub filed: i64,
    pub closed: i64,
    pub confirmed: i64,
    /// Of the issues filed in the period, the share the observer confirmed fixed.
    pub confirmed_share: Option<f64>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub last_activity_at: Option<NaiveDateTime>,
}

pub async fn observers(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    reader(&auth, false)?;
    let (format, p, _) = parse(&req, &q)?;
    let rows = state
        .db
        .read(move |c| {
            let (start, end) = p.utc_bounds();
            Ok(db::reports::observers(c, start, end)?)
        })
        .await?;
    let rows: Vec<ObserverRow> = rows
        .into_iter()
        .map(|r| ObserverRow {
            user_id: r.id,
            username: r.username,
            display_name: r.display_name,
            filed: r.filed,
            closed: r.closed,
            confirmed: r.confirmed,
            confirmed_share: ratio(r.confirmed, r.filed),
            last_activity_at: r.last_activity,
        })
        .collect();
    let table = Table {
        name: "观察员".into(),
        columns: vec![
            ("username", "账号"),
            ("display_name", "观察员"),
            ("filed", "反映问题数"),
            ("closed", "已闭环"),
            ("confirmed", "确认解决"),
            ("confirmed_share", "确认解决占比"),
            ("last_activity_at", "最近活动时间"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.username.clone()),
                    Cell::Text(r.display_name.clone()),
                    Cell::Int(r.filed),
                    Cell::Int(r.closed),
                    Cell::Int(r.confirmed),
                    Cell::Rate(r.confirmed_share),
                    Cell::Text(
                        r.last_activity_at
                            .map(|t| crate::api::time::rfc3339(&t))
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect(),
    };
    let report = Report {
        from: p.from.to_string(),
        to: p.to.to_string(),
        items: rows,
    };
    respond(format, &report, vec![table], &stem("observers", &p)).await
}

/// Counts of the whole county for a period.
pub fn county(c: &mut db::DbConn, p: Period, now: NaiveDateTime) -> Result<Counts, AppError> {
    let (start, end) = p.utc_bounds();
    Ok(db::reports::counts(c, By::County, start, end, now)?
        .remove(&0)
        .unwrap_or_default())
}
