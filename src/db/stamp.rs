//! Timestamp columns read without a format parser. SQLite keeps a timestamp as text, and
//! diesel reads it by trying `strftime` patterns one after another; a page of issues has
//! hundreds of them, which made their decoding a quarter of a list's cost. The rows read most
//! (issues and their clocks) take their timestamps through [`Stamp`] and [`MaybeStamp`]
//! (`#[diesel(deserialize_as = …)]`), which read the form this service writes
//! (`2026-12-01 08:30:00.123456`, fraction optional) by position and hand anything else to
//! diesel's own reader. PostgreSQL sends timestamps as binary and is read as before.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A `Timestamp` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A `Nullable<Timestamp>` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` (or with `T`), by position; `None` for anything else.
pub fn parse_text(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0_u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20, b.len())?;
            n * 10_u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?)?.and_hms_nano_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
        nanos,
    )
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut v: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(t) = parse_text(v.read_text()) {
            return Ok(Stamp(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(v).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(v: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(v).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(v: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        v.from_sql::<Self, Timestamp>()
    }
}

macro_rules! maybe_stamp {
    ($($db:ty),*) => { $(
        impl FromSql<Nullable<Timestamp>, $db> for MaybeStamp {
            fn from_sql(v: <$db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <Stamp as FromSql<Timestamp, $db>>::from_sql(v).map(|s| MaybeStamp(Some(s.0)))
            }
            fn from_nullable_sql(
                v: Option<<$db as Backend>::RawValue<'_>>,
            ) -> deserialize::Result<Self> {
                match v {
                    Some(v) => <Self as FromSql<Nullable<Timestamp>, $db>>::from_sql(v),
                    None => Ok(MaybeStamp(None)),
                }
            }
        }
    )* };
}

maybe_stamp!(Sqlite, Pg, MultiBackend);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveTime};

    #[test]
    fn the_written_form_reads_back_exactly_as_diesels_reader_would() {
        let start = NaiveDate::from_ymd_opt(2024, 2, 28)
            .unwrap()
            .and_time(NaiveTime::MIN);
        // Every kind of fraction diesel writes (none, micro-, nanoseconds), across a leap day.
        for step in 0..5000_i64 {
            let t = start + Duration::nanoseconds(step * 86_413_000_123_457 / 1000 * 7);
            for text in [
                t.format("%F %T%.f").to_string(),
                t.format("%F %T").to_string(),
                t.format("%FT%T%.6f").to_string(),
            ] {
                let expected = NaiveDateTime::parse_from_str(&text, "%F %T%.f")
                    .or_else(|_| NaiveDateTime::parse_from_str(&text, "%FT%T%.f"))
                    .unwrap();
                assert_eq!(parse_text(&text), Some(expected), "{text}");
            }
        }
    }

    #[test]
    fn anything_else_is_left_to_diesel() {
        for text in [
            "",
            "2026-12-01",
            "2026-12-01 08:30",
            "2026-12-01 08:30:00Z",
            "2026-12-01 08:30:00+08:00",
            "2026-12-01 08:30:00.",
            "2026-12-01 08:30:00.1234567890",
            "2026-02-30 08:30:00",
            "2026-12-01 24:00:00",
            "2026-1a-01 08:30:00",
            "２０２６-12-01 08:30:00",
            "2461011.5",
        ] {
            assert_eq!(parse_text(text), None, "{text}");
        }
    }

    #[test]
    fn a_column_in_another_form_is_still_read_through_diesel() {
        use diesel::dsl::sql;
        use diesel::prelude::*;
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let read = |c: &mut SqliteConnection, expr: &str| {
            diesel::select(sql::<Timestamp>(expr))
                .get_result::<Stamp>(c)
                .unwrap()
                .0
        };
        let noon = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(read(&mut c, "'2026-12-01 12:00:00'"), noon);
        assert_eq!(read(&mut c, "'2026-12-01T12:00Z'"), noon);
        assert_eq!(read(&mut c, "'2026-12-01 12:00'"), noon);
        let none = diesel::select(sql::<Nullable<Timestamp>>("NULL"))
            .get_result::<MaybeStamp>(&mut c)
            .unwrap();
        assert_eq!(none, MaybeStamp(None));
    }
}
