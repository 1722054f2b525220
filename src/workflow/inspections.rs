//! Inspection filings as transaction scripts: filing, changing, cancelling and recording one;
//! matching an observer's reported visit with the filings; counting the inspections of a
//! project unit against the thresholds; anonymous ratings.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::inspections::{self as db_inspections, InspectionChanges, InspectionRow};
use crate::db::{self, DbConn, issues::IssueRow};
use crate::domain::inspection::{self, AlertPeriod, Candidate, InspectionStatus};
use crate::domain::role::{Actor, Role};
use crate::error::{AppError, ErrorCode, FieldError};

/// The county's date (Beijing time) of a stored UTC time.
pub fn county_day(now: NaiveDateTime) -> NaiveDate {
    (now + TimeDelta::hours(8)).date()
}

/// What a department plans.
#[derive(Debug, Clone)]
pub struct Plan {
    pub project_id: i64,
    pub planned_on: NaiveDate,
    pub window_from: Option<String>,
    pub window_until: Option<String>,
    pub purpose: String,
    pub basis: String,
    pub inspectors: Vec<String>,
    pub joint_department_ids: Vec<i64>,
}

/// Whether `actor` works in `department_id` (its staff or head).
fn works_in(actor: &Actor, department_id: i64) -> bool {
    matches!(actor.role, Role::DepartmentStaff | Role::DepartmentHead)
        && actor.department_id == Some(department_id)
}

/// The joining departments: each exists, none is the filer, each once.
fn check_joint(c: &mut DbConn, department_id: i64, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 20 {
        return Err(AppError::field(
            "joint_department_ids",
            "too_long",
            "at most 20 departments join one inspection",
        ));
    }
    for id in &ids {
        if *id == department_id {
            return Err(AppError::field(
                "joint_department_ids",
                "not_allowed",
                "the filing department does not join its own inspection",
            ));
        }
        if !db::departments::exists(c, *id)? {
            return Err(AppError::field(
                "joint_department_ids",
                "unknown",
                format!("no department has the id {id}"),
            ));
        }
    }
    Ok(ids)
}

fn check_window(from: &Option<String>, until: &Option<String>) -> Result<(), AppError> {
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        return Err(AppError::field(
            "window_until",
            "invalid",
            "the window ends after it starts",
        ));
    }
    Ok(())
}

