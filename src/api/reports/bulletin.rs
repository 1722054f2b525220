//! `GET /api/v1/reports/monthly?month=YYYY-MM` (the bulletin, 月通报) and
//! `GET /api/v1/reports/ranking?quarter=YYYY-Qn` (the ranking, 季排名).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::api::reports::figures::{
    DepartmentRow, county, department_rows, department_table, inspection_figures,
};
use crate::api::reports::table::{Cell, Table};
use crate::api::reports::{Figures, Format, reader, respond};
use crate::auth::AuthUser;
use crate::db;
use crate::domain::inspection::InspectionFigures;
use crate::domain::report::{self, Candidate, Period};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    pub month: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct QuarterQuery {
    pub quarter: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankingRow {
    pub rank: Option<i64>,
    pub department_id: i64,
    pub department_code: String,
    pub department_name: String,
    pub score: Option<f64>,
    /// Received at least the minimum number of issues (and has a score).
    pub eligible: bool,
    pub received: i64,
    pub ack_on_time_rate: Option<f64>,
    pub resolve_on_time_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub closure_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub return_rate: Option<f64>,
}

/// The departments of a period, ranked.
fn ranking(rows: &[DepartmentRow], min_issues: i64) -> Vec<RankingRow> {
    let candidates: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            department_id: r.department_id,
            code: r.department_code.clone(),
            received: r.figures.received,
            score: report::score(&rates(&r.figures)),
            resolve_on_time_rate: r.figures.resolve_on_time_rate,
        })
        .collect();
    report::rank(&candidates, min_issues)
        .into_iter()
        .map(|(i, rank)| {
            let r = &rows[i];
            let f = &r.figures;
            RankingRow {
                rank,
                department_id: r.department_id,
                department_code: r.department_code.clone(),
                department_name: r.department_name.clone(),
                score: candidates[i].score,
                eligible: rank.is_some(),
                received: f.received,
                ack_on_time_rate: f.ack_on_time_rate,
                resolve_on_time_rate: f.resolve_on_time_rate,
                satisfaction_rate: f.satisfaction_rate,
                closure_rate: f.closure_rate,
                reopen_rate: f.reopen_rate,
                return_rate: f.return_rate,
            }
        })
        .collect()
}

fn rates(f: &Figures) -> report::Rates {
    report::Rates {
        ack_on_time_rate: f.ack_on_time_rate,
        resolve_on_time_rate: f.resolve_on_time_rate,
        closure_rate: f.closure_rate,
        return_rate: f.return_rate,
        reopen_rate: f.reopen_rate,
        rating_avg: f.rating_avg,
        satisfaction_rate: f.satisfaction_rate,
        ack_hours_median: f.ack_hours_median,
        ack_hours_p90: f.ack_hours_p90,
        resolve_hours_median: f.resolve_hours_median,
        resolve_hours_p90: f.resolve_hours_p90,
    }
}

fn ranking_table(rows: &[RankingRow]) -> Table {
    Table {
        name: "排名".into(),
        columns: vec![
            ("rank", "名次"),
            ("department_code", "单位编码"),
            ("department_name", "责任单位"),
            ("score", "综合得分"),
            ("eligible", "参与排名"),
            ("received", "收到问题数"),
            ("ack_on_time_rate", "按时签收率"),
            ("resolve_on_time_rate", "按时办结率"),
            ("satisfaction_rate", "满意率"),
            ("closure_rate", "闭环率"),
            ("reopen_rate", "重办率"),
            ("return_rate", "退单率"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.rank.map_or(Cell::Text("—".into()), Cell::Int),
                    Cell::Text(r.department_code.clone()),
                    Cell::Text(r.department_name.clone()),
                    Cell::Num(r.score),
                    Cell::Text(
                        if r.eligible {
                            "是"
                        } else {
                            "否（问题数不足）"
                        }
                        .into(),
                    ),
                    Cell::Int(r.received),
                    Cell::Rate(r.ack_on_time_rate),
                    Cell::Rate(r.resolve_on_time_rate),
                    Cell::Rate(r.satisfaction_rate),
                    Cell::Rate(r.closure_rate),
                    Cell::Rate(r.reopen_rate),
                    Cell::Rate(r.return_rate),
                ]
            })
            .collect(),
    }
}

#[derive(Debug, Serialize)]
pub struct Weights {
    pub ack_on_time_rate: f64,
    pub resolve_on_time_rate: f64,
    pub satisfaction_rate: f64,
    pub closure_rate: f64,
    pub reopen_penalty_points: f64,
    pub return_penalty_points: f64,
}

