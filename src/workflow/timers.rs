//! A due SLA timer fired: the warning, breach, escalation or auto-close recorded on its issue
//! with its event and its notifications, in the caller's write transaction, exactly once.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::db::{self, DbConn, issues::IssueChanges, issues::IssueRow, sla::TimerRow};
use crate::domain::issue::Status;
use crate::domain::lifecycle::EventKind;
use crate::error::{AppError, ErrorCode};
use crate::notify::outbox::{self, Notice};
use crate::text::rfc3339;
use crate::workflow::issue::{By, with_issue};
use crate::workflow::sla::{self, TimerKind};

/// What firing a timer records: the issue's changes and its timeline event.
struct Outcome {
    changes: IssueChanges,
    event: EventKind,
    data: Value,
    internal: bool,
}

/// Fires one timer, unless another worker already did (false). All or nothing: a change to
/// the issue made meanwhile is a `conflict`, and the timer stays due.
pub fn fire(c: &mut DbConn, timer_id: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    use diesel::prelude::*;
    let timer: TimerRow = db::schema::sla_timers::table
        .find(timer_id)
        .select(TimerRow::as_select())
        .first(c)?;
    // The issue's lock first, then the timer's: the order transitions take them in.
    with_issue(c, By::Service, timer.issue_id, |c, issue| {
        if !db::sla::claim(c, timer.id, now)? {
            return Ok(false);
        }
        let kind = timer.kind;
        let Some(o) = outcome(c, kind, &timer, &issue, now)? else {
            return Ok(true);
        };
        if db::issues::update_if_version(c, issue.id, issue.version, &o.changes, now)? == 0 {
            return Err(AppError::new(ErrorCode::Conflict));
        }
        db::issues::add_event(c, issue.id, o.event, None, now, &o.data, o.internal)?;
        // Told in the same transaction: a recorded breach always has its notifications.
        tell(c, kind, &timer, &issue)
    })
}

fn clock_name(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::AckWarn | TimerKind::AckBreach => "acknowledge",
        _ => "resolve",
    }
}

/// What the timer changes and records; `None` when it no longer applies (an auto-close of
/// an issue no longer resolved).
fn outcome(
    c: &mut DbConn,
    kind: TimerKind,
    timer: &TimerRow,
    issue: &IssueRow,
    now: NaiveDateTime,
) -> Result<Option<Outcome>, AppError> {
    let mut changes = IssueChanges::default();
    let (event, data, internal) = match kind {
        TimerKind::AckWarn | TimerKind::ResolveWarn => {
            let due_at = if kind == TimerKind::AckWarn {
                issue.ack_due_at
            } else {
                issue.resolve_due_at
            };
            (
                EventKind::SlaWarning,
                json!({ "clock": clock_name(kind), "due_at": due_at.as_ref().map(rfc3339) }),
                true,
            )
        }
        TimerKind::AckBreach | TimerKind::ResolveBreach => {
            changes.overdue = Some(true);
            changes.escalation_level = Some(issue.escalation_level.max(1));
            if kind == TimerKind::ResolveBreach {
                schedule_escalation(c, issue.id, timer.due_at)?;
            }
            let data = json!({
                "clock": clock_name(kind), "due_at": rfc3339(&timer.due_at),
                "escalation_level": issue.escalation_level.max(1),
            });
            (EventKind::SlaBreach, data, false)
        }
        TimerKind::Escalate => {
            let level = issue.escalation_level + 1;
            changes.escalation_level = Some(level);
            schedule_escalation(c, issue.id, timer.due_at)?;
            let data = json!({ "escalation_level": level, "overdue_since": issue.resolve_due_at.as_ref().map(rfc3339) });
            (EventKind::SlaEscalation, data, false)
        }
        TimerKind::AutoClose => {
            if issue.status != Status::Resolved {
                return Ok(None);
            }
            changes.status = Some(Status::Closed);
            changes.closed_at = Some(Some(now));
            let data = json!({ "from": Status::Resolved, "to": Status::Closed, "resolved_at": issue.resolved_at.as_ref().map(rfc3339) });
            (EventKind::AutoClose, data, false)
        }
    };
    Ok(Some(Outcome {
        changes,
        event,
        data,
        internal,
    }))
}

/// The next escalation, one resolve period after `from` in working time.
fn schedule_escalation(c: &mut DbConn, issue_id: i64, from: NaiveDateTime) -> Result<(), AppError> {
    if let Some(clock) = db::sla::clock(c, issue_id)? {
        let cal = sla::calendar(c)?;
        if let Some(next) = cal.add(from, clock.resolve_seconds) {
            db::sla::schedule(c, issue_id, TimerKind::Escalate, db::truncate(next))?;
        }
    }
    Ok(())
}

/// Who hears of it: the department of a warning; heads and supervisors of a breach or an
/// escalation.
fn tell(
    c: &mut DbConn,
    kind: TimerKind,
    timer: &TimerRow,
    issue: &IssueRow,
) -> Result<bool, AppError> {
    let clock = clock_name(kind);
    match kind {
        TimerKind::AckWarn | TimerKind::ResolveWarn => {
            let due_at = if kind == TimerKind::AckWarn {
                issue.ack_due_at
            } else {
                issue.resolve_due_at
            };
            outbox::tell_department(
                c,
                issue.department_id,
                Notice::SlaWarning { clock, due_at },
                issue,
            )?;
        }
        TimerKind::AckBreach | TimerKind::ResolveBreach => {
            let to = outbox::heads_and_supervisors(c, issue)?;
            outbox::notify(
                c,
                &to,
                Notice::SlaBreach {
                    clock,
                    due_at: timer.due_at,
                },
                issue,
            )?;
        }
        TimerKind::Escalate => {
            let to = outbox::heads_and_supervisors(c, issue)?;
            let level = issue.escalation_level + 1;
            outbox::notify(c, &to, Notice::SlaEscalation { level }, issue)?;
        }
        TimerKind::AutoClose => {}
    }
    Ok(true)
}
