//! Admin views of the machinery: the delivery outbox, its failures and dead letters.

pub mod deliveries;
pub mod imports;
