//! Supervisors' reports (报表): figures per department, project and observer for a period,
//! the monthly bulletin (月通报) and the quarterly ranking (季排名), each as JSON, CSV or
//! XLSX. Counting is SQL (`db::reports`); the rules are `domain::report`; the definitions
//! are `docs/reports.md`.

pub mod bulletin;
pub mod figures;
pub mod table;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::auth::AuthUser;
use crate::domain::report::{Counts, Period, Rates};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use table::{Cell, Table};

/// How a report is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    /// `format=` wins; else the `Accept` header; else JSON.
    pub fn from_request(req: &HttpRequest, format: Option<&str>) -> Result<Format, AppError> {
        match format {
            Some("json") => return Ok(Format::Json),
            Some("csv") => return Ok(Format::Csv),
            Some("xlsx") => return Ok(Format::Xlsx),
            Some(_) => {
                return Err(AppError::with_detail(
                    ErrorCode::InvalidQuery,
                    "format must be json, csv or xlsx",
                ));
            }
            None => {}
        }
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(if accept.contains("text/csv") {
            Format::Csv
        } else if accept.contains(XLSX_TYPE) {
            Format::Xlsx
        } else {
            Format::Json
        })
    }
}

/// Who may read reports: supervisors and admins everything; a department head the rows of
/// their own department (`Some(id)`) in the department report only.
pub enum Reader {
    All,
    Department(i64),
}

pub fn reader(auth: &AuthUser, heads_allowed: bool) -> Result<Reader, AppError> {
    match auth.role {
        Role::Supervisor | Role::Admin => Ok(Reader::All),
        Role::DepartmentHead if heads_allowed => auth
            .department_id
            .map(Reader::Department)
            .ok_or_else(AppError::forbidden),
        _ => Err(AppError::forbidden()),
    }
}

fn date(name: &str, raw: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        AppError::with_detail(
            ErrorCode::InvalidQuery,
            format!("{name} must be a date YYYY-MM-DD"),
        )
    })
}

/// `from` and `to` (dates, inclusive, county time); by default the current month to today.
pub fn period(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Period, AppError> {
    let from = match from {
        Some(f) => date("from", f)?,
        None => today.with_day0(0).unwrap_or(today),
    };
    let to = match to {
        Some(t) => date("to", t)?,
        None => today,
    };
    Period::new(from, to).map_err(|e| AppError::with_detail(ErrorCode::InvalidQuery, e))
}

use chrono::Datelike;

/// Today in the county.
pub fn county_today(now: NaiveDateTime) -> NaiveDate {
    (now + chrono::Duration::hours(8)).date()
}

/// The figures every department and project row carries (DESIGN §10 names).
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub received: i64,
    pub held: i64,
    pub acknowledged: i64,
    pub acknowledged_on_time: i64,
    pub ack_on_time_rate: Option<f64>,
    pub resolved: i64,
    pub resolved_on_time: i64,
    pub resolve_on_time_rate: Option<f64>,
    pub closed: i64,
    pub closure_rate: Option<f64>,
    pub returned: i64,
    pub return_rate: Option<f64>,
    pub reopened: i64,
    pub reopen_rate: Option<f64>,
    pub extensions_requested: i64,
    pub extensions_granted: i64,
    pub chases: i64,
    pub rating_avg: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub ack_hours_median: Option<f64>,
    pub ack_hours_p90: Option<f64>,
    pub resolve_hours_median: Option<f64>,
    pub resolve_hours_p90: Option<f64>,
    pub overdue_now: i64,
}

