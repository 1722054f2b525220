//! Filing an issue: checks, numbering and routing in the caller's write transaction.
//! Used by `POST /api/v1/issues` and by the demo loader.

use chrono::{Datelike, FixedOffset, NaiveDateTime};
use serde_json::json;

use crate::db::sla::ClockRow;
use crate::db::{self, DbConn, issues};
use crate::domain::issue::{Category, Priority, Status, issue_number};
use crate::domain::lifecycle::EventKind;
use crate::domain::routing::{self, Decision};
use crate::error::AppError;
use crate::workflow::rulebook::{Rulebook, Rules};
use crate::workflow::{inspections, sla};

/// The county keeps Beijing time (UTC+8, no daylight saving): an issue filed at 01:00 on
/// 1 January local time belongs to the new year.
pub fn county_year(now: NaiveDateTime) -> i32 {
    match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => now.and_utc().with_timezone(&offset).year(),
        None => now.year(),
    }
}

/// What is filed, after the fields were checked one by one.
#[derive(Debug, Clone)]
pub struct Filing {
    pub project_id: i64,
    pub milestone_id: Option<i64>,
    pub category: Category,
    pub priority: Priority,
    pub title: String,
    pub description: String,
    pub location: Option<(f64, f64)>,
    pub private: bool,
    /// For an `inspection_disturbance` issue: the visit it reports (default: an unnamed
    /// department, today), matched with filings this many days either side.
    pub visit: Option<crate::workflow::inspections::Visit>,
    pub match_days: i64,
}

