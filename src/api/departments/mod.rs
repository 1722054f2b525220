//! Departments (责任单位): managed by admins, readable by every signed-in user.

pub mod create;
pub mod get;
pub mod list;
pub mod update;
pub mod view;