/// A department files a planned inspection, today or later.
pub fn file(
    c: &mut DbConn,
    actor: &Actor,
    department_id: i64,
    plan: Plan,
    now: NaiveDateTime,
) -> Result<(InspectionRow, Vec<i64>), AppError> {
    if !works_in(actor, department_id) {
        return Err(AppError::forbidden());
    }
    if plan.planned_on < county_day(now) {
        return Err(AppError::field(
            "planned_on",
            "in_the_past",
            "an inspection is filed before it happens",
        ));
    }
    check_window(&plan.window_from, &plan.window_until)?;
    if db::projects::find(c, plan.project_id)?.is_none() {
        return Err(AppError::field(
            "project_id",
            "unknown",
            "no project has this id",
        ));
    }
    let joint = check_joint(c, department_id, &plan.joint_department_ids)?;
    db::inspections::lock_project(c, plan.project_id)?;
    let row = db_inspections::insert(
        c,
        &db_inspections::NewInspection {
            department_id,
            project_id: plan.project_id,
            planned_on: plan.planned_on,
            window_from: plan.window_from,
            window_until: plan.window_until,
            purpose: plan.purpose,
            basis: plan.basis,
            inspectors: serde_json::to_string(&plan.inspectors).map_err(AppError::internal)?,
            status: InspectionStatus::Planned.as_str().to_string(),
            filed_by: actor.id,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    db_inspections::set_joint(c, row.id, &joint)?;
    count_against_limits(c, row.project_id, row.planned_on, now)?;
    Ok((row, joint))
}

/// What the filing department changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Edit {
    pub planned_on: Option<NaiveDate>,
    pub window_from: Option<Option<String>>,
    pub window_until: Option<Option<String>>,
    pub purpose: Option<String>,
    pub basis: Option<String>,
    pub inspectors: Option<Vec<String>>,
    pub joint_department_ids: Option<Vec<i64>>,
    /// `cancelled` before it happens, or `done` once it took place.
    pub status: Option<InspectionStatus>,
    pub took_place_on: Option<NaiveDate>,
    pub outcome: Option<String>,
}

/// Changes, cancels or records an inspection (its department's staff and heads), if its
/// version is still `expected` when given.
pub fn change(
    c: &mut DbConn,
    actor: &Actor,
    id: i64,
    expected: Option<i64>,
    edit: Edit,
    now: NaiveDateTime,
) -> Result<(InspectionRow, Vec<i64>), AppError> {
    let current = db_inspections::find(c, id)?.ok_or_else(AppError::not_found)?;
    if !works_in(actor, current.department_id) {
        return Err(if may_read(c, actor, &current)? {
            AppError::forbidden()
        } else {
            AppError::not_found()
        });
    }
    if expected.is_some_and(|v| v != current.version) {
        return Err(AppError::new(ErrorCode::PreconditionFailed));
    }
    let status = InspectionStatus::parse(&current.status)
        .ok_or_else(|| AppError::internal("unknown inspection status"))?;
    let today = county_day(now);
    let plan_changes = edit.planned_on.is_some()
        || edit.window_from.is_some()
        || edit.window_until.is_some()
        || edit.purpose.is_some()
        || edit.basis.is_some()
        || edit.inspectors.is_some()
        || edit.joint_department_ids.is_some();
    let mut changes = InspectionChanges::default();
    let before_it_happens = status == InspectionStatus::Planned && current.planned_on >= today;
    match edit.status {
        Some(InspectionStatus::Done) => {
            if status != InspectionStatus::Planned {
                return Err(AppError::with_detail(
                    ErrorCode::Conflict,
                    "only a planned inspection takes place",
                ));
            }
            let on = edit.took_place_on.unwrap_or(current.planned_on);
            if on > today {
                return Err(AppError::field(
                    "took_place_on",
                    "in_the_future",
                    "an inspection is recorded once it took place",
                ));
            }
            let outcome = edit.outcome.clone().ok_or_else(|| {
                AppError::field("outcome", "required", "what the inspection found")
            })?;
            changes.status = Some(InspectionStatus::Done.as_str().to_string());
            changes.took_place_on = Some(Some(on));
            changes.outcome = Some(Some(outcome));
        }
        Some(InspectionStatus::Cancelled) => {
            if !before_it_happens {
                return Err(AppError::with_detail(
                    ErrorCode::Conflict,
                    "a filing is cancelled only before it happens",
                ));
            }
            changes.status = Some(InspectionStatus::Cancelled.as_str().to_string());
        }
        Some(InspectionStatus::Planned) => {
            return Err(AppError::field(
                "status",
                "not_allowed",
                "set cancelled or done",
            ));
        }
        None => {}
    }
    if plan_changes && !before_it_happens {
        return Err(AppError::with_detail(
            ErrorCode::Conflict,
            "a filing is changed only before it happens",
        ));
    }
    if edit.outcome.is_some() && edit.status != Some(InspectionStatus::Done) {
        return Err(AppError::field(
            "outcome",
            "not_allowed",
            "only with status done",
        ));
    }
    if edit.took_place_on.is_some() && edit.status != Some(InspectionStatus::Done) {
        return Err(AppError::field(
            "took_place_on",
            "not_allowed",
            "only with status done",
        ));
    }
    if let Some(d) = edit.planned_on {
        if d < today {
            return Err(AppError::field(
                "planned_on",
                "in_the_past",
                "an inspection is filed before it happens",
            ));
        }
        changes.planned_on = Some(d);
    }
    let window_from = edit
        .window_from
        .clone()
        .unwrap_or(current.window_from.clone());
    let window_until = edit
        .window_until
        .clone()
        .unwrap_or(current.window_until.clone());
    check_window(&window_from, &window_until)?;
    changes.window_from = edit.window_from;
    changes.window_until = edit.window_until;
    changes.purpose = edit.purpose;
    changes.basis = edit.basis;
    if let Some(names) = &edit.inspectors {
        changes.inspectors = Some(serde_json::to_string(names).map_err(AppError::internal)?);
    }
    let joint = match &edit.joint_department_ids {
        Some(ids) => Some(check_joint(c, current.department_id, ids)?),
        None => None,
    };
    db::inspections::lock_project(c, current.project_id)?;
    if db_inspections::update_if_version(c, id, current.version, &changes, now)? == 0 {
        return Err(AppError::new(if expected.is_some() {
            ErrorCode::PreconditionFailed
        } else {
            ErrorCode::Conflict
        }));
    }
    if let Some(ids) = &joint {
        db_inspections::set_joint(c, id, ids)?;
    }
    let row = db_inspections::find(c, id)?.ok_or_else(AppError::not_found)?;
    if row.planned_on != current.planned_on {
        count_against_limits(c, row.project_id, row.planned_on, now)?;
    }
    let joint = db_inspections::joint(c, id)?;
    Ok((row, joint))
}

/// Whether `actor` may read this filing: supervisors and admins all; a department its own and
/// those it joins; an observer those on the projects they follow.
pub fn may_read(c: &mut DbConn, actor: &Actor, row: &InspectionRow) -> Result<bool, AppError> {
    Ok(match actor.role {
        Role::Supervisor | Role::Admin => true,
        Role::DepartmentStaff | Role::DepartmentHead => match actor.department_id {
            Some(d) => d == row.department_id || db_inspections::joint(c, row.id)?.contains(&d),
            None => false,
        },
        Role::Observer => db::projects::is_follower(c, row.project_id, actor.id)?,
    })
}

/// How many inspections a project unit had in each period around `day` — filings not
/// cancelled (a joint inspection once) and unfiled visits observers reported (one per day and
/// visiting department) — and an alert, to the supervisors, for each threshold newly crossed.
pub fn count_against_limits(
    c: &mut DbConn,
    project_id: i64,
    day: NaiveDate,
    now: NaiveDateTime,
) -> Result<Vec<db_inspections::AlertRow>, AppError> {
    let (limits, _) = db_inspections::limits(c)?;
    let mut raised = Vec::new();
    for period in AlertPeriod::ALL {
        let start = period.start(day);
        let end = period.end(start);
        let filed = db_inspections::count_filed(c, project_id, start, end)?;
        let mut visits: Vec<(NaiveDate, i64)> =
            db_inspections::unfiled_visits(c, project_id, start, end)?
                .into_iter()
                // Several observers reporting one department's visit on one day: one visit.
                .map(|(on, dept, issue)| (on, dept.unwrap_or(-issue)))
                .collect();
        visits.sort_unstable();
        visits.dedup();
        let total = filed + visits.len() as i64;
        for (p, threshold) in inspection::crossed(&limits, &[(*period, total)]) {
            if let Some(alert) = db_inspections::raise_alert(
                c,
                project_id,
                p.as_str(),
                start,
                total,
                threshold,
                now,
            )? {
                crate::notify::outbox::inspection_alert(c, &alert)?;
                raised.push(alert);
            }
        }
    }
    Ok(raised)
}

/// What an `inspection_disturbance` issue reports of the visit.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub visiting_department_id: Option<i64>,
    pub visited_on: NaiveDate,
}

