//! How an issue, a comment and an event are shown.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::issues::{CommentRow, EventRow, IssueRow};
use crate::db::sla::ClockMarks;
use crate::domain::calendar::WorkingFrom;
use crate::domain::issue::Status;

#[derive(Debug, Serialize)]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
}

/// An issue as the API shows it: its facts, its clocks as of the answer and, for an
/// `inspection_disturbance` issue, the visit it reports. Its JSON is the facts' fields, then
/// `sla`, then the visit's fields (`shown::write_item` writes the same bytes by hand).
#[derive(Debug, Serialize)]
pub struct IssueView {
    #[serde(flatten)]
    pub facts: IssueFacts,
    /// The SLA clocks as of the answer.
    pub sla: SlaView,
    /// An `inspection_disturbance` issue only: the visit it reports and the filing it matched.
    #[serde(flatten)]
    pub visit: Option<VisitView>,
}

/// What an issue's row says: the same for as long as its version and `updated_at` are.
#[derive(Debug, Serialize)]
pub struct IssueFacts {
    pub id: i64,
    pub number: String,
    pub project_id: i64,
    pub milestone_id: Option<i64>,
    pub reporter_id: i64,
    pub category: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    pub location: Option<Location>,
    pub private: bool,
    pub status: Status,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub ack_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub resolve_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub acknowledged_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub resolved_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub closed_at: Option<NaiveDateTime>,
    pub overdue: bool,
    /// Internal: shown to department users and supervisors, absent for observers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<i32>,
    pub rating: Option<i32>,
    pub reopen_count: i32,
    /// Minutes of extension the department asked for and a supervisor has not yet decided.
    /// Internal: absent for observers (the outer `None`); `null` when nothing is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_requested_minutes: Option<Option<i64>>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

/// The visit an `inspection_disturbance` issue reports, and the inspection filing it matched.
#[derive(Debug, Serialize)]
pub struct VisitView {
    pub visiting_department_id: Option<i64>,
    pub visited_on: chrono::NaiveDate,
    pub inspection_id: Option<i64>,
    pub unfiled_inspection: bool,
}

impl From<&crate::db::inspections::IssueInspectionRow> for VisitView {
    fn from(v: &crate::db::inspections::IssueInspectionRow) -> Self {
        VisitView {
            visiting_department_id: v.visiting_department_id,
            visited_on: v.visited_on,
            inspection_id: v.inspection_id,
            unfiled_inspection: v.unfiled,
        }
    }
}

/// One SLA clock: its deadline, its state, and the working time left (negative: overdue by).
#[derive(Debug, Serialize)]
pub struct ClockView {
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub due_at: NaiveDateTime,
    /// `running`, `paused`, `met` or `breached`.
    pub state: &'static str,
    /// Working seconds to the deadline while it runs or is paused; negative once breached.
    pub remaining_seconds: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
pub struct SlaView {
    pub acknowledge: Option<ClockView>,
    pub resolve: Option<ClockView>,
    #[serde(serialize_with = "crate::api::time::serialize_opt")]
    pub auto_close_at: Option<NaiveDateTime>,
}

/// What an issue's clocks are computed from, besides its clock marks.
#[derive(Debug, Clone, Copy)]
pub struct SlaFacts {
    pub status: Status,
    pub ack_due_at: Option<NaiveDateTime>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolve_due_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
}

impl SlaFacts {
    /// Whether the issue's view shows anything of its clock marks: a paused resolve clock
    /// counts from when it stopped, and a resolved issue shows when it closes by itself. Any
    /// other issue's clocks are the same without them, so a page reads the marks of these
    /// issues alone.
    pub fn shows_marks(&self) -> bool {
        matches!(self.status, Status::AwaitingInfo | Status::Resolved)
    }

