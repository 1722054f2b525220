//! What an uploaded file is, by its content, and what is taken out of it before it is kept.

pub mod jpeg;
pub mod png;
pub mod sniff;
pub mod thumbnail;
pub mod webp;
