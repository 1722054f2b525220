//! Milestones (节点) of a project: supervisors and admins manage them; whoever may see the
//! project may list them.

pub mod create;
pub mod list;
pub mod update;
pub mod view;
