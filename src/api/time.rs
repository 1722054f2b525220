//! Timestamps leave the service as RFC 3339 in UTC with microseconds.

use chrono::NaiveDateTime;
use serde::Serializer;

use crate::text::Rfc3339;
pub use crate::text::rfc3339;

pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Rfc3339::of(t).as_str())
}

pub fn serialize_opt<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(Rfc3339::of(t).as_str()),
        None => s.serialize_none(),
    }
}
