//! Who may see and do what with issues, worked out from the caller and the issue. The SQL
//! scope lives in `db::issues`, the state machine in `domain::lifecycle`.

use crate::db::issues::{IssueRow, Scope};
use crate::domain::lifecycle::Party;
use crate::domain::role::{Actor, Role};

/// Which issues the caller may see.
pub fn scope(auth: &Actor) -> Scope {
    match auth.role {
        Role::Supervisor | Role::Admin => Scope::All,
        Role::Observer => Scope::Observer(auth.id),
        Role::DepartmentStaff | Role::DepartmentHead => match auth.department_id {
            Some(d) => Scope::Department(d),
            None => Scope::Nothing,
        },
    }
}

/// Whether the caller may read internal comments and events: never an observer.
pub fn sees_internal(auth: &Actor) -> bool {
    auth.role != Role::Observer
}

/// Whether the caller may add photos and files to an issue they can see: its reporter,
/// the departments it reached and the supervisors (not another follower, not an admin).
pub fn may_attach(auth: &Actor, issue: &IssueRow) -> bool {
    match auth.role {
        Role::Observer => auth.id == issue.reporter_id,
        Role::DepartmentStaff | Role::DepartmentHead | Role::Supervisor => true,
        Role::Admin => false,
    }
}

/// What the caller is to this issue, for the state machine.
pub fn parties(auth: &Actor, issue: &IssueRow) -> Vec<Party> {
    let mut out = Vec::new();
    if auth.role == Role::Observer && auth.id == issue.reporter_id {
        out.push(Party::Reporter);
    }
    let in_department = auth.department_id.is_some() && auth.department_id == issue.department_id;
    if in_department && matches!(auth.role, Role::DepartmentStaff | Role::DepartmentHead) {
        out.push(Party::Department);
    }
    if in_department && auth.role == Role::DepartmentHead {
        out.push(Party::DepartmentHead);
    }
    if auth.role == Role::Supervisor {
        out.push(Party::Supervisor);
    }
    out
}
