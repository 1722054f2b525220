//! The SLA clocks of an issue: started when it reaches a department, paused while the
//! department waits for the observer, moved by an extension or a calendar change, stopped
//! when they are met. Every moment still to come is a stored timer (`sla_timers`), so that
//! the worker fires each once and a restart loses none.

use chrono::NaiveDateTime;

use crate::db::sla::{self as store, ClockRow, PolicyRow};
use crate::db::{DbConn, issues::IssueChanges, issues::IssueRow};
use crate::domain::calendar::{Calendar, DayRules, YearCalendar};
use crate::domain::issue::Status;
use crate::error::{AppError, ErrorCode};
use crate::workflow::issue::{By, with_issue};

pub use crate::domain::sla::TimerKind;

const ACK: &[TimerKind] = TimerKind::ACK;
const RESOLVE: &[TimerKind] = TimerKind::RESOLVE;
const ALL: &[TimerKind] = TimerKind::ALL;

/// Where a year's calendar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarSource {
    /// Set by a supervisor.
    Custom,
    /// The official calendar the service ships.
    Official,
    /// Nothing known: Monday to Friday, office hours.
    Fallback,
}

impl CalendarSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarSource::Custom => "custom",
            CalendarSource::Official => "official",
            CalendarSource::Fallback => "fallback",
        }
    }
}

/// A year's calendar as in force: stored, else shipped, else the fallback.
pub fn year_calendar(
    c: &mut DbConn,
    year: i32,
) -> Result<(YearCalendar, CalendarSource), AppError> {
    for (y, body) in store::calendars(c)? {
        if y == year {
            let cal = serde_json::from_str(&body).map_err(AppError::internal)?;
            return Ok((cal, CalendarSource::Custom));
        }
    }
    Ok(match YearCalendar::shipped(year) {
        Some(cal) => (cal, CalendarSource::Official),
        None => (YearCalendar::fallback(), CalendarSource::Fallback),
    })
}

/// The calendar the arithmetic walks: every stored year over the shipped ones.
pub fn calendar(c: &mut DbConn) -> Result<Calendar, AppError> {
    // The shipped years are parsed and checked once per process; stored years override them.
    let mut years: std::collections::BTreeMap<i32, DayRules> =
        crate::domain::calendar::shipped_rules().clone();
    for (y, body) in store::calendars(c)? {
        let cal: YearCalendar = serde_json::from_str(&body).map_err(AppError::internal)?;
        if let Ok(rules) = cal.validate(y) {
            years.insert(y, rules);
        }
    }
    let this_year = chrono::Datelike::year(&crate::db::now());
    if !years.contains_key(&this_year) {
        warn_fallback_once(this_year);
    }
    Ok(Calendar::new(years))
}

/// Logs, once per year and process, that a year has no calendar.
fn warn_fallback_once(year: i32) {
    use std::sync::Mutex;
    static WARNED: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    if let Ok(mut warned) = WARNED.lock()
        && !warned.contains(&year)
    {
        warned.push(year);
        tracing::warn!(
            year,
            "no business calendar for this year: deadlines assume Monday to Friday in office hours until a supervisor sets it"
        );
    }
}

/// The policy an issue of this category and priority follows when no policy is stored.
pub fn default_policy(category: &str, priority: &str) -> PolicyRow {
    PolicyRow {
        category: category.into(),
        priority: priority.into(),
        ack_seconds: 7 * 3600,
        resolve_seconds: 10 * 7 * 3600,
        warn_percent: 80,
        auto_close_days: 5.0,
        updated_at: crate::db::now(),
    }
}

/// The policy for an issue's category and priority; a built-in one if a supervisor removed it.
fn policy(c: &mut DbConn, category: &str, priority: &str) -> Result<PolicyRow, AppError> {
    Ok(store::policy(c, category, priority)?.unwrap_or_else(|| default_policy(category, priority)))
}

fn add(cal: &Calendar, from: NaiveDateTime, seconds: i64) -> Result<NaiveDateTime, AppError> {
    cal.add(from, seconds)
        .map(crate::db::truncate)
        .ok_or_else(|| AppError::internal("the business calendar has no working time"))
}

fn warn_after(seconds: i64, percent: i32) -> i64 {
    seconds * i64::from(percent.clamp(1, 100)) / 100
}

/// Both clocks of an issue as they start at `now`, worked out but not stored: the clock
/// row, the four timers and the two deadlines.
#[derive(Debug, Clone)]
pub struct Started {
    clock: ClockRow,
    timers: [(TimerKind, NaiveDateTime); 4],
    pub ack_due: NaiveDateTime,
    pub resolve_due: NaiveDateTime,
}

