//! Outgoing messages. For now only the mail transport, chosen from the settings.

pub mod mail;
