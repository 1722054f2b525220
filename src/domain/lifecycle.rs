//! The issue state machine, as data: for each action, the states it may start from, the
//! parties who may take it, the state it leads to, and what it needs. The handler, the
//! documentation (`docs/lifecycle.md`) and the tests all read this one table.

use crate::domain::issue::{Status, text_enum};

text_enum! {
    Action {
        Acknowledge = "acknowledge",
        Assign = "assign",
        RequestInfo = "request_info",
        ProvideInfo = "provide_info",
        Resolve = "resolve",
        Confirm = "confirm",
        Reopen = "reopen",
        Withdraw = "withdraw",
        Return = "return",
        Dispatch = "dispatch",
        Transfer = "transfer",
        Escalate = "escalate",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        DenyExtension = "deny_extension",
        Chase = "chase",
    }
}

text_enum! {
    /// What a timeline entry records: the filing, the routing, a comment, a file, what the
    /// SLA clocks did, or a step of the lifecycle (named as its action).
    EventKind {
        Filed = "filed",
        Routed = "routed",
        Comment = "comment",
        Attachment = "attachment",
        SlaWarning = "sla_warning",
        SlaBreach = "sla_breach",
        SlaEscalation = "sla_escalation",
        AutoClose = "auto_close",
        Acknowledge = "acknowledge",
        Assign = "assign",
        RequestInfo = "request_info",
        ProvideInfo = "provide_info",
        Resolve = "resolve",
        Confirm = "confirm",
        Reopen = "reopen",
        Withdraw = "withdraw",
        Return = "return",
        Dispatch = "dispatch",
        Transfer = "transfer",
        Escalate = "escalate",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        DenyExtension = "deny_extension",
        Chase = "chase",
    }
}

impl From<Action> for EventKind {
    /// A step is recorded under its action's name.
    fn from(a: Action) -> EventKind {
        match a {
            Action::Acknowledge => EventKind::Acknowledge,
            Action::Assign => EventKind::Assign,
            Action::RequestInfo => EventKind::RequestInfo,
            Action::ProvideInfo => EventKind::ProvideInfo,
            Action::Resolve => EventKind::Resolve,
            Action::Confirm => EventKind::Confirm,
            Action::Reopen => EventKind::Reopen,
            Action::Withdraw => EventKind::Withdraw,
            Action::Return => EventKind::Return,
            Action::Dispatch => EventKind::Dispatch,
            Action::Transfer => EventKind::Transfer,
            Action::Escalate => EventKind::Escalate,
            Action::RequestExtension => EventKind::RequestExtension,
            Action::ApproveExtension => EventKind::ApproveExtension,
            Action::DenyExtension => EventKind::DenyExtension,
            Action::Chase => EventKind::Chase,
        }
    }
}

/// Who someone is to a particular issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The observer who filed it.
    Reporter,
    /// Staff or head of the department it is currently routed to.
    Department,
    /// The head of the department it is currently routed to.
    DepartmentHead,
    /// A supervisor (督查/营商办).
    Supervisor,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Reporter => "reporter",
            Party::Department => "department",
            Party::DepartmentHead => "department head",
            Party::Supervisor => "supervisor",
        }
    }
}

/// What a transition leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    State(Status),
    /// The status does not change (an assignment, a chase, an extension…).
    Same,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub action: Action,
    pub from: &'static [Status],
    pub by: &'static [Party],
    pub to: To,
    /// A comment (a reason) is required.
    pub needs_comment: bool,
    /// Its comment is for the department and the supervisors only, never the observer.
    pub internal: bool,
}

use Party::*;
use Status::*;

/// Before the department has answered: once it has resolved the issue, the observer
/// confirms or reopens instead.
const BEFORE_RESOLUTION: &[Status] = &[Submitted, Unassigned, Assigned, InProgress, AwaitingInfo];
const OPEN: &[Status] = &[
    Submitted,
    Unassigned,
    Assigned,
    InProgress,
    AwaitingInfo,
    Resolved,
];
const WITH_DEPARTMENT: &[Status] = &[Assigned, InProgress, AwaitingInfo];

const fn row(action: Action, from: &'static [Status], by: &'static [Party], to: To) -> Transition {
    Transition {
        action,
        from,
        by,
        to,
        needs_comment: false,
        internal: false,
    }
}

const fn needs_comment(mut t: Transition) -> Transition {
    t.needs_comment = true;
    t
}

const fn internal(mut t: Transition) -> Transition {
    t.internal = true;
    t
}

