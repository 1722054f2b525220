//! The SLA worker: every tick it takes the timers that have fallen due (through the
//! partial index on unfired timers, so its cost follows the number due, not the number
//! open) and fires each in its own transaction, claiming it first, so that each warning,
//! breach, escalation and auto-close is recorded exactly once, also with several instances
//! on one PostgreSQL and across restarts.

use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::json;

use crate::api::time::rfc3339;
use crate::db::{self, Db, DbConn, issues::IssueChanges};
use crate::error::{ApiError, ErrorCode};
use crate::notify::outbox::{self, Notice};
use crate::workflow::sla::{self, TimerKind};

/// Timers taken per query.
const BATCH: i64 = 100;
/// Queries per tick at most.
const MAX_BATCHES_PER_TICK: usize = 50;

/// Runs until the process stops. Each tick also forgets the `Idempotency-Key`s older than
/// `idempotency_ttl`.
pub async fn run(db: Db, tick: Duration, idempotency_ttl: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick_once(&db, db::now()).await {
            Ok(0) => {}
            Ok(fired) => tracing::info!(fired, "SLA timers fired"),
            Err(e) => {
                tracing::warn!(error = %e, "SLA tick failed; the timers stay due for the next one")
            }
        }
        if let Err(e) = purge_idempotency_keys(&db, idempotency_ttl).await {
            tracing::warn!(error = %e, "purging old idempotency keys failed; tried again next tick");
        }
    }
}

async fn purge_idempotency_keys(db: &Db, ttl: Duration) -> Result<(), ApiError> {
    let ttl = chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    let purged = db
        .write(move |c| Ok(db::idempotency::purge(c, db::now() - ttl)?))
        .await?;
    if purged > 0 {
        tracing::debug!(purged, "idempotency keys past their retention forgotten");
    }
    Ok(())
}

/// Fires every timer due at `now`. Returns how many this call fired.
pub async fn tick_once(db: &Db, now: NaiveDateTime) -> Result<usize, ApiError> {
    let mut fired = 0;
    // Firing may schedule further timers already due (an escalation after a long outage):
    // keep going while there is progress, within a bound so that one tick cannot run away.
    for _ in 0..MAX_BATCHES_PER_TICK {
        let due = db.read(move |c| Ok(db::sla::due(c, now, BATCH)?)).await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for timer in due {
            match db.write(move |c| fire(c, timer.id, now)).await {
                Ok(true) => {
                    fired += 1;
                    progressed = true;
                }
                Ok(false) => {}
                // A transition changed the issue at the same moment: try again next tick.
                Err(e) if e.code == ErrorCode::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(fired)
}

/// Fires one timer, unless another worker already did. All or nothing.
pub fn fire(c: &mut DbConn, timer_id: i64, now: NaiveDateTime) -> Result<bool, ApiError> {
    use diesel::prelude::*;
    let timer: db::sla::TimerRow = db::schema::sla_timers::table
        .find(timer_id)
        .select(db::sla::TimerRow::as_select())
        .first(c)?;
    // The issue's lock first, then the timer's: the order transitions take them in.
    db::issues::lock(c, timer.issue_id)?;
    if !db::sla::claim(c, timer.id, now)? {
        return Ok(false);
    }
    let Some(issue) = db::issues::find(c, timer.issue_id)? else {
        return Ok(true);
    };
    let Some(kind) = TimerKind::parse(&timer.kind) else {
        return Ok(true);
    };
    let clock = db::sla::clock(c, issue.id)?;
    let mut changes = IssueChanges::default();
    let due = rfc3339(&timer.due_at);
    let (event, data, internal) = match kind {
        TimerKind::AckWarn => (
            "sla_warning",
            json!({ "clock": "acknowledge", "due_at": issue.ack_due_at.as_ref().map(rfc3339) }),
            true,
        ),
        TimerKind::ResolveWarn => (
            "sla_warning",
            json!({ "clock": "resolve", "due_at": issue.resolve_due_at.as_ref().map(rfc3339) }),
            true,
        ),
        TimerKind::AckBreach | TimerKind::ResolveBreach => {
            changes.overdue = Some(true);
            changes.escalation_level = Some(issue.escalation_level.max(1));
            let name = if kind == TimerKind::AckBreach {
                "acknowledge"
            } else {
                "resolve"
            };
            if kind == TimerKind::ResolveBreach
                && let Some(clock) = &clock
            {
                let cal = sla::calendar(c)?;
                if let Some(next) = cal.add(timer.due_at, clock.resolve_seconds) {
                    db::sla::schedule(
                        c,
                        issue.id,
                        TimerKind::Escalate.as_str(),
                        db::truncate(next),
                    )?;
                }
            }
            (
                "sla_breach",
                json!({ "clock": name, "due_at": due, "escalation_level": issue.escalation_level.max(1) }),
                false,
            )
        }
        TimerKind::Escalate => {
            let level = issue.escalation_level + 1;
            changes.escalation_level = Some(level);
            if let Some(clock) = &clock {
                let cal = sla::calendar(c)?;
                if let Some(next) = cal.add(timer.due_at, clock.resolve_seconds) {
                    db::sla::schedule(
                        c,
                        issue.id,
                        TimerKind::Escalate.as_str(),
                        db::truncate(next),
                    )?;
                }
            }
            (
                "sla_escalation",
                json!({ "escalation_level": level, "overdue_since": issue.resolve_due_at.as_ref().map(rfc3339) }),
                false,
            )
        }
        TimerKind::AutoClose => {
            if issue.status != "resolved" {
                return Ok(true);
            }
            changes.status = Some("closed".into());
            changes.closed_at = Some(Some(now));
            (
                "auto_close",
                json!({ "from": "resolved", "to": "closed", "resolved_at": issue.resolved_at.as_ref().map(rfc3339) }),
                false,
            )
        }
    };
    if db::issues::update_if_version(c, issue.id, issue.version, &changes, now)? == 0 {
        return Err(ApiError::new(ErrorCode::Conflict));
    }
    db::issues::add_event(c, issue.id, event, None, now, &data, internal)?;
    // Told in the same transaction: a recorded breach always has its notifications.
    match kind {
        TimerKind::AckWarn | TimerKind::ResolveWarn => {
            let (clock, due_at) = if kind == TimerKind::AckWarn {
                ("acknowledge", issue.ack_due_at)
            } else {
                ("resolve", issue.resolve_due_at)
            };
            outbox::tell_department(
                c,
                issue.department_id,
                Notice::SlaWarning { clock, due_at },
                &issue,
            )?;
        }
        TimerKind::AckBreach | TimerKind::ResolveBreach => {
            let clock = if kind == TimerKind::AckBreach {
                "acknowledge"
            } else {
                "resolve"
            };
            let to = outbox::heads_and_supervisors(c, &issue)?;
            outbox::notify(
                c,
                &to,
                Notice::SlaBreach {
                    clock,
                    due_at: timer.due_at,
                },
                &issue,
            )?;
        }
        TimerKind::Escalate => {
            let to = outbox::heads_and_supervisors(c, &issue)?;
            let level = issue.escalation_level + 1;
            outbox::notify(c, &to, Notice::SlaEscalation { level }, &issue)?;
        }
        TimerKind::AutoClose => {}
    }
    Ok(true)
}