impl Figures {
    pub fn new(c: &Counts) -> Figures {
        let r: Rates = c.rates();
        Figures {
            received: c.received,
            held: c.held,
            acknowledged: c.acknowledged,
            acknowledged_on_time: c.acknowledged_on_time,
            ack_on_time_rate: r.ack_on_time_rate,
            resolved: c.resolved,
            resolved_on_time: c.resolved_on_time,
            resolve_on_time_rate: r.resolve_on_time_rate,
            closed: c.closed,
            closure_rate: r.closure_rate,
            returned: c.returned,
            return_rate: r.return_rate,
            reopened: c.reopened,
            reopen_rate: r.reopen_rate,
            extensions_requested: c.extensions_requested,
            extensions_granted: c.extensions_granted,
            chases: c.chases,
            rating_avg: r.rating_avg,
            satisfaction_rate: r.satisfaction_rate,
            ack_hours_median: r.ack_hours_median,
            ack_hours_p90: r.ack_hours_p90,
            resolve_hours_median: r.resolve_hours_median,
            resolve_hours_p90: r.resolve_hours_p90,
            overdue_now: c.overdue_now,
        }
    }

    pub const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("received", "收到问题数"),
        ("held", "现办理数"),
        ("acknowledged", "已签收"),
        ("acknowledged_on_time", "按时签收"),
        ("ack_on_time_rate", "按时签收率"),
        ("resolved", "已办结"),
        ("resolved_on_time", "按时办结"),
        ("resolve_on_time_rate", "按时办结率"),
        ("closed", "已闭环"),
        ("closure_rate", "闭环率"),
        ("returned", "退单数"),
        ("return_rate", "退单率"),
        ("reopened", "重新办理数"),
        ("reopen_rate", "重办率"),
        ("extensions_requested", "申请延期"),
        ("extensions_granted", "批准延期"),
        ("chases", "被催办次数"),
        ("rating_avg", "平均评价"),
        ("satisfaction_rate", "满意率"),
        ("ack_hours_median", "签收用时中位数(工作小时)"),
        ("ack_hours_p90", "签收用时P90(工作小时)"),
        ("resolve_hours_median", "办结用时中位数(工作小时)"),
        ("resolve_hours_p90", "办结用时P90(工作小时)"),
        ("overdue_now", "当前超期"),
    ];

    pub fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Int(self.received),
            Cell::Int(self.held),
            Cell::Int(self.acknowledged),
            Cell::Int(self.acknowledged_on_time),
            Cell::Rate(self.ack_on_time_rate),
            Cell::Int(self.resolved),
            Cell::Int(self.resolved_on_time),
            Cell::Rate(self.resolve_on_time_rate),
            Cell::Int(self.closed),
            Cell::Rate(self.closure_rate),
            Cell::Int(self.returned),
            Cell::Rate(self.return_rate),
            Cell::Int(self.reopened),
            Cell::Rate(self.reopen_rate),
            Cell::Int(self.extensions_requested),
            Cell::Int(self.extensions_granted),
            Cell::Int(self.chases),
            Cell::Num(self.rating_avg),
            Cell::Rate(self.satisfaction_rate),
            Cell::Num(self.ack_hours_median),
            Cell::Num(self.ack_hours_p90),
            Cell::Num(self.resolve_hours_median),
            Cell::Num(self.resolve_hours_p90),
            Cell::Int(self.overdue_now),
        ]
    }
}

/// The answer in the format asked for: `json` for JSON; `tables` (the first one only for CSV)
/// for the files, named `file_stem.csv` / `.xlsx`.
pub async fn respond(
    format: Format,
    json: &impl Serialize,
    tables: Vec<Table>,
    file_stem: &str,
) -> Result<HttpResponse, AppError> {
    let disposition = |ext: &str| header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![header::DispositionParam::Filename(format!(
            "{file_stem}.{ext}"
        ))],
    };
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(json)),
        Format::Csv => {
            let first = tables
                .first()
                .ok_or_else(|| AppError::internal("a report without a table"))?;
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(disposition("csv"))
                .body(table::csv(first)))
        }
        Format::Xlsx => {
            // Zipping a workbook is CPU work: off the async workers.
            let bytes =
                crate::db::run_blocking(move || table::xlsx(&tables).map_err(AppError::internal))
                    .await?;
            Ok(HttpResponse::Ok()
                .content_type(XLSX_TYPE)
                .insert_header(disposition("xlsx"))
                .body(bytes))
        }
    }
}
