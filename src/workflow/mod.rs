//! The issue workflow as transaction scripts: each function runs inside a write
//! transaction the caller opened, so the HTTP handlers and the demo loader share it.

pub mod access;
pub mod filing;
pub mod sla;
pub mod transitions;
