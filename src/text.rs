//! How the service writes for people and for machines, below every layer that writes: the
//! language of a human text, and timestamps as RFC 3339 in UTC with microseconds.

use chrono::{NaiveDateTime, SecondsFormat};

/// The language a human-readable text is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Chinese is the default; English when the caller's `Accept-Language` prefers it.
    pub fn from_accept_language(value: Option<&str>) -> Lang {
        let Some(value) = value else { return Lang::Zh };
        // The first listed language wins; quality values are rarely used by the apps.
        let first = value
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

pub fn rfc3339(t: &NaiveDateTime) -> String {
    Rfc3339::of(t).as_str().to_owned()
}

/// A timestamp as RFC 3339 in UTC with microseconds (`2026-12-01T08:30:00.000000Z`), written
/// into a buffer on the stack: serializing a page of issues writes hundreds of them, and the
/// general formatter (and a `String` each) was a twentieth of a page's time.
pub struct Rfc3339 {
    buf: [u8; 27],
    /// The general formatter's output, for what the fixed form cannot hold (years outside
    /// 0000–9999, a leap second).
    other: Option<String>,
}

impl Rfc3339 {
    pub fn of(t: &NaiveDateTime) -> Rfc3339 {
        use chrono::{Datelike, Timelike};
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return Rfc3339 {
                buf: [0; 27],
                other: Some(t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)),
            };
        }
        let mut buf = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 6, nanos / 1_000);
        Rfc3339 { buf, other: None }
    }

    pub fn as_str(&self) -> &str {
        match &self.other {
            Some(s) => s,
            // Only ASCII digits and separators were written.
            None => std::str::from_utf8(&self.buf).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_the_general_formatter_writes_them() {
        use chrono::{DateTime, Duration};
        let general = |t: &NaiveDateTime| t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut t = DateTime::from_timestamp(0, 0)
            .map(|t| t.naive_utc())
            .expect("epoch");
        // Every few hours over three centuries, with odd microseconds and nanoseconds.
        for i in 0..200_000i64 {
            t += Duration::seconds(17_711 + i % 3_600)
                + Duration::nanoseconds(i * 7_919 % 1_000_000_000);
            assert_eq!(rfc3339(&t), general(&t), "{t:?}");
        }
        for s in [
            "0000-01-01T00:00:00",
            "9999-12-31T23:59:59.999999999",
            "2026-02-28T23:59:59.000001",
        ] {
            let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").expect("time");
            assert_eq!(rfc3339(&t), general(&t));
        }
        // Outside the fixed form: the general formatter's answer.
        let far = NaiveDateTime::parse_from_str("+12026-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S");
        if let Ok(far) = far {
            assert_eq!(rfc3339(&far), general(&far));
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("leap second");
        assert_eq!(rfc3339(&leap), general(&leap));
    }

    #[test]
    fn english_is_chosen_only_when_asked_for() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Lang::Zh
        );
    }
}
