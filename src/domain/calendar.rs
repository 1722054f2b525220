//! Working time: a business calendar per year (time zone, working weekdays, working hours
//! as several intervals a day, public holidays, and the weekend days that are working days
//! in exchange, 调休) and the arithmetic that walks it. Pure: no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

/// How a year's calendar is written (the body of `GET/PUT /api/v1/calendar/{year}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearCalendar {
    pub timezone: String,
    /// Working weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Working intervals of a day, `["08:30", "12:00"]`; `"24:00"` ends a day.
    pub hours: Vec<[String; 2]>,
    /// Days off that would otherwise be working days.
    pub holidays: Vec<NaiveDate>,
    /// Days that are working days although their weekday is not (make-up days, 调休).
    pub workdays: Vec<NaiveDate>,
}

/// The official calendars the service ships (State Council notices), by year.
const SHIPPED: &str = include_str!("../../assets/cn-calendar.json");

#[derive(Deserialize)]
struct ShippedFile {
    timezone: String,
    years: BTreeMap<String, ShippedYear>,
}

#[derive(Deserialize)]
struct ShippedYear {
    holidays: Vec<ShippedDay>,
    workdays: Vec<ShippedDay>,
}

#[derive(Deserialize)]
struct ShippedDay {
    date: NaiveDate,
}

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// The shipped calendars, parsed once per process.
fn shipped_calendars() -> &'static BTreeMap<i32, YearCalendar> {
    static SHIPPED_CALENDARS: std::sync::OnceLock<BTreeMap<i32, YearCalendar>> =
        std::sync::OnceLock::new();
    SHIPPED_CALENDARS.get_or_init(|| {
        let Ok(file) = serde_json::from_str::<ShippedFile>(SHIPPED) else {
            return BTreeMap::new();
        };
        file.years
            .iter()
            .filter_map(|(year, y)| {
                let year: i32 = year.parse().ok()?;
                Some((
                    year,
                    YearCalendar {
                        timezone: file.timezone.clone(),
                        weekdays: vec![1, 2, 3, 4, 5],
                        hours: default_hours(),
                        holidays: y.holidays.iter().map(|d| d.date).collect(),
                        workdays: y.workdays.iter().map(|d| d.date).collect(),
                    },
                ))
            })
            .collect()
    })
}

/// The shipped calendars, checked and ready for arithmetic, once per process.
pub fn shipped_rules() -> &'static BTreeMap<i32, DayRules> {
    static SHIPPED_RULES: std::sync::OnceLock<BTreeMap<i32, DayRules>> = std::sync::OnceLock::new();
    SHIPPED_RULES.get_or_init(|| {
        shipped_calendars()
            .iter()
            .filter_map(|(year, cal)| cal.validate(*year).ok().map(|rules| (*year, rules)))
            .collect()
    })
}

/// The county's usual office hours.
pub fn default_hours() -> Vec<[String; 2]> {
    vec![
        ["08:30".into(), "12:00".into()],
        ["14:30".into(), "18:00".into()],
    ]
}

impl YearCalendar {
    /// Monday to Friday, office hours, no holidays: what a year without a calendar gets.
    pub fn fallback() -> YearCalendar {
        YearCalendar {
            timezone: DEFAULT_TIMEZONE.into(),
            weekdays: vec![1, 2, 3, 4, 5],
            hours: default_hours(),
            holidays: Vec::new(),
            workdays: Vec::new(),
        }
    }

    /// The shipped official calendar of a year, if the service has one.
    pub fn shipped(year: i32) -> Option<YearCalendar> {
        shipped_calendars().get(&year).cloned()
    }

    pub fn shipped_years() -> Vec<i32> {
        shipped_calendars().keys().copied().collect()
    }

