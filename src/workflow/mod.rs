//! The issue workflow as transaction scripts: each function runs inside a write
//! transaction the caller opened, so the HTTP handlers, the workers and the demo loader
//! share it. It is the only place that changes an issue, and `issue::with_issue` the only
//! way in: the row lock first, then the issue as the writer may see it.

pub mod access;
pub mod attachments;
pub mod comments;
pub mod filing;
pub mod import;
pub mod inspections;
pub mod issue;
pub mod rulebook;
pub mod sla;
pub mod timers;
pub mod transitions;
pub mod users;
