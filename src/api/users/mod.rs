//! Users: created and managed by admins; read by themselves, supervisors, and their head.

pub mod create;
pub mod get;
pub mod list;
pub mod update;
pub mod view;
