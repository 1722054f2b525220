//! Outgoing messages: the notification outbox, the mail transport and department webhooks.

pub mod mail;
pub mod outbox;
pub mod webhook;