    /// Checks the calendar for `year`; the message names what is wrong.
    pub fn validate(&self, year: i32) -> Result<DayRules, String> {
        let offset = offset_of(&self.timezone).ok_or_else(|| {
            format!(
                "timezone {:?} is not supported (Asia/Shanghai, UTC, or ±HH:MM)",
                self.timezone
            )
        })?;
        let mut weekdays = [false; 7];
        for d in &self.weekdays {
            if !(1..=7).contains(d) {
                return Err(format!("weekday {d} is not 1 (Monday) to 7 (Sunday)"));
            }
            weekdays[usize::from(*d) - 1] = true;
        }
        let mut intervals = Vec::new();
        for [from, to] in &self.hours {
            let (a, b) = (parse_clock(from)?, parse_clock(to)?);
            if a >= b {
                return Err(format!("working hours {from}–{to} end before they start"));
            }
            intervals.push((a, b));
        }
        intervals.sort_unstable();
        if intervals.windows(2).any(|w| w[0].1 > w[1].0) {
            return Err("working hours overlap".into());
        }
        if intervals.is_empty() {
            return Err("a calendar needs working hours".into());
        }
        for d in self.holidays.iter().chain(&self.workdays) {
            if d.year() != year {
                return Err(format!("{d} is not in {year}"));
            }
        }
        let holidays: BTreeSet<NaiveDate> = self.holidays.iter().copied().collect();
        let workdays: BTreeSet<NaiveDate> = self.workdays.iter().copied().collect();
        if let Some(both) = holidays.intersection(&workdays).next() {
            return Err(format!("{both} is both a holiday and a working day"));
        }
        Ok(DayRules {
            offset_secs: offset,
            weekdays,
            intervals,
            holidays,
            workdays,
        })
    }
}

/// Supported time zones: fixed offsets. Asia/Shanghai has had no daylight saving since 1991.
fn offset_of(tz: &str) -> Option<i64> {
    match tz {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin" | "PRC" => Some(8 * 3600),
        "UTC" | "Etc/UTC" => Some(0),
        _ => {
            let (sign, rest) = match tz.as_bytes().first()? {
                b'+' => (1, &tz[1..]),
                b'-' => (-1, &tz[1..]),
                _ => return None,
            };
            let (h, m) = rest.split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 14 && m < 60 && h.to_string().len() <= 2).then_some(sign * (h * 3600 + m * 60))
        }
    }
}

/// `HH:MM` as seconds after midnight; `24:00` is the end of the day.
fn parse_clock(s: &str) -> Result<i64, String> {
    if s == "24:00" {
        return Ok(86_400);
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .map(|t| i64::from(t.num_seconds_from_midnight()))
        .map_err(|_| format!("{s:?} is not a time like 08:30"))
}

/// A year's calendar, checked and ready for arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRules {
    offset_secs: i64,
    weekdays: [bool; 7],
    intervals: Vec<(i64, i64)>,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl DayRules {
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        self.weekdays[d.weekday().num_days_from_monday() as usize]
    }
}

/// Walks working time across years. Years without a calendar use the fallback.
#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, DayRules>,
    fallback: DayRules,
}

/// Longest stretch the arithmetic walks before it gives up (a calendar with no working day).
const MAX_DAYS: i64 = 3 * 366;

impl Calendar {
    pub fn new(years: BTreeMap<i32, DayRules>) -> Calendar {
        let fallback = YearCalendar::fallback().validate(0).unwrap_or(DayRules {
            offset_secs: 8 * 3600,
            weekdays: [true, true, true, true, true, false, false],
            intervals: vec![(30_600, 43_200), (52_200, 64_800)],
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        });
        Calendar { years, fallback }
    }

    /// The shipped official years only.
    pub fn shipped() -> Calendar {
        Calendar::new(shipped_rules().clone())
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    fn rules(&self, d: NaiveDate) -> &DayRules {
        self.years.get(&d.year()).unwrap_or(&self.fallback)
    }

    fn to_local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        utc + Duration::seconds(self.rules(utc.date()).offset_secs)
    }

    fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        local - Duration::seconds(self.rules(local.date()).offset_secs)
    }

    /// The working intervals of a local day, as local instants.
    fn day_intervals(
        &self,
        d: NaiveDate,
    ) -> impl DoubleEndedIterator<Item = (NaiveDateTime, NaiveDateTime)> + '_ {
        let rules = self.rules(d);
        let working = if rules.is_working_day(d) {
            &rules.intervals[..]
        } else {
            &[]
        };
        let midnight = d.and_time(NaiveTime::MIN);
        working.iter().map(move |(a, b)| {
            (
                midnight + Duration::seconds(*a),
                midnight + Duration::seconds(*b),
            )
        })
    }

    /// Working seconds of the local day `d` between the local instants `lo` and `hi`. The
    /// intervals are compared as offsets from the day's midnight, so that the day's
    /// instants are not built (every page of issues asks this twice per running clock).
    fn within_day(&self, d: NaiveDate, lo: NaiveDateTime, hi: NaiveDateTime) -> Duration {
        let rules = self.rules(d);
        if !rules.is_working_day(d) {
            return Duration::zero();
        }
        let midnight = d.and_time(NaiveTime::MIN);
        worked(&rules.intervals, lo - midnight, hi - midnight)
    }

    /// Working seconds of the whole local days from `from` up to (not including) `to`,
    /// counted a year at a time: whole weeks by arithmetic, then the few days left, then
    /// the year's holidays and make-up days in the range. A deadline months away costs what
    /// one a day away does (the SLA view of every issue in a page asks this).
    fn whole_days(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut total = 0;
        let mut d = from;
        while d < to {
            let next_year = NaiveDate::from_ymd_opt(d.year() + 1, 1, 1).unwrap_or(to);
            let end = next_year.min(to);
            let rules = self.rules(d);
            let days = (end - d).num_days();
            let per_week = rules.weekdays.iter().filter(|w| **w).count() as i64;
            let first = d.weekday().num_days_from_monday() as usize;
            let rest = (0..(days % 7) as usize)
                .filter(|i| rules.weekdays[(first + i) % 7])
                .count() as i64;
            let weekday =
                |day: &NaiveDate| rules.weekdays[day.weekday().num_days_from_monday() as usize];
            let off = rules.holidays.range(d..end).filter(|h| weekday(h)).count() as i64;
            let on = rules.workdays.range(d..end).filter(|w| !weekday(w)).count() as i64;
            let working_days = (days / 7) * per_week + rest - off + on;
            let day: i64 = rules.intervals.iter().map(|(a, b)| b - a).sum();
            total += working_days * day;
            d = end;
        }
        total
    }

    /// The instant at which `seconds` of working time have passed since `start` (UTC).
    /// `None` when the calendar has no working time within three years.
    pub fn add(&self, start: NaiveDateTime, seconds: i64) -> Option<NaiveDateTime> {
        if seconds <= 0 {
            return Some(start);
        }
        let mut t = self.to_local(start);
        let mut remaining = Duration::seconds(seconds);
        let first = t.date();
        for day in 0..MAX_DAYS {
            let d = first + Duration::days(day);
            for (a, b) in self.day_intervals(d) {
                if t >= b {
                    continue;
                }
                let from = t.max(a);
                let available = b - from;
                if remaining <= available {
                    return Some(self.to_utc(from + remaining));
                }
                remaining -= available;
                t = b;
            }
        }
        None
    }

    /// The instant `seconds` of working time before `end` (UTC): the inverse of `add`.
    pub fn sub(&self, end: NaiveDateTime, seconds: i64) -> Option<NaiveDateTime> {
        if seconds <= 0 {
            return Some(end);
        }
        let mut t = self.to_local(end);
        let mut remaining = Duration::seconds(seconds);
        let last = t.date();
        for day in 0..MAX_DAYS {
            let d = last - Duration::days(day);
            for (a, b) in self.day_intervals(d).rev() {
                if t <= a {
                    continue;
                }
                let to = t.min(b);
                let available = to - a;
                if remaining <= available {
                    return Some(self.to_utc(to - remaining));
                }
                remaining -= available;
                t = a;
            }
        }
        None
    }

    /// Working seconds between two instants (negative when `to` is before `from`).
    pub fn between(&self, from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        if to < from {
            return -self.between(to, from);
        }
        let (a, b) = (self.to_local(from), self.to_local(to));
        let (first, last) = (a.date(), b.date());
        if first == last {
            return self.within_day(first, a, b).num_seconds();
        }
        let Some(second) = first.succ_opt() else {
            return 0;
        };
        let ends = self.within_day(first, a, second.and_time(NaiveTime::MIN))
            + self.within_day(last, last.and_time(NaiveTime::MIN), b);
        ends.num_seconds() + self.whole_days(second, last)
    }

    /// Working time from `from` to many instants, as [`Calendar::between`] counts it, for the
    /// clocks of a page that all count from now.
    pub fn from_instant(&self, from: NaiveDateTime) -> WorkingFrom<'_> {
        let a = self.to_local(from);
        let first = a.date();
        let rest_of_first = first
            .succ_opt()
            .map(|second| self.within_day(first, a, second.and_time(NaiveTime::MIN)));
        WorkingFrom {
            cal: self,
            from,
            first,
            rest_of_first,
            days: Vec::new(),
        }
    }

    /// The working seconds of a full working day in the year of `t` (a "working day" of a
    /// policy).
    pub fn working_day_seconds(&self, t: NaiveDateTime) -> i64 {
        self.rules(t.date())
            .intervals
            .iter()
            .map(|(a, b)| b - a)
            .sum()
    }

    /// The first working instant at or after `t` (where a clock started at `t` begins).
    pub fn next_working(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let local = self.to_local(t);
        for day in 0..MAX_DAYS {
            let d = local.date() + Duration::days(day);
            for (a, b) in self.day_intervals(d) {
                if local < b {
                    return Some(self.to_utc(local.max(a)));
                }
            }
        }
        None
    }
}

