//! The rules with no I/O: roles, what a valid field is, login throttling, the issue
//! vocabulary, routing, and the issue state machine.

pub mod calendar;
pub mod delivery;
pub mod department;
pub mod inspection;
pub mod issue;
pub mod lifecycle;
pub mod report;
pub mod role;
pub mod routing;
pub mod sla;
pub mod throttle;
pub mod user;
pub mod webhook_target;