const WEIGHTS: Weights = Weights {
    ack_on_time_rate: report::WEIGHT_RESPONSE,
    resolve_on_time_rate: report::WEIGHT_ON_TIME,
    satisfaction_rate: report::WEIGHT_SATISFACTION,
    closure_rate: report::WEIGHT_CLOSURE,
    reopen_penalty_points: report::PENALTY_REOPEN,
    return_penalty_points: report::PENALTY_RETURN,
};

#[derive(Debug, Serialize)]
pub struct Ranking {
    pub quarter: String,
    pub from: String,
    pub to: String,
    pub min_issues: i64,
    pub weights: Weights,
    pub items: Vec<RankingRow>,
}

pub async fn quarterly(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<QuarterQuery>,
) -> Result<HttpResponse, AppError> {
    reader(&auth, false)?;
    let format = Format::from_request(&req, q.format.as_deref())?;
    let raw = q.quarter.clone().ok_or_else(|| {
        AppError::with_detail(ErrorCode::InvalidQuery, "quarter is required, e.g. 2026-Q4")
    })?;
    let p = Period::quarter(&raw).ok_or_else(|| {
        AppError::with_detail(ErrorCode::InvalidQuery, "quarter must look like 2026-Q4")
    })?;
    let now = db::now();
    let min = state.settings.ranking_min_issues;
    let rows = state.db.read(move |c| department_rows(c, p, now)).await?;
    let items = ranking(&rows, min);
    let table = ranking_table(&items);
    let body = Ranking {
        quarter: raw.clone(),
        from: p.from.to_string(),
        to: p.to.to_string(),
        min_issues: min,
        weights: WEIGHTS,
        items,
    };
    respond(format, &body, vec![table], &format!("ranking-{raw}")).await
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub filed: i64,
    pub acknowledged: i64,
    pub resolved: i64,
    pub closed: i64,
    pub returned: i64,
    pub reopened: i64,
    pub chases: i64,
    pub ack_on_time_rate: Option<f64>,
    pub resolve_on_time_rate: Option<f64>,
    pub closure_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub rating_avg: Option<f64>,
    pub overdue_now: i64,
    /// The month's inspections (docs/reports.md).
    pub inspections: InspectionFigures,
}