/// The working time of a day's `intervals` (seconds after midnight) between `lo` and `hi`
/// (offsets from that midnight).
fn worked(intervals: &[(i64, i64)], lo: Duration, hi: Duration) -> Duration {
    intervals
        .iter()
        .map(|&(s, e)| {
            (Duration::seconds(e).min(hi) - Duration::seconds(s).max(lo)).max(Duration::zero())
        })
        .fold(Duration::zero(), |a, b| a + b)
}

/// Working time counted from one instant ([`Calendar::from_instant`]). What does not depend
/// on where the count ends is worked out once: the rest of the first day. Each last day is
/// looked up once: the whole working days before it and its working intervals. A later
/// instant on another day then costs a little arithmetic on its time of day, where
/// [`Calendar::between`] walks the rules of three days and the holidays between them (the
/// clocks of a page of 50 issues asked it a hundred times, for 12% of the page's time).
pub struct WorkingFrom<'a> {
    cal: &'a Calendar,
    from: NaiveDateTime,
    /// The local day of `from`.
    first: NaiveDate,
    /// Working time from `from` to the end of its local day; `None` on the last day chrono
    /// knows.
    rest_of_first: Option<Duration>,
    /// Last days seen.
    days: Vec<LastDay<'a>>,
}

/// A day a count ends on: the day, the working seconds of the whole days between the first
/// day and it, and its working intervals (none on a day off).
type LastDay<'a> = (NaiveDate, i64, &'a [(i64, i64)]);

impl<'a> WorkingFrom<'a> {
    /// The most last days kept: a page's clocks end on a few dozen at most.
    const DAYS_KEPT: usize = 128;

    /// The instant the count starts from.
    pub fn start(&self) -> NaiveDateTime {
        self.from
    }