/// The clocks an issue following policy `p` starts at `now`.
pub fn plan_start(cal: &Calendar, p: &PolicyRow, now: NaiveDateTime) -> Result<Started, AppError> {
    let clock = ClockRow {
        issue_id: 0,
        ack_seconds: p.ack_seconds,
        resolve_seconds: p.resolve_seconds,
        warn_percent: p.warn_percent,
        auto_close_days: p.auto_close_days,
        ack_started_at: Some(now),
        resolve_started_at: Some(now),
        resolve_paused_at: None,
        resolve_paused_seconds: 0,
        auto_close_at: None,
    };
    let warn = |seconds| add(cal, now, warn_after(seconds, p.warn_percent));
    let ack_due = add(cal, now, p.ack_seconds)?;
    let resolve_due = add(cal, now, p.resolve_seconds)?;
    Ok(Started {
        timers: [
            (TimerKind::AckWarn, warn(p.ack_seconds)?),
            (TimerKind::AckBreach, ack_due),
            (TimerKind::ResolveWarn, warn(p.resolve_seconds)?),
            (TimerKind::ResolveBreach, resolve_due),
        ],
        clock,
        ack_due,
        resolve_due,
    })
}

impl Started {
    /// Stores the clocks of an issue just filed, which has none yet: one row and one
    /// statement for the timers.
    pub fn record_new(self, c: &mut DbConn, issue_id: i64) -> Result<ClockRow, AppError> {
        let clock = ClockRow {
            issue_id,
            ..self.clock
        };
        store::insert_clock(c, &clock)?;
        store::schedule_all(c, issue_id, &self.timers)?;
        Ok(clock)
    }
}

/// Starts both clocks of an issue that has just reached a department by a dispatch or a
/// transfer: a fresh acknowledge and resolve deadline, warnings included, whatever ran
/// before forgotten.
pub fn start(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    let p = policy(c, &issue.category, &issue.priority)?;
    let started = plan_start(cal, &p, now)?;
    store::forget(c, issue.id, ALL)?;
    store::save_clock(
        c,
        &ClockRow {
            issue_id: issue.id,
            ..started.clock
        },
    )?;
    store::schedule_all(c, issue.id, &started.timers)?;
    changes.ack_due_at = Some(Some(started.ack_due));
    changes.resolve_due_at = Some(Some(started.resolve_due));
    changes.overdue = Some(false);
    Ok(())
}

/// (Re)schedules the resolve clock from its start, its policy and its paused time. Kinds
/// in `fired` already fired in this run of the clock and are not scheduled again.
fn schedule_resolve(
    c: &mut DbConn,
    cal: &Calendar,
    clock: &ClockRow,
    fired: &[TimerKind],
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    let Some(start) = clock.resolve_started_at else {
        return Ok(());
    };
    store::cancel(
        c,
        clock.issue_id,
        &[TimerKind::ResolveWarn, TimerKind::ResolveBreach],
    )?;
    let paused = clock.resolve_paused_seconds;
    let due = add(cal, start, clock.resolve_seconds + paused)?;
    let has = |k: TimerKind| fired.contains(&k);
    if !has(TimerKind::ResolveWarn) {
        let warn = add(
            cal,
            start,
            warn_after(clock.resolve_seconds, clock.warn_percent) + paused,
        )?;
        store::schedule(c, clock.issue_id, TimerKind::ResolveWarn, warn)?;
    }
    if !has(TimerKind::ResolveBreach) {
        store::schedule(c, clock.issue_id, TimerKind::ResolveBreach, due)?;
    }
    changes.resolve_due_at = Some(Some(due));
    Ok(())
}

fn clock_of(c: &mut DbConn, issue_id: i64) -> Result<Option<ClockRow>, AppError> {
    Ok(store::clock(c, issue_id)?)
}

/// The department acknowledged: the acknowledge clock is met, and the working time it
/// took is kept for the reports.
pub fn acknowledged(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    store::cancel(c, issue.id, ACK)?;
    if let Some(start) = clock_of(c, issue.id)?.and_then(|k| k.ack_started_at) {
        changes.ack_work_seconds = Some(Some(cal.between(start, now).max(0)));
    }
    Ok(())
}

/// The department waits for the observer: the resolve clock stops.
pub fn pause(c: &mut DbConn, issue: &IssueRow, now: NaiveDateTime) -> Result<(), AppError> {
    if let Some(mut clock) = clock_of(c, issue.id)? {
        clock.resolve_paused_at = Some(now);
        store::save_clock(c, &clock)?;
        store::cancel(c, issue.id, RESOLVE)?;
    }
    Ok(())
}

/// The observer answered: the paused working time is added back to the deadline.
pub fn resume(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    if let Some(mut clock) = clock_of(c, issue.id)? {
        if let Some(since) = clock.resolve_paused_at.take() {
            clock.resolve_paused_seconds += cal.between(since, now).max(0);
        }
        store::save_clock(c, &clock)?;
        let fired = store::fired_kinds(c, issue.id)?;
        schedule_resolve(c, cal, &clock, &fired, changes)?;
    }
    Ok(())
}

/// An approved extension: the resolve clock gets `minutes` more working time.
pub fn extend(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    minutes: i64,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    if let Some(mut clock) = clock_of(c, issue.id)? {
        clock.resolve_seconds += minutes * 60;
        store::save_clock(c, &clock)?;
        if clock.resolve_paused_at.is_none() {
            let fired = store::fired_kinds(c, issue.id)?;
            schedule_resolve(c, cal, &clock, &fired, changes)?;
        }
    }
    Ok(())
}

