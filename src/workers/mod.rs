//! Background work: the SLA clock.

pub mod sla;