    pub fn of(i: &IssueRow) -> SlaFacts {
        SlaFacts {
            status: i.status,
            ack_due_at: i.ack_due_at,
            acknowledged_at: i.acknowledged_at,
            resolve_due_at: i.resolve_due_at,
            resolved_at: i.resolved_at,
        }
    }
}

impl SlaView {
    /// The clocks of an issue at the instant `counted` counts from (now), on its calendar.
    pub fn new(i: &SlaFacts, clock: Option<&ClockMarks>, counted: &mut WorkingFrom) -> SlaView {
        let now = counted.start();
        let status = Some(i.status);
        let held = matches!(
            status,
            Some(Status::Assigned | Status::InProgress | Status::AwaitingInfo)
        );
        let finished = |at: NaiveDateTime, due: NaiveDateTime| ClockView {
            due_at: due,
            state: if at <= due { "met" } else { "breached" },
            remaining_seconds: None,
        };
        let mut running = |due: NaiveDateTime, from: Option<NaiveDateTime>, paused: bool| {
            // From now, or from when a paused clock stopped.
            let (from, left) = match from {
                Some(since) => (since, counted.calendar().between(since, due)),
                None => (now, counted.until(due)),
            };
            ClockView {
                due_at: due,
                state: if left <= 0 && from >= due {
                    "breached"
                } else if paused {
                    "paused"
                } else {
                    "running"
                },
                remaining_seconds: Some(left),
            }
        };
        let acknowledge = match (i.ack_due_at, i.acknowledged_at) {
            (Some(due), Some(at)) => Some(finished(at, due)),
            (Some(due), None) if held => Some(running(due, None, false)),
            _ => None,
        };
        let resolve = match (i.resolve_due_at, i.resolved_at) {
            (Some(due), Some(at)) => Some(finished(at, due)),
            (Some(due), None) if status == Some(Status::AwaitingInfo) => {
                let since = clock.and_then(|c| c.resolve_paused_at);
                Some(running(due, since, true))
            }
            (Some(due), None) if held => Some(running(due, None, false)),
            _ => None,
        };
        let auto_close_at = match status {
            Some(Status::Resolved) => clock.and_then(|c| c.auto_close_at),
            _ => None,
        };
        SlaView {
            acknowledge,
            resolve,
            auto_close_at,
        }
    }
}

impl From<IssueRow> for IssueFacts {
    fn from(i: IssueRow) -> Self {
        IssueFacts {
            id: i.id,
            number: i.number,
            project_id: i.project_id,
            milestone_id: i.milestone_id,
            reporter_id: i.reporter_id,
            category: i.category,
            priority: i.priority,
            title: i.title,
            description: i.description,
            location: match (i.lat, i.lng) {
                (Some(lat), Some(lng)) => Some(Location { lat, lng }),
                _ => None,
            },
            private: i.private,
            status: i.status,
            department_id: i.department_id,
            assignee_id: i.assignee_id,
            ack_due_at: i.ack_due_at,
            resolve_due_at: i.resolve_due_at,
            acknowledged_at: i.acknowledged_at,
            resolved_at: i.resolved_at,
            closed_at: i.closed_at,
            overdue: i.overdue,
            escalation_level: Some(i.escalation_level),
            rating: i.rating,
            reopen_count: i.reopen_count,
            extension_requested_minutes: Some(i.extension_requested_minutes),
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

impl IssueFacts {
    /// The facts as `reader` may see them: escalations and extension requests are matters
    /// between the departments and the supervisors, not shown to observers.
    pub(crate) fn for_reader(mut self, reader: super::Reader) -> IssueFacts {
        if reader == super::Reader::Public {
            self.escalation_level = None;
            self.extension_requested_minutes = None;
        }
        self
    }
}

#[derive(Debug, Serialize)]
pub struct CommentView {
    pub id: i64,
    pub issue_id: i64,
    pub author_id: i64,
    pub body: String,
    pub internal: bool,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
    /// Equal to `created_at`: comments are never edited. There for delta sync.
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub updated_at: NaiveDateTime,
}

impl From<CommentRow> for CommentView {
    fn from(c: CommentRow) -> Self {
        CommentView {
            id: c.id,
            issue_id: c.issue_id,
            author_id: c.author_id,
            body: c.body,
            internal: c.internal,
            created_at: c.created_at,
            updated_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub at: NaiveDateTime,
    pub data: serde_json::Value,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        EventView {
            id: e.id,
            kind: e.kind.as_str().to_string(),
            actor_id: e.actor_id,
            at: e.at,
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate};

    use super::*;
    use crate::domain::calendar::Calendar;

    #[test]
    fn only_the_issues_that_show_clock_marks_are_shown_differently_without_them() {
        let cal = Calendar::shipped();
        let now = NaiveDate::from_ymd_opt(2026, 12, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .unwrap();
        let marks = ClockMarks {
            resolve_paused_at: Some(now - Duration::days(2)),
            auto_close_at: Some(now + Duration::days(7)),
        };
        let day = |n: i64| Some(now + Duration::days(n));
        let mut differs = Vec::new();
        for &status in Status::ALL {
            for (acknowledged_at, resolved_at) in
                [(None, None), (day(-3), None), (day(-3), day(-1))]
            {
                let facts = SlaFacts {
                    status,
                    ack_due_at: day(-2),
                    acknowledged_at,
                    resolve_due_at: day(10),
                    resolved_at,
                };
                let view = |m: Option<&ClockMarks>| {
                    serde_json::to_value(SlaView::new(&facts, m, &mut cal.from_instant(now)))
                        .unwrap()
                };
                let (with, without) = (view(Some(&marks)), view(None));
                if with != without {
                    assert!(
                        facts.shows_marks(),
                        "{status:?} {facts:?}: {with} / {without}"
                    );
                    differs.push(status);
                }
            }
        }
        differs.dedup();
        assert_eq!(differs, [Status::AwaitingInfo, Status::Resolved]);
    }
}
