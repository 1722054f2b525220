//! The rules with no I/O: roles, what a valid name or password is, login throttling.

pub mod department;
pub mod role;
pub mod throttle;
pub mod user;
