//! The text columns that hold a state — an issue's status, a timer's kind, a delivery's
//! channel — convert to and from their enums here and nowhere else. A text the enum does not
//! know is an error when read, never a default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::delivery::Channel;
use crate::domain::issue::Status;
use crate::domain::lifecycle::EventKind;
use crate::domain::sla::TimerKind;

macro_rules! text_column {
    ($($t:ty),* $(,)?) => { $(
        impl FromSql<Text, Sqlite> for $t {
            fn from_sql(v: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let s = <String as FromSql<Text, Sqlite>>::from_sql(v)?;
                <$t>::parse(&s).ok_or_else(|| format!("unknown {}: {s:?}", stringify!($t)).into())
            }
        }
        impl FromSql<Text, Pg> for $t {
            fn from_sql(v: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let s = <String as FromSql<Text, Pg>>::from_sql(v)?;
                <$t>::parse(&s).ok_or_else(|| format!("unknown {}: {s:?}", stringify!($t)).into())
            }
        }
        impl FromSql<Text, MultiBackend> for $t {
            fn from_sql(v: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                v.from_sql::<Self, Text>()
            }
        }
        impl ToSql<Text, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }
        impl ToSql<Text, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }
        impl ToSql<Text, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    )* };
}

text_column!(Status, TimerKind, Channel, EventKind);
