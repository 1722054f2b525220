//! Issues (问题): filing, reading, the lifecycle transitions, comments and the timeline.
//! Who may see and do what is decided in `workflow::access`.

pub mod comments;
pub mod create;
pub mod events;
pub mod get;
pub mod list;
pub mod transition;
pub mod view;

pub(crate) use crate::workflow::access::{scope, sees_internal};

use crate::db::{self, DbConn, issues::IssueRow, sla::ClockMarks};
use crate::error::AppError;
use crate::workflow::sla::Calendars;
use view::{IssueView, SlaView};

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
/// as of now, walked on the calendar `calendars` holds.
pub(crate) fn present(
    c: &mut DbConn,
    calendars: &Calendars,
    rows: Vec<(IssueRow, Option<ClockMarks>)>,
    reader: Reader,
) -> Result<Vec<IssueView>, AppError> {
    let cal = calendars.current(c)?;
    let now = db::now();
    // The visits reported by inspection_disturbance issues (few), in one query.
    let disturbances: Vec<i64> = rows
        .iter()
        .filter(|(r, _)| {
            r.category == crate::domain::issue::Category::InspectionDisturbance.as_str()
        })
        .map(|(r, _)| r.id)
        .collect();
    let visits = if disturbances.is_empty() {
        Vec::new()
    } else {
        db::inspections::visits_of(c, &disturbances)?
    };
    Ok(rows
        .into_iter()
        .map(|(row, clock)| {
            let sla = SlaView::new(&row, clock.as_ref(), &cal, now);
            let visit = visits.iter().find(|v| v.issue_id == row.id);
            let mut view = IssueView::from(row).with_sla(sla);
            if let Some(v) = visit {
                view = view.with_visit(v);
            }
            match reader {
                Reader::Internal => view,
                Reader::Public => view.without_internal_facts(),
            }
        })
        .collect())
}

/// One issue as the API shows it to `reader`.
pub(crate) fn present_one(
    c: &mut DbConn,
    calendars: &Calendars,
    row: IssueRow,
    reader: Reader,
) -> Result<IssueView, AppError> {
    let clock = db::sla::marks(c, row.id)?;
    present_with_clock(c, calendars, row, clock, reader)
}

/// One issue whose clock the caller already holds.
pub(crate) fn present_with_clock(
    c: &mut DbConn,
    calendars: &Calendars,
    row: IssueRow,
    clock: Option<ClockMarks>,
    reader: Reader,
) -> Result<IssueView, AppError> {
    present(c, calendars, vec![(row, clock)], reader)?
        .pop()
        .ok_or_else(|| AppError::internal("presented nothing"))
}
