//! Applying one lifecycle step in the caller's write transaction. The state machine
//! (`domain::lifecycle::TABLE`) says whether the step is allowed; this applies its effects
//! with a compare-and-set on the issue's version, so that of two racing steps exactly one
//! wins. Used by `POST /api/v1/issues/{id}/transitions` and by the demo loader.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::db::{self, DbConn, issues::IssueChanges, issues::IssueRow};
use crate::domain::issue::Status;
use crate::domain::lifecycle::{self, Action, Refusal};
use crate::domain::role::{Actor, Role};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::notify::outbox;
use crate::workflow::access::parties;
use crate::workflow::issue::{By, with_issue};
use crate::workflow::sla;

/// The most a department may ask for at once: 30 calendar days.
const MAX_EXTENSION_MINUTES: i64 = 30 * 24 * 60;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub action: Action,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub department_id: Option<i64>,
    #[serde(default)]
    pub assignee_id: Option<i64>,
    #[serde(default)]
    pub rating: Option<i32>,
    /// With `request_extension`: how much longer the department needs, in minutes.
    #[serde(default)]
    pub extension_minutes: Option<i64>,
}

/// Fields that only some actions take: sending one with another action is a mistake the
/// client should hear about.
pub fn check_fields(r: &TransitionRequest) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut only = |present: bool, field: &str, allowed: &[Action]| {
        if present && !allowed.contains(&r.action) {
            errors.push(FieldError::new(
                field,
                "not_allowed",
                format!("not taken by {}", r.action),
            ));
        }
    };
    only(
        r.department_id.is_some(),
        "department_id",
        &[Action::Dispatch, Action::Transfer],
    );
    only(r.assignee_id.is_some(), "assignee_id", &[Action::Assign]);
    only(r.rating.is_some(), "rating", &[Action::Confirm]);
    only(
        r.extension_minutes.is_some(),
        "extension_minutes",
        &[Action::RequestExtension],
    );
    if let Some(rating) = r.rating
        && !(1..=5).contains(&rating)
    {
        errors.push(FieldError::new("rating", "invalid", "must be 1 to 5"));
    }
    // Checked here too, before any precondition: a malformed request is refused as such
    // (422), whatever the state of the issue it names.
    if let Some(minutes) = r.extension_minutes
        && !(1..=MAX_EXTENSION_MINUTES).contains(&minutes)
    {
        errors.push(FieldError::new(
            "extension_minutes",
            "invalid",
            format!("must be 1 to {MAX_EXTENSION_MINUTES}"),
        ));
    }
    if let Some(c) = &r.comment {
        if c.chars().count() > 5000 {
            errors.push(FieldError::new(
                "comment",
                "too_long",
                "must be at most 5000 characters",
            ));
        } else if c.chars().any(crate::domain::user::is_control_in_paragraph) {
            errors.push(FieldError::new(
                "comment",
                "format",
                "must not contain control characters",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// One step on issue `id` by `actor` at `now`: the issue locked and read as they see it,
/// the version they expect checked (`If-Match`: 412 when stale), then the step decided and
/// applied.
pub fn step(
    c: &mut DbConn,
    actor: &Actor,
    id: i64,
    r: &TransitionRequest,
    expected_version: Option<i64>,
    now: NaiveDateTime,
) -> Result<IssueRow, AppError> {
    with_issue(c, By::Person(actor), id, |c, issue| {
        if expected_version.is_some_and(|v| v != issue.version) {
            return Err(AppError::new(ErrorCode::PreconditionFailed));
        }
        apply(c, actor, issue, r, expected_version.is_some(), now)
    })
}

/// Decides and applies one action, at `now`, to an issue the caller can see (locked).
fn apply(
    c: &mut DbConn,
    actor: &Actor,
    issue: IssueRow,
    r: &TransitionRequest,
    if_match: bool,
    now: NaiveDateTime,
) -> Result<IssueRow, AppError> {
    let from = issue.status;
    let rule = lifecycle::transition(r.action)
        .ok_or_else(|| AppError::internal(format!("no lifecycle row for {}", r.action)))?;
    let to =
        lifecycle::decide(r.action, from, &parties(actor, &issue)).map_err(
            |refusal| match refusal {
                Refusal::NotYours => AppError::forbidden(),
                Refusal::InvalidFromState => AppError::with_detail(
                    ErrorCode::InvalidTransition,
                    format!("{} is not allowed from {}", r.action, from),
                ),
                Refusal::NoRow => AppError::internal(format!("no lifecycle row for {}", r.action)),
            },
        )?;
    let comment = r
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if rule.needs_comment && comment.is_none() {
        return Err(AppError::field(
            "comment",
            "required",
            format!("{} needs a comment (a reason)", r.action),
        ));
    }

    let mut effect = Effect::of_move(from, to);
    effects(c, actor, &issue, r, now, &mut effect)?;
    let Effect {
        mut changes,
        mut data,
    } = effect;
    clocks(c, &issue, r.action, now, &mut changes)?;
    if let Some(text) = comment {
        data.insert("comment".into(), json!(text));
    }

    if db::issues::update_if_version(c, issue.id, issue.version, &changes, now)? == 0 {
        // Someone else changed the issue between our read and our write.
        return Err(AppError::new(if if_match {
            ErrorCode::PreconditionFailed
        } else {
            ErrorCode::Conflict
        }));
    }
    if let Some(Some(d)) = changes.department_id {
        db::issues::remember_department(c, issue.id, d)?;
    }
    // A return is addressed to the department that gave the issue back; every other step
    // to the department that has it after the step.
    let addressed = match r.action {
        Action::Return => issue.department_id,
        _ => changes.department_id.unwrap_or(issue.department_id),
    };
    db::issues::add_event_for(
        c,
        issue.id,
        r.action.into(),
        Some(actor.id),
        now,
        &Value::Object(data),
        rule.internal,
        addressed,
    )?;
    let after = db::issues::find(c, issue.id)?.ok_or_else(AppError::not_found)?;
    // An internal step's comment never reaches the observer.
    let step = outbox::Step {
        action: r.action,
        actor_id: actor.id,
        public_comment: comment.filter(|_| !rule.internal),
        internal_comment: comment.filter(|_| rule.internal),
    };
    outbox::after_transition(c, &issue, &after, &step)?;
    Ok(after)
}

/// What each action does to the SLA clocks (the extension is handled with its effects).
fn clocks(
    c: &mut DbConn,
    issue: &IssueRow,
    action: Action,
    now: NaiveDateTime,
    changes: &mut IssueChanges,
) -> Result<(), AppError> {
    let needs_calendar = matches!(
        action,
        Action::Acknowledge
            | Action::ProvideInfo
            | Action::Resolve
            | Action::Reopen
            | Action::Dispatch
            | Action::Transfer
    );
    let cal = if needs_calendar {
        Some(sla::calendar(c)?)
    } else {
        None
    };
    let cal = || {
        cal.as_ref()
            .ok_or_else(|| AppError::internal("calendar not loaded"))
    };
    match action {
        Action::Acknowledge => sla::acknowledged(c, cal()?, issue, now, changes),
        Action::RequestInfo => sla::pause(c, issue, now),
        Action::ProvideInfo => sla::resume(c, cal()?, issue, now, changes),
        Action::Resolve => sla::resolved(c, cal()?, issue, now, changes),
        Action::Reopen => sla::reopened(c, cal()?, issue, now, changes),
        Action::Dispatch | Action::Transfer => sla::start(c, cal()?, issue, now, changes),
        Action::Confirm | Action::Withdraw | Action::Return => sla::stopped(c, issue),
        Action::Assign
        | Action::Escalate
        | Action::RequestExtension
        | Action::ApproveExtension
        | Action::DenyExtension
        | Action::Chase => Ok(()),
    }
}

/// What a step changes on the issue, and what its timeline event says.
struct Effect {
    changes: IssueChanges,
    data: Map<String, Value>,
}

impl Effect {
    /// A step from status `from` to `to` (the same for a step that keeps the status).
    fn of_move(from: Status, to: Status) -> Effect {
        let mut e = Effect {
            changes: IssueChanges {
                status: (to != from).then_some(to),
                ..Default::default()
            },
            data: Map::new(),
        };
        e.note("from", json!(from));
        e.note("to", json!(to));
        e
    }

    fn note(&mut self, key: &str, value: Value) {
        self.data.insert(key.into(), value);
    }
}

/// What each action does besides moving the status.
fn effects(
    c: &mut DbConn,
    actor: &Actor,
    issue: &IssueRow,
    r: &TransitionRequest,
    now: NaiveDateTime,
    e: &mut Effect,
) -> Result<(), AppError> {
    match r.action {
        Action::Acknowledge => {
            e.changes.acknowledged_at = Some(Some(now));
            if issue.assignee_id.is_none() {
                e.changes.assignee_id = Some(Some(actor.id));
                e.note("assignee_id", json!(actor.id));
            }
        }
        Action::Assign => assign(c, issue, r, e)?,
        Action::Resolve => e.changes.resolved_at = Some(Some(now)),
        Action::Confirm => {
            e.changes.closed_at = Some(Some(now));
            e.changes.rating = Some(r.rating);
            if let Some(rating) = r.rating {
                e.note("rating", json!(rating));
            }
        }
        Action::Reopen => {
            e.changes.reopen_count = Some(issue.reopen_count + 1);
            e.changes.resolved_at = Some(None);
            e.changes.resolve_work_seconds = Some(None);
        }
        Action::Withdraw => e.changes.closed_at = Some(Some(now)),
        Action::Return => {
            e.changes.department_id = Some(None);
            e.changes.assignee_id = Some(None);
            e.note("department_id", json!(issue.department_id));
        }
        Action::Dispatch | Action::Transfer => send_to_department(c, issue, r, e)?,
        Action::Escalate => {
            e.changes.escalation_level = Some(issue.escalation_level + 1);
            e.note("escalation_level", json!(issue.escalation_level + 1));
        }
        Action::RequestExtension => request_extension(issue, r, now, e)?,
        Action::ApproveExtension | Action::DenyExtension => decide_extension(c, issue, r, e)?,
        Action::RequestInfo | Action::ProvideInfo | Action::Chase => {}
    }
    Ok(())
}

/// `assign`: to an active member of the issue's department.
fn assign(
    c: &mut DbConn,
    issue: &IssueRow,
    r: &TransitionRequest,
    e: &mut Effect,
) -> Result<(), AppError> {
    let assignee = r
        .assignee_id
        .ok_or_else(|| AppError::field("assignee_id", "required", "assign needs an assignee_id"))?;
    let fits = db::users::find(c, assignee)?.is_some_and(|u| {
        u.active
            && u.department_id == issue.department_id
            && Role::parse(&u.role).is_some_and(Role::belongs_to_department)
    });
    if !fits {
        return Err(AppError::field(
            "assignee_id",
            "unknown",
            "not an active member of the issue's department",
        ));
    }
    e.changes.assignee_id = Some(Some(assignee));
    e.note("assignee_id", json!(assignee));
    Ok(())
}

/// `dispatch` and `transfer`: to another existing department, which acknowledges afresh.
fn send_to_department(
    c: &mut DbConn,
    issue: &IssueRow,
    r: &TransitionRequest,
    e: &mut Effect,
) -> Result<(), AppError> {
    let department = r.department_id.ok_or_else(|| {
        AppError::field(
            "department_id",
            "required",
            format!("{} needs a department_id", r.action),
        )
    })?;
    if !db::departments::exists(c, department)? {
        return Err(AppError::field(
            "department_id",
            "unknown",
            "no department has this id",
        ));
    }
    if Some(department) == issue.department_id {
        return Err(AppError::field(
            "department_id",
            "unchanged",
            "the issue is already with this department",
        ));
    }
    e.changes.department_id = Some(Some(department));
    e.changes.assignee_id = Some(None);
    e.changes.acknowledged_at = Some(None);
    e.changes.ack_work_seconds = Some(None);
    e.note("department_id", json!(department));
    e.note("previous_department_id", json!(issue.department_id));
    Ok(())
}

/// `request_extension`: before the deadline, one pending at a time, within bounds.
fn request_extension(
    issue: &IssueRow,
    r: &TransitionRequest,
    now: NaiveDateTime,
    e: &mut Effect,
) -> Result<(), AppError> {
    if issue.resolve_due_at.is_some_and(|due| now > due) {
        return Err(AppError::with_detail(
            ErrorCode::InvalidTransition,
            "an extension must be asked for before the resolve deadline",
        ));
    }
    if issue.extension_requested_minutes.is_some() {
        return Err(AppError::with_detail(
            ErrorCode::InvalidTransition,
            "an extension request is already pending",
        ));
    }
    let minutes = r.extension_minutes.ok_or_else(|| {
        AppError::field(
            "extension_minutes",
            "required",
            "request_extension needs extension_minutes",
        )
    })?;
    if !(1..=MAX_EXTENSION_MINUTES).contains(&minutes) {
        return Err(AppError::field(
            "extension_minutes",
            "invalid",
            format!("must be 1 to {MAX_EXTENSION_MINUTES}"),
        ));
    }
    e.changes.extension_requested_minutes = Some(Some(minutes));
    e.note("extension_minutes", json!(minutes));
    Ok(())
}

/// `approve_extension` and `deny_extension`: the pending request decided; an approval
/// moves the resolve deadline by that much working time.
fn decide_extension(
    c: &mut DbConn,
    issue: &IssueRow,
    r: &TransitionRequest,
    e: &mut Effect,
) -> Result<(), AppError> {
    let minutes = issue.extension_requested_minutes.ok_or_else(|| {
        AppError::with_detail(
            ErrorCode::InvalidTransition,
            "no extension request is pending",
        )
    })?;
    e.changes.extension_requested_minutes = Some(None);
    e.note("extension_minutes", json!(minutes));
    if r.action == Action::ApproveExtension {
        let cal = sla::calendar(c)?;
        sla::extend(c, &cal, issue, minutes, &mut e.changes)?;
        if let Some(Some(moved)) = e.changes.resolve_due_at {
            e.note("resolve_due_at", json!(crate::text::rfc3339(&moved)));
        }
    }
    Ok(())
}
