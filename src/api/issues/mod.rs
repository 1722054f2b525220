//! Issues (问题): filing, reading, the lifecycle transitions, comments and the timeline.
//! Who may see and do what is decided in `workflow::access`.

pub mod comments;
pub mod create;
pub mod events;
pub mod get;
pub mod list;
pub mod transition;
pub mod view;

pub(crate) use crate::workflow::access::{scope, sees_internal};
