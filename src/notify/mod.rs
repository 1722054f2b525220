//! Outgoing messages: the notification outbox and the mail transport.

pub mod mail;
pub mod outbox;