    pub fn calendar(&self) -> &'a Calendar {
        self.cal
    }

    /// Working seconds from the first instant to `to`: `Calendar::between(from, to)`.
    pub fn until(&mut self, to: NaiveDateTime) -> i64 {
        let b = self.cal.to_local(to);
        let last = b.date();
        let Some(rest_of_first) = self.rest_of_first else {
            return self.cal.between(self.from, to);
        };
        if to < self.from || last == self.first {
            return self.cal.between(self.from, to);
        }
        let (whole, intervals) = match self.days.iter().find(|(d, _, _)| *d == last) {
            Some(&(_, whole, intervals)) => (whole, intervals),
            None => {
                let (whole, intervals) = self.last_day(last);
                if self.days.len() < Self::DAYS_KEPT {
                    self.days.push((last, whole, intervals));
                }
                (whole, intervals)
            }
        };
        // `within_day(last, midnight, b)`, with the day's rules already looked up.
        let hi = Duration::seconds(i64::from(b.num_seconds_from_midnight()))
            + Duration::nanoseconds(i64::from(b.nanosecond()));
        let on_last = worked(intervals, Duration::zero(), hi);
        (rest_of_first + on_last).num_seconds() + whole
    }

    fn last_day(&self, last: NaiveDate) -> (i64, &'a [(i64, i64)]) {
        let whole = match self.first.succ_opt() {
            Some(second) => self.cal.whole_days(second, last),
            None => 0,
        };
        let cal: &'a Calendar = self.cal;
        let rules = cal.rules(last);
        let intervals: &'a [(i64, i64)] = if rules.is_working_day(last) {
            &rules.intervals
        } else {
            &[]
        };
        (whole, intervals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A local (Beijing) time as the UTC instant it is.
    fn bj(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time") - Duration::hours(8)
    }

    fn h(hours: f64) -> i64 {
        (hours * 3600.0) as i64
    }

    #[test]
    fn working_time_from_one_instant_to_many_is_what_between_counts() {
        // Instants over 2024–2027: a year before the shipped calendars, the two shipped
        // (holidays, make-up days), one after, and the year ends between them; at any second
        // and with sub-second parts, so that the count's rounding is compared too.
        let cal = Calendar::shipped();
        let start = bj("2024-12-20 00:00");
        let span = 3 * 366 * 86_400_i64;
        let mut seed = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // An instant within the span, at any second, with a sub-second part half the time.
        let at = |r: u64| {
            let nanos = if r & 1 == 0 {
                0
            } else {
                (r >> 33) as i64 % 1_000_000_000
            };
            start + Duration::seconds((r % span as u64) as i64) + Duration::nanoseconds(nanos)
        };
        let mut compared = 0;
        for _ in 0..400 {
            let from = at(next());
            let mut counted = cal.from_instant(from);
            // Deadlines around it: before, the same day, the coming weeks, months away; each
            // twice, so that a day already looked up is counted again.
            for _ in 0..60 {
                let r = next();
                let reach = [3_600_i64, 86_400, 14 * 86_400, 200 * 86_400][(r % 4) as usize];
                let offset = (next() % (2 * reach as u64)) as i64 - reach / 4;
                let to = from + Duration::seconds(offset) + Duration::nanoseconds((r >> 40) as i64);
                for _ in 0..2 {
                    assert_eq!(
                        counted.until(to),
                        cal.between(from, to),
                        "from {from} to {to}"
                    );
                    compared += 1;
                }
            }
            let to = at(next());
            assert_eq!(
                counted.until(to),
                cal.between(from, to),
                "from {from} to {to}"
            );
        }
        assert!(compared >= 48_000);
        // Across a holiday week: the first working day after the National Day holidays.
        let mut counted = cal.from_instant(bj("2026-09-30 17:00"));
        assert_eq!(counted.until(bj("2026-10-08 09:30")), h(2.0));
    }

    #[test]
    fn the_shipped_calendars_are_valid_and_complete() {
        assert_eq!(YearCalendar::shipped_years(), vec![2025, 2026]);
        let y2026 = YearCalendar::shipped(2026).expect("2026");
        assert!(y2026.validate(2026).is_ok());
        assert!(
            y2026
                .holidays
                .contains(&NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"))
        );
        assert!(
            y2026
                .workdays
                .contains(&NaiveDate::from_ymd_opt(2026, 2, 14).expect("date"))
        );
        let cal = Calendar::shipped();
        assert!(cal.has_year(2025) && cal.has_year(2026) && !cal.has_year(2027));
    }

    #[test]
    // Long on purpose: a table of cases, one line each.
    fn deadlines_walk_working_time_table() {
        let cal = Calendar::shipped();
        let cases: &[(&str, f64, &str, &str)] = &[
            // start (Beijing), working hours, deadline (Beijing), what it shows
            (
                "2026-11-25 09:00",
                2.0,
                "2026-11-25 11:00",
                "inside the morning",
            ),
            (
                "2026-11-25 11:00",
                2.0,
                "2026-11-25 15:30",
                "across the lunch break",
            ),
            (
                "2026-11-25 12:30",
                1.0,
                "2026-11-25 15:30",
                "starting in the lunch break",
            ),
            (
                "2026-11-25 17:00",
                2.0,
                "2026-11-26 09:30",
                "across the night",
            ),
            (
                "2026-11-25 20:00",
                1.0,
                "2026-11-26 09:30",
                "starting at night",
            ),
            (
                "2026-11-27 17:00",
                2.0,
                "2026-11-30 09:30",
                "across a weekend",
            ),
            (
                "2026-11-28 10:00",
                1.0,
                "2026-11-30 09:30",
                "starting on a Saturday",
            ),
            (
                "2026-09-30 17:00",
                2.0,
                "2026-10-08 09:30",
                "across the National Day week",
            ),
            (
                "2026-10-09 17:00",
                2.0,
                "2026-10-10 09:30",
                "into a make-up Saturday",
            ),
            (
                "2026-02-13 17:30",
                1.0,
                "2026-02-14 09:00",
                "make-up Saturday before Spring Festival",
            ),
            (
                "2026-02-14 17:00",
                2.0,
                "2026-02-24 09:30",
                "across the Spring Festival week",
            ),
            (
                "2025-12-31 17:00",
                2.0,
                "2026-01-04 09:30",
                "across the new year into a make-up Sunday",
            ),
            (
                "2026-11-25 08:30",
                7.0,
                "2026-11-25 18:00",
                "one working day exactly",
            ),
            (
                "2026-11-25 08:30",
                35.0,
                "2026-12-01 18:00",
                "five working days",
            ),
            (
                "2026-11-25 12:00",
                0.5,
                "2026-11-25 15:00",
                "starting at the end of an interval",
            ),
        ];
        for (start, hours, due, what) in cases {
            let got = cal.add(bj(start), h(*hours)).expect("deadline");
            assert_eq!(got, bj(due), "{what}: {start} + {hours} h");
            assert_eq!(
                cal.between(bj(start), got),
                h(*hours),
                "{what}: working time in between"
            );
        }
    }

    #[test]
    fn time_zone_edges_follow_the_local_day() {
        let cal = Calendar::shipped();
        // 2026-11-24 23:00 UTC is 07:00 on Wednesday the 25th in Beijing.
        let start = NaiveDateTime::parse_from_str("2026-11-24 23:00", "%Y-%m-%d %H:%M").expect("t");
        assert_eq!(cal.add(start, h(1.0)), Some(bj("2026-11-25 09:30")));
        // 16:00 UTC on a Friday is midnight into Saturday in Beijing: nothing until Monday.
        let friday =
            NaiveDateTime::parse_from_str("2026-11-27 16:00", "%Y-%m-%d %H:%M").expect("t");
        assert_eq!(cal.add(friday, h(0.5)), Some(bj("2026-11-30 09:00")));
    }

    #[test]
    fn a_year_without_a_calendar_falls_back_to_monday_to_friday() {
        let cal = Calendar::shipped();
        // 2027-01-01 is a Friday; no 2027 calendar, so it is a working day here.
        assert_eq!(
            cal.add(bj("2027-01-01 08:30"), h(1.0)),
            Some(bj("2027-01-01 09:30"))
        );
        assert_eq!(
            cal.add(bj("2027-01-01 17:30"), h(1.0)),
            Some(bj("2027-01-04 09:00"))
        );
    }

    #[test]
    fn a_calendar_with_no_working_time_gives_no_deadline() {
        let mut y = YearCalendar::fallback();
        y.weekdays.clear();
        let rules = y.validate(2026).expect("valid but empty");
        let cal = Calendar::new(
            [
                (2026, rules.clone()),
                (2027, rules.clone()),
                (2028, rules.clone()),
                (2029, rules),
            ]
            .into(),
        );
        assert_eq!(cal.add(bj("2026-03-02 09:00"), 60), None);
    }

    #[test]
    fn bad_calendars_are_refused_with_a_reason() {
        let base = YearCalendar::fallback;
        let mut c = base();
        c.timezone = "Mars/Olympus".into();
        assert!(c.validate(2026).is_err());
        let mut c = base();
        c.weekdays = vec![0];
        assert!(c.validate(2026).is_err());
        let mut c = base();
        c.hours = vec![["12:00".into(), "08:00".into()]];
        assert!(c.validate(2026).is_err());
        let mut c = base();
        c.hours = vec![
            ["08:00".into(), "12:00".into()],
            ["11:00".into(), "13:00".into()],
        ];
        assert!(c.validate(2026).is_err());
        let mut c = base();
        c.holidays = vec![NaiveDate::from_ymd_opt(2025, 1, 1).expect("d")];
        assert!(c.validate(2026).is_err());
        let mut c = base();
        c.hours = vec![["00:00".into(), "24:00".into()]];
        c.timezone = "+08:00".into();
        assert!(c.validate(2026).is_ok());
    }

    /// A small deterministic generator, so the property test needs no extra crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    /// Working seconds between two instants, walked a day at a time: what `between` counts.
    fn between_by_walking(cal: &Calendar, from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        if to < from {
            return -between_by_walking(cal, to, from);
        }
        let (a, b) = (cal.to_local(from), cal.to_local(to));
        let mut total = Duration::zero();
        let mut d = a.date();
        while d <= b.date() {
            for (s, e) in cal.day_intervals(d) {
                let (lo, hi) = (s.max(a), e.min(b));
                if hi > lo {
                    total += hi - lo;
                }
            }
            d += Duration::days(1);
        }
        total.num_seconds()
    }

    #[test]
    fn working_time_between_any_two_instants_is_what_walking_the_days_counts() {
        // The shipped years, the fallback around them, and a year with odd rules: Tuesday
        // to Saturday, a make-up Sunday, a holiday on a day off, three intervals.
        let mut odd = YearCalendar::fallback();
        odd.weekdays = vec![2, 3, 4, 5, 6];
        odd.hours = vec![
            ["07:00".into(), "09:15".into()],
            ["10:00".into(), "12:00".into()],
            ["13:00".into(), "24:00".into()],
        ];
        odd.timezone = "-03:30".into();
        odd.workdays = vec![NaiveDate::from_ymd_opt(2028, 3, 5).expect("a Sunday")];
        odd.holidays = vec![
            NaiveDate::from_ymd_opt(2028, 3, 6).expect("a Monday, off anyway"),
            NaiveDate::from_ymd_opt(2028, 3, 7).expect("a Tuesday"),
        ];
        let mut years = shipped_rules().clone();
        years.insert(2028, odd.validate(2028).expect("valid"));
        let cal = Calendar::new(years);
        let base = bj("2023-11-01 00:00");
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        for i in 0..20_000 {
            // With microseconds, as the database holds them.
            let from = base
                + Duration::seconds(rng.next(6 * 366 * 86_400) as i64)
                + Duration::microseconds(rng.next(1_000_000) as i64);
            // Mostly near each other (a deadline days away), sometimes years apart.
            let span = if i % 10 == 0 {
                6 * 366 * 86_400
            } else {
                20 * 86_400
            };
            let to = from
                + Duration::seconds(rng.next(2 * span) as i64 - span as i64)
                + Duration::microseconds(rng.next(1_000_000) as i64);
            assert_eq!(
                cal.between(from, to),
                between_by_walking(&cal, from, to),
                "from {from} to {to}"
            );
        }
    }

    #[test]
    fn for_any_start_and_duration_the_deadline_holds_exactly_that_much_working_time() {
        let cal = Calendar::shipped();
        let base = bj("2024-12-20 00:00");
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            // Any instant from late 2024 to early 2027, any duration up to 30 working days.
            let start = base + Duration::seconds(rng.next(2 * 366 * 86_400 + 30 * 86_400) as i64);
            let seconds = rng.next(30 * 7 * 3600) as i64 + 1;
            let due = cal.add(start, seconds).expect("deadline");
            assert_eq!(
                cal.between(start, due),
                seconds,
                "from {start} for {seconds} s"
            );
            let back = cal.sub(due, seconds).expect("walk back");
            assert_eq!(
                Some(back),
                cal.next_working(start),
                "walking back from {due}"
            );
            // And not a second earlier: the deadline is the first such instant.
            assert!(cal.between(start, due - Duration::seconds(1)) < seconds);
        }
    }
}