pub const TABLE: &[Transition] = &[
    row(
        Action::Acknowledge,
        &[Assigned],
        &[Department],
        To::State(InProgress),
    ),
    row(
        Action::Assign,
        &[Assigned, InProgress, AwaitingInfo],
        &[DepartmentHead],
        To::Same,
    ),
    needs_comment(row(
        Action::RequestInfo,
        &[Assigned, InProgress],
        &[Department],
        To::State(AwaitingInfo),
    )),
    needs_comment(row(
        Action::ProvideInfo,
        &[AwaitingInfo],
        &[Reporter],
        To::State(InProgress),
    )),
    needs_comment(row(
        Action::Resolve,
        &[InProgress],
        &[Department],
        To::State(Resolved),
    )),
    row(Action::Confirm, &[Resolved], &[Reporter], To::State(Closed)),
    needs_comment(row(
        Action::Reopen,
        &[Resolved],
        &[Reporter],
        To::State(InProgress),
    )),
    row(
        Action::Withdraw,
        BEFORE_RESOLUTION,
        &[Reporter],
        To::State(Withdrawn),
    ),
    internal(needs_comment(row(
        Action::Return,
        &[Assigned, InProgress],
        &[Department],
        To::State(Unassigned),
    ))),
    row(
        Action::Dispatch,
        &[Submitted, Unassigned],
        &[Supervisor],
        To::State(Assigned),
    ),
    row(
        Action::Transfer,
        WITH_DEPARTMENT,
        &[Supervisor],
        To::State(Assigned),
    ),
    internal(row(Action::Escalate, OPEN, &[Supervisor], To::Same)),
    internal(needs_comment(row(
        Action::RequestExtension,
        WITH_DEPARTMENT,
        &[Department],
        To::Same,
    ))),
    internal(row(
        Action::ApproveExtension,
        WITH_DEPARTMENT,
        &[Supervisor],
        To::Same,
    )),
    internal(row(
        Action::DenyExtension,
        WITH_DEPARTMENT,
        &[Supervisor],
        To::Same,
    )),
    internal(row(Action::Chase, OPEN, &[Supervisor], To::Same)),
];

/// The row for an action. Every action has exactly one (a unit test checks it).
pub fn transition(action: Action) -> Option<&'static Transition> {
    TABLE.iter().find(|t| t.action == action)
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller is none of the parties who may take it (403).
    NotYours,
    /// Not from the issue's current status (409).
    InvalidFromState,
    /// The table has no row for the action: a mistake in the service, never a default.
    NoRow,
}

/// Decides an action for a caller who is `parties` to an issue in `status`.
/// Returns the status after it.
pub fn decide(action: Action, status: Status, parties: &[Party]) -> Result<Status, Refusal> {
    let t = transition(action).ok_or(Refusal::NoRow)?;
    if !t.by.iter().any(|p| parties.contains(p)) {
        return Err(Refusal::NotYours);
    }
    if !t.from.contains(&status) {
        return Err(Refusal::InvalidFromState);
    }
    Ok(match t.to {
        To::State(s) => s,
        To::Same => status,
    })
}

/// The table as Markdown, for `docs/lifecycle.md` (a test keeps the two equal).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| action | from | by | to | comment |\n| --- | --- | --- | --- | --- |\n");
    for t in TABLE {
        let from: Vec<&str> = t.from.iter().map(|s| s.as_str()).collect();
        let by: Vec<&str> = t.by.iter().map(|p| p.as_str()).collect();
        let to = match t.to {
            To::State(s) => s.as_str().to_string(),
            To::Same => "(unchanged)".to_string(),
        };
        let comment = match (t.needs_comment, t.internal) {
            (true, true) => "required, internal",
            (true, false) => "required",
            (false, true) => "optional, internal",
            (false, false) => "optional",
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            t.action.as_str(),
            from.join(", "),
            by.join(", "),
            to,
            comment
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_recorded_under_its_own_name() {
        for a in Action::ALL {
            assert_eq!(EventKind::from(*a).as_str(), a.as_str());
        }
    }

    #[test]
    fn every_action_has_exactly_one_row() {
        for a in Action::ALL {
            assert_eq!(TABLE.iter().filter(|t| t.action == *a).count(), 1, "{a}");
        }
        assert_eq!(TABLE.len(), Action::ALL.len());
    }

    #[test]
    fn finished_issues_accept_nothing() {
        for a in Action::ALL {
            for s in [Closed, Withdrawn] {
                let all = [Reporter, Department, DepartmentHead, Supervisor];
                assert_eq!(
                    decide(*a, s, &all),
                    Err(Refusal::InvalidFromState),
                    "{a} from {s}"
                );
            }
        }
    }

    #[test]
    fn the_happy_path_walks_to_closed() {
        assert_eq!(
            decide(Action::Acknowledge, Assigned, &[Department]),
            Ok(InProgress)
        );
        assert_eq!(
            decide(Action::Resolve, InProgress, &[Department]),
            Ok(Resolved)
        );
        assert_eq!(decide(Action::Confirm, Resolved, &[Reporter]), Ok(Closed));
    }

    #[test]
    fn the_wrong_party_is_refused_before_the_state_is_looked_at() {
        assert_eq!(
            decide(Action::Resolve, Closed, &[Reporter]),
            Err(Refusal::NotYours)
        );
        assert_eq!(
            decide(Action::Confirm, InProgress, &[Reporter]),
            Err(Refusal::InvalidFromState)
        );
    }
}
