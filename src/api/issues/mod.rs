//! Issues (问题): filing, reading, the lifecycle transitions, comments and the timeline.
//! Who may see and do what is decided in `workflow::access`.

pub mod comments;
pub mod create;
pub mod events;
pub mod get;
pub mod list;
pub mod shown;
pub mod transition;
pub mod view;

pub(crate) use crate::workflow::access::{scope, sees_internal};

use crate::db::{self, DbConn, inspections::IssueInspectionRow, issues::IssueRow, sla::ClockMarks};
use crate::error::AppError;
use crate::workflow::rulebook::Rulebook;
use view::{IssueFacts, IssueView, SlaFacts, SlaView, VisitView};

/// Who reads an issue, as far as its view is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// Department users and supervisors (and admins): every fact.
    Internal,
    /// Observers: no escalation level, no pending extension.
    Public,
}

impl Reader {
    pub(crate) fn of(auth: &crate::auth::AuthUser) -> Reader {
        if sees_internal(&auth.actor()) {
            Reader::Internal
        } else {
            Reader::Public
        }
    }
}

/// Issues (each with its clocks) as the API shows them to `reader`, with their SLA clocks
/// as of now, walked on the calendar `rulebook` holds.
pub(crate) fn present(
    c: &mut DbConn,
    rulebook: &Rulebook,
    rows: Vec<(IssueRow, Option<ClockMarks>)>,
    reader: Reader,
) -> Result<Vec<IssueView>, AppError> {
    let rules = rulebook.current(c)?;
    let cal = &rules.calendar;
    let mut counted = cal.from_instant(db::now());
    let visits = visits_of(
        c,
        rows.iter()
            .map(|(r, _)| (r.id, is_disturbance(&r.category))),
    )?;
    Ok(rows
        .into_iter()
        .map(|(row, clock)| {
            let sla = SlaView::new(&SlaFacts::of(&row), clock.as_ref(), &mut counted);
            let visit = visits
                .iter()
                .find(|v| v.issue_id == row.id)
                .map(VisitView::from);
            IssueView {
                facts: IssueFacts::from(row).for_reader(reader),
                sla,
                visit,
            }
        })
        .collect())
}

/// Whether an issue of this category reports an inspection's visit.
pub(crate) fn is_disturbance(category: &str) -> bool {
    category == crate::domain::issue::Category::InspectionDisturbance.as_str()
}

/// The visits reported by those of `issues` (id, whether it reports a visit) that report
/// one: few, read in one query, and none when no issue reports one.
pub(crate) fn visits_of(
    c: &mut DbConn,
    issues: impl Iterator<Item = (i64, bool)>,
) -> Result<Vec<IssueInspectionRow>, AppError> {
    let disturbances: Vec<i64> = issues.filter(|(_, d)| *d).map(|(id, _)| id).collect();
    if disturbances.is_empty() {
        return Ok(Vec::new());
    }
    Ok(db::inspections::visits_of(c, &disturbances)?)
}

/// One issue as the API shows it to `reader`.
pub(crate) fn present_one(
    c: &mut DbConn,
    rulebook: &Rulebook,
    row: IssueRow,
    reader: Reader,
) -> Result<IssueView, AppError> {
    let clock = db::sla::marks(c, row.id)?;
    present_with_clock(c, rulebook, row, clock, reader)
}

/// One issue whose clock the caller already holds.
pub(crate) fn present_with_clock(
    c: &mut DbConn,
    rulebook: &Rulebook,
    row: IssueRow,
    clock: Option<ClockMarks>,
    reader: Reader,
) -> Result<IssueView, AppError> {
    present(c, rulebook, vec![(row, clock)], reader)?
        .pop()
        .ok_or_else(|| AppError::internal("presented nothing"))
}