/// The filing a reported visit matches, within `window_days` of its day; `None`: unfiled.
pub fn match_visit(
    c: &mut DbConn,
    project_id: i64,
    visit: Visit,
    window_days: i64,
) -> Result<Option<InspectionRow>, AppError> {
    let window = TimeDelta::days(window_days);
    let rows = db_inspections::on_project_between(
        c,
        project_id,
        visit.visited_on - window,
        visit.visited_on + window,
    )?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let joint = db_inspections::joint_of(c, &ids)?;
    let candidates: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            id: r.id,
            planned_on: r.planned_on,
            department_id: r.department_id,
            joint_department_ids: joint
                .iter()
                .filter(|(i, _)| *i == r.id)
                .map(|(_, d)| *d)
                .collect(),
        })
        .collect();
    let found = inspection::best_match(
        visit.visited_on,
        window_days,
        visit.visiting_department_id,
        &candidates,
    );
    Ok(found.and_then(|id| rows.into_iter().find(|r| r.id == id)))
}

/// Records what the issue reported of the visit and what it matched, counts an unfiled
/// visit against the thresholds and tells the supervisors of it.
pub fn record_visit(
    c: &mut DbConn,
    issue: &IssueRow,
    visit: Visit,
    matched: Option<&InspectionRow>,
    now: NaiveDateTime,
) -> Result<db_inspections::IssueInspectionRow, AppError> {
    let row = db_inspections::IssueInspectionRow {
        issue_id: issue.id,
        project_id: issue.project_id,
        visiting_department_id: visit.visiting_department_id,
        visited_on: visit.visited_on,
        inspection_id: matched.map(|m| m.id),
        unfiled: matched.is_none(),
    };
    db_inspections::insert_issue_visit(c, &row)?;
    if row.unfiled {
        db::inspections::lock_project(c, issue.project_id)?;
        count_against_limits(c, issue.project_id, visit.visited_on, now)?;
        crate::notify::outbox::unfiled_inspection(c, issue)?;
    }
    Ok(row)
}

/// The key a rater is kept under: the same for one observer and one inspection, and telling
/// nothing of the observer without the service's secret.
pub fn rater_key(secret: &[u8], inspection_id: i64, user_id: i64) -> Result<String, AppError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(AppError::internal)?;
    mac.update(format!("inspection-rating:{inspection_id}:{user_id}").as_bytes());
    Ok(crate::encoding::hex(&mac.finalize().into_bytes()))
}

/// An observer of the project rates an inspection that took place, once.
pub fn rate(
    c: &mut DbConn,
    secret: &[u8],
    actor: &Actor,
    id: i64,
    score: i32,
    comment: Option<String>,
) -> Result<(), AppError> {
    let row = db_inspections::find(c, id)?.ok_or_else(AppError::not_found)?;
    if actor.role != Role::Observer || !db::projects::is_follower(c, row.project_id, actor.id)? {
        return Err(if may_read(c, actor, &row)? {
            AppError::forbidden()
        } else {
            AppError::not_found()
        });
    }
    if row.status != InspectionStatus::Done.as_str() {
        return Err(AppError::with_detail(
            ErrorCode::Conflict,
            "an inspection is rated once it took place",
        ));
    }
    if !(1..=5).contains(&score) {
        return Err(AppError::validation(vec![FieldError::new(
            "score",
            "invalid",
            "from 1 to 5",
        )]));
    }
    let key = rater_key(secret, id, actor.id)?;
    if !db_inspections::rate(c, id, &key, score, comment.as_deref())? {
        return Err(AppError::with_detail(
            ErrorCode::Conflict,
            "you rated this inspection already",
        ));
    }
    Ok(())
}