impl Totals {
    fn new(c: &report::Counts, inspections: InspectionFigures) -> Totals {
        let r = c.rates();
        Totals {
            filed: c.received,
            acknowledged: c.acknowledged,
            resolved: c.resolved,
            closed: c.closed,
            returned: c.returned,
            reopened: c.reopened,
            chases: c.chases,
            ack_on_time_rate: r.ack_on_time_rate,
            resolve_on_time_rate: r.resolve_on_time_rate,
            closure_rate: r.closure_rate,
            satisfaction_rate: r.satisfaction_rate,
            rating_avg: r.rating_avg,
            overdue_now: c.overdue_now,
            inspections,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OverdueIssue {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub status: String,
    pub project_name: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub ack_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub resolve_due_at: Option<NaiveDateTime>,
    pub escalation_level: i64,
}

/// A department's movement against the previous month (`null` where either month has no data).
#[derive(Debug, Serialize)]
pub struct Change {
    pub department_id: i64,
    pub department_name: String,
    pub received_change: i64,
    pub closure_rate_change: Option<f64>,
    pub resolve_on_time_rate_change: Option<f64>,
    pub satisfaction_rate_change: Option<f64>,
    pub score_change: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Bulletin {
    pub month: String,
    pub from: String,
    pub to: String,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub generated_at: NaiveDateTime,
    pub totals: Totals,
    pub previous_totals: Totals,
    pub departments: Vec<DepartmentRow>,
    /// The month's ranking: the best and worst of the departments with enough issues.
    pub best: Vec<RankingRow>,
    pub worst: Vec<RankingRow>,
    pub changes: Vec<Change>,
    /// Issues overdue at the time of the bulletin, whatever month they were filed in.
    pub overdue: Vec<OverdueIssue>,
}

fn diff(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(report::round(a? - b?, 4))
}

pub async fn monthly(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<MonthQuery>,
) -> Result<HttpResponse, AppError> {
    reader(&auth, false)?;
    let format = Format::from_request(&req, q.format.as_deref())?;
    let raw = q.month.clone().ok_or_else(|| {
        AppError::with_detail(ErrorCode::InvalidQuery, "month is required, e.g. 2026-11")
    })?;
    let p = Period::month(&raw).ok_or_else(|| {
        AppError::with_detail(ErrorCode::InvalidQuery, "month must look like 2026-11")
    })?;
    let prev = p
        .previous_month()
        .ok_or_else(|| AppError::with_detail(ErrorCode::InvalidQuery, "no month before that"))?;
    let now = db::now();
    let min = state.settings.ranking_min_issues;
    let (rows, prev_rows, totals, prev_totals, overdue) = state
        .db
        .read(move |c| {
            Ok((
                department_rows(c, p, now)?,
                department_rows(c, prev, now)?,
                (county(c, p, now)?, inspection_figures(c, p)?.1),
                (county(c, prev, now)?, inspection_figures(c, prev)?.1),
                db::reports::overdue_now(c, 500)?,
            ))
        })
        .await?;
    // The ranking, once: its eligible rows give the best and the worst, all of it the sheet.
    let full = ranking(&rows, min);
    let ranked: Vec<RankingRow> = full.iter().filter(|r| r.eligible).cloned().collect();
    let best: Vec<RankingRow> = ranked.iter().take(3).cloned().collect();
    let worst: Vec<RankingRow> = ranked.iter().rev().take(3).cloned().collect();
    let changes = changes(&rows, &prev_rows);
    let overdue: Vec<OverdueIssue> = overdue
        .into_iter()
        .map(|o| OverdueIssue {
            id: o.id,
            number: o.number,
            title: o.title,
            status: o.status,
            project_name: o.project_name,
            department_id: o.department_id,
            department_name: o.department_name,
            ack_due_at: o.ack_due_at,
            resolve_due_at: o.resolve_due_at,
            escalation_level: o.escalation_level,
        })
        .collect();
    let tables = vec![
        department_table("部门", &rows),
        ranking_table(&full),
        overdue_table(&overdue),
        changes_table(&changes),
    ];
    let body = Bulletin {
        month: raw.clone(),
        from: p.from.to_string(),
        to: p.to.to_string(),
        generated_at: now,
        totals: Totals::new(&totals.0, totals.1),
        previous_totals: Totals::new(&prev_totals.0, prev_totals.1),
        departments: rows,
        best,
        worst,
        changes,
        overdue,
    };
    respond(format, &body, tables, &format!("bulletin-{raw}")).await
}

/// Each department's month against the month before.
fn changes(rows: &[DepartmentRow], prev_rows: &[DepartmentRow]) -> Vec<Change> {
    rows.iter()
        .map(|r| {
            let before = prev_rows
                .iter()
                .find(|b| b.department_id == r.department_id);
            let (f, b) = (&r.figures, before.map(|b| &b.figures));
            Change {
                department_id: r.department_id,
                department_name: r.department_name.clone(),
                received_change: f.received - b.map_or(0, |b| b.received),
                closure_rate_change: diff(f.closure_rate, b.and_then(|b| b.closure_rate)),
                resolve_on_time_rate_change: diff(
                    f.resolve_on_time_rate,
                    b.and_then(|b| b.resolve_on_time_rate),
                ),
                satisfaction_rate_change: diff(
                    f.satisfaction_rate,
                    b.and_then(|b| b.satisfaction_rate),
                ),
                score_change: diff(
                    report::score(&rates(f)),
                    b.and_then(|b| report::score(&rates(b))),
                ),
            }
        })
        .collect()
}

/// The workbook's sheet of overdue issues (超期问题).
fn overdue_table(overdue: &[OverdueIssue]) -> Table {
    Table {
        name: "超期问题".into(),
        columns: vec![
            ("number", "编号"),
            ("title", "问题"),
            ("project_name", "项目"),
            ("department_name", "责任单位"),
            ("status", "状态"),
            ("resolve_due_at", "办结期限"),
            ("escalation_level", "升级级别"),
        ],
        rows: overdue
            .iter()
            .map(|o| {
                vec![
                    Cell::Text(o.number.clone()),
                    Cell::Text(o.title.clone()),
                    Cell::Text(o.project_name.clone()),
                    Cell::Text(o.department_name.clone().unwrap_or_default()),
                    Cell::Text(o.status.clone()),
                    Cell::Text(
                        o.resolve_due_at
                            .map(|t| crate::api::time::rfc3339(&t))
                            .unwrap_or_default(),
                    ),
                    Cell::Int(o.escalation_level),
                ]
            })
            .collect(),
    }
}

/// The workbook's sheet of changes against the month before (环比).
fn changes_table(changes: &[Change]) -> Table {
    Table {
        name: "环比".into(),
        columns: vec![
            ("department_name", "责任单位"),
            ("received_change", "收到问题数变化"),
            ("closure_rate_change", "闭环率变化"),
            ("resolve_on_time_rate_change", "按时办结率变化"),
            ("satisfaction_rate_change", "满意率变化"),
            ("score_change", "综合得分变化"),
        ],
        rows: changes
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.department_name.clone()),
                    Cell::Int(c.received_change),
                    Cell::Rate(c.closure_rate_change),
                    Cell::Rate(c.resolve_on_time_rate_change),
                    Cell::Rate(c.satisfaction_rate_change),
                    Cell::Num(c.score_change),
                ]
            })
            .collect(),
    }
}
