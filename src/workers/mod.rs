//! Background work: the SLA clock and the delivery of outgoing messages.

pub mod delivery;
pub mod sla;
