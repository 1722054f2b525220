//! Background work: the SLA clock, the delivery of outgoing messages, and sweeping what a
//! crash left behind.

pub mod delivery;
pub mod sla;
pub mod sweep;