/// Resolved: the clocks stop and the auto-close timer starts.
pub fn resolved(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    store::cancel(c, issue.id, ALL)?;
    if let Some(mut clock) = clock_of(c, issue.id)? {
        // The working time the resolve clock ran (time waiting for the observer left out).
        if let Some(start) = clock.resolve_started_at {
            let ran = cal.between(start, now) - clock.resolve_paused_seconds;
            changes.resolve_work_seconds = Some(Some(ran.max(0)));
        }
        let seconds = (clock.auto_close_days * cal.working_day_seconds(now) as f64).round() as i64;
        let at = add(cal, now, seconds.max(1))?;
        clock.auto_close_at = Some(at);
        store::save_clock(c, &clock)?;
        store::schedule(c, issue.id, TimerKind::AutoClose, at)?;
    }
    Ok(())
}

/// Reopened: a new resolve deadline from now.
pub fn reopened(
    c: &mut DbConn,
    cal: &Calendar,
    issue: &IssueRow,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    store::forget(
        c,
        issue.id,
        &[
            TimerKind::ResolveWarn,
            TimerKind::ResolveBreach,
            TimerKind::Escalate,
            TimerKind::AutoClose,
        ],
    )?;
    if let Some(mut clock) = clock_of(c, issue.id)? {
        clock.resolve_started_at = Some(now);
        clock.resolve_paused_at = None;
        clock.resolve_paused_seconds = 0;
        clock.auto_close_at = None;
        store::save_clock(c, &clock)?;
        schedule_resolve(c, cal, &clock, &[], changes)?;
    }
    Ok(())
}

/// Closed, withdrawn or returned to the queue: nothing more is due.
pub fn stopped(c: &mut DbConn, issue: &IssueRow) -> Result<(), AppError> {
    store::cancel(c, issue.id, ALL)?;
    Ok(())
}

/// Stores a year's calendar and moves every running clock with it: each issue locked
/// before its clock is read, its pending timers scheduled again, and its deadlines updated
/// (a version lost to another writer is a `conflict`, and the whole change rolls back).
/// Returns how many issues' deadlines moved.
pub fn set_calendar(
    c: &mut DbConn,
    year: i32,
    body: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    store::store_calendar(c, year, body, now)?;
    let cal = calendar(c)?;
    let mut moved = 0;
    for open in store::open_clocks(c)? {
        let changed = with_issue(c, By::Service, open.issue_id, |c, issue| {
            let Some(clock) = store::clock(c, issue.id)? else {
                return Ok(false);
            };
            let changes = recompute(c, &cal, &clock, &issue)?;
            if changes.ack_due_at.is_none() && changes.resolve_due_at.is_none() {
                return Ok(false);
            }
            if crate::db::issues::update_if_version(c, issue.id, issue.version, &changes, now)? == 0
            {
                return Err(AppError::new(ErrorCode::Conflict));
            }
            Ok(true)
        })?;
        moved += usize::from(changed);
    }
    Ok(moved)
}

/// One issue's clock under a new calendar: its pending timers scheduled again; the
/// deadlines that move, as changes to the issue.
fn recompute(
    c: &mut DbConn,
    cal: &Calendar,
    clock: &ClockRow,
    issue: &IssueRow,
) -> Result<IssueChanges, AppError> {
    let fired = store::fired_kinds(c, issue.id)?;
    let mut changes = IssueChanges::default();
    match issue.status {
        Status::Assigned | Status::InProgress => {
            if issue.acknowledged_at.is_none()
                && let Some(start) = clock.ack_started_at
            {
                store::cancel(c, issue.id, ACK)?;
                let due = add(cal, start, clock.ack_seconds)?;
                if !fired.contains(&TimerKind::AckWarn) {
                    store::schedule(
                        c,
                        issue.id,
                        TimerKind::AckWarn,
                        add(
                            cal,
                            start,
                            warn_after(clock.ack_seconds, clock.warn_percent),
                        )?,
                    )?;
                }
                if !fired.contains(&TimerKind::AckBreach) {
                    store::schedule(c, issue.id, TimerKind::AckBreach, due)?;
                }
                changes.ack_due_at = Some(Some(due));
            }
            schedule_resolve(c, cal, clock, &fired, &mut changes)?;
        }
        Status::Resolved => {
            if let (Some(resolved_at), false) =
                (issue.resolved_at, fired.contains(&TimerKind::AutoClose))
            {
                store::cancel(c, issue.id, &[TimerKind::AutoClose])?;
                let seconds = (clock.auto_close_days * cal.working_day_seconds(resolved_at) as f64)
                    .round() as i64;
                let at = add(cal, resolved_at, seconds.max(1))?;
                store::schedule(c, issue.id, TimerKind::AutoClose, at)?;
                let mut clock = clock.clone();
                clock.auto_close_at = Some(at);
                store::save_clock(c, &clock)?;
            }
        }
        _ => {}
    }
    Ok(changes)
}
