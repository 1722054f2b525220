//! The one way into an issue for a change: its row lock first, then the issue as the writer
//! may see it. Every write to an issue — a step, a comment, a file, a clock moved by the
//! calendar or fired by the SLA worker — goes through `with_issue`, so that writers queue on
//! the lock in one order instead of failing each other's version check.

use crate::db::{self, DbConn, issues::IssueRow};
use crate::domain::role::Actor;
use crate::error::AppError;
use crate::workflow::access::scope;

/// Who reaches for the issue: a person (what they may see applies) or the service itself
/// (its workers, and the recomputation a calendar change makes).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Person(&'a Actor),
    Service,
}

/// Locks the issue for the rest of the write transaction, reads it as `by` may see it (not
/// found otherwise), and runs `f` with it.
pub fn with_issue<T>(
    c: &mut DbConn,
    by: By<'_>,
    id: i64,
    f: impl FnOnce(&mut DbConn, IssueRow) -> Result<T, AppError>,
) -> Result<T, AppError> {
    db::issues::lock(c, id)?;
    let issue = match by {
        By::Person(actor) => db::issues::find_visible(c, scope(actor), id)?,
        By::Service => db::issues::find(c, id)?,
    }
    .ok_or_else(AppError::not_found)?;
    f(c, issue)
}