/// Files an issue for `reporter` (an observer who must follow the project) at `now`: its
/// row, and its clocks when it went straight to a department.
pub fn file(
    c: &mut DbConn,
    rulebook: &Rulebook,
    reporter: i64,
    b: Filing,
    now: NaiveDateTime,
) -> Result<(issues::IssueRow, Option<ClockRow>), AppError> {
    let (project, milestone) = place(c, reporter, &b)?;
    let rules = rulebook.fresh(c)?;
    let visit = visit_of(c, &b, now)?;
    let matched = match visit {
        Some(v) => inspections::match_visit(c, project.id, v, b.match_days)?,
        None => None,
    };
    let decision = match (visit, &matched) {
        (Some(_), Some(m)) => Decision::Inspection {
            inspection_id: m.id,
            department_id: m.department_id,
        },
        (
            Some(inspections::Visit {
                visiting_department_id: Some(d),
                ..
            }),
            None,
        ) => Decision::UnfiledInspection { department_id: d },
        (Some(_), None) => Decision::Unassigned,
        (None, _) => decide_route(&rules, &b, &project, milestone.as_ref()),
    };
    let number = issue_number(county_year(now), issues::next_number(c, county_year(now))?);
    let status = match decision {
        Decision::Unassigned => Status::Unassigned,
        _ => Status::Assigned,
    };
    // The clocks are worked out first, so that the issue is inserted with its deadlines
    // and the notices (the department's webhook among them) carry them.
    let started = match decision.department_id() {
        Some(_) => {
            let policy = rules.policy(b.category.as_str(), b.priority.as_str());
            Some(sla::plan_start(&rules.calendar, &policy, now)?)
        }
        None => None,
    };
    let row = issues::insert(
        c,
        &issues::NewIssue {
            number,
            project_id: project.id,
            milestone_id: milestone.as_ref().map(|m| m.id),
            reporter_id: reporter,
            category: b.category.as_str().to_string(),
            priority: b.priority.as_str().to_string(),
            title: b.title,
            description: b.description,
            lat: b.location.map(|l| l.0),
            lng: b.location.map(|l| l.1),
            private: b.private,
            status,
            department_id: decision.department_id(),
            ack_due_at: started.as_ref().map(|s| s.ack_due),
            resolve_due_at: started.as_ref().map(|s| s.resolve_due),
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    record_filing(c, &row, reporter, decision)?;
    if let Some(v) = visit {
        inspections::record_visit(c, &row, v, matched.as_ref(), now)?;
    }
    let clock = match started {
        Some(s) => Some(s.record_new(c, row.id)?),
        None => None,
    };
    crate::notify::outbox::after_filing(c, &row)?;
    Ok((row, clock))
}

/// The visit an `inspection_disturbance` issue reports (today when no day is given); other
/// categories report none and may not name one.
fn visit_of(
    c: &mut DbConn,
    b: &Filing,
    now: NaiveDateTime,
) -> Result<Option<inspections::Visit>, AppError> {
    if b.category != Category::InspectionDisturbance {
        if b.visit.is_some() {
            return Err(AppError::field(
                "visiting_department_id",
                "not_allowed",
                "only an inspection_disturbance issue reports a visit",
            ));
        }
        return Ok(None);
    }
    let visit = b.visit.unwrap_or(inspections::Visit {
        visiting_department_id: None,
        visited_on: inspections::county_day(now),
    });
    if let Some(d) = visit.visiting_department_id
        && !db::departments::exists(c, d)?
    {
        return Err(AppError::field(
            "visiting_department_id",
            "unknown",
            "no department has this id",
        ));
    }
    if visit.visited_on > inspections::county_day(now) {
        return Err(AppError::field(
            "visited_on",
            "in_the_future",
            "a visit is reported once it happened",
        ));
    }
    Ok(Some(visit))
}

/// The project (followed by the reporter) and the milestone (of that project) an issue is
/// filed on.
fn place(
    c: &mut DbConn,
    reporter: i64,
    b: &Filing,
) -> Result<
    (
        db::projects::ProjectRow,
        Option<db::milestones::MilestoneRow>,
    ),
    AppError,
> {
    let (project, follows) = db::projects::find_followed(c, b.project_id, reporter)?
        .ok_or_else(|| AppError::field("project_id", "unknown", "no project has this id"))?;
    if !follows {
        return Err(AppError::field(
            "project_id",
            "not_followed",
            "you do not follow this project",
        ));
    }
    let milestone = match b.milestone_id {
        Some(id) => Some(
            db::milestones::find(c, id)?
                .filter(|m| m.project_id == project.id)
                .ok_or_else(|| {
                    AppError::field(
                        "milestone_id",
                        "unknown",
                        "no milestone of this project has this id",
                    )
                })?,
        ),
        None => None,
    };
    Ok((project, milestone))
}

/// Where the issue goes: the routing rules of its category, then the milestone's
/// department, then the project's lead (`domain::routing`).
fn decide_route(
    rules: &Rules,
    b: &Filing,
    project: &db::projects::ProjectRow,
    milestone: Option<&db::milestones::MilestoneRow>,
) -> Decision {
    routing::route(
        &routing::Target {
            category: b.category.as_str(),
            park: project.park.as_deref(),
            milestone_kind: milestone.map(|m| m.kind.as_str()),
            milestone_department: milestone.and_then(|m| m.responsible_department_id),
            project_lead_department: project.lead_department_id,
        },
        rules.routes(),
    )
}

/// The first events of an issue: it was filed, and where routing sent it.
fn record_filing(
    c: &mut DbConn,
    row: &issues::IssueRow,
    reporter: i64,
    decision: Decision,
) -> Result<(), AppError> {
    // `row` is the issue as inserted: the events are addressed to its department.
    let filed = json!({ "number": row.number, "category": row.category, "priority": row.priority, "status": row.status });
    let routed = json!(decision);
    let event = |kind, actor_id, data| issues::Event {
        kind,
        actor_id,
        at: row.created_at,
        data,
        internal: false,
    };
    issues::add_events_on(
        c,
        row,
        [
            &event(EventKind::Filed, Some(reporter), &filed),
            &event(EventKind::Routed, None, &routed),
        ],
    )?;
    if let Some(d) = decision.department_id() {
        issues::remember_first_department(c, row, d)?;
    }
    Ok(())
}
