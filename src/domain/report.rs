//! The rules of the supervisors' reports, with no I/O: what a period is, how each figure is
//! derived from the counts the database returns, and how departments are ranked. Every
//! definition here is written out in `docs/reports.md`.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// The county keeps Beijing time: periods are whole local days.
const COUNTY_OFFSET_SECS: i64 = 8 * 3600;

/// A period of whole days, `from` and `to` inclusive, in county time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, &'static str> {
        if to < from {
            return Err("`to` is before `from`");
        }
        Ok(Period { from, to })
    }

    /// `YYYY-MM`.
    pub fn month(raw: &str) -> Option<Period> {
        let (y, m) = raw.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let from = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
        let next = if from.month() == 12 {
            NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)?
        };
        Some(Period {
            from,
            to: next.pred_opt()?,
        })
    }

    /// `YYYY-Qn`.
    pub fn quarter(raw: &str) -> Option<Period> {
        let (y, q) = raw.split_once("-Q")?;
        if y.len() != 4 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        let from = NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1)?;
        let to = if q == 4 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, q * 3 + 1, 1)?
        }
        .pred_opt()?;
        Some(Period { from, to })
    }

    /// The month before this one (for a period that is a month).
    pub fn previous_month(&self) -> Option<Period> {
        let last = self.from.pred_opt()?;
        Period::month(&format!("{:04}-{:02}", last.year(), last.month()))
    }

    /// The half-open UTC interval `[start, end)` the period covers. The days are clamped to
    /// the years 1900 to 9999, which hold every stored time and which both databases and the
    /// date arithmetic take without overflow.
    pub fn utc_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or_default();
        let midnight = |d: NaiveDate| {
            d.clamp(first, last)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
        };
        let offset = Duration::seconds(COUNTY_OFFSET_SECS);
        let start = midnight(self.from) - offset;
        let end = midnight(self.to) + Duration::days(1) - offset;
        (start, end)
    }
}

/// What the database counts for one department (or project) in a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Issues filed in the period that reached the department.
    pub received: i64,
    /// Of those, the ones it has now.
    pub held: i64,
    pub acknowledged: i64,
    pub acknowledged_on_time: i64,
    /// Held issues whose acknowledgement is decided: acknowledged, or past the deadline.
    pub ack_decided: i64,
    pub resolved: i64,
    pub resolved_on_time: i64,
    pub resolve_decided: i64,
    pub closed: i64,
    pub withdrawn: i64,
    /// Issues it gave back to the supervisors' queue.
    pub returned: i64,
    pub reopened: i64,
    /// Held issues resolved at least once (resolved now, or reopened).
    pub ever_resolved: i64,
    pub extensions_requested: i64,
    pub extensions_granted: i64,
    pub chases: i64,
    pub rated: i64,
    pub rating_sum: i64,
    pub satisfied: i64,
    pub overdue_now: i64,
    pub ack_seconds_median: Option<i64>,
    pub ack_seconds_p90: Option<i64>,
    pub resolve_seconds_median: Option<i64>,
    pub resolve_seconds_p90: Option<i64>,
}

/// The rates and averages derived from the counts; `None` where there is nothing to divide.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    pub ack_on_time_rate: Option<f64>,
    pub resolve_on_time_rate: Option<f64>,
    pub closure_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub rating_avg: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub ack_hours_median: Option<f64>,
    pub ack_hours_p90: Option<f64>,
    pub resolve_hours_median: Option<f64>,
    pub resolve_hours_p90: Option<f64>,
}

/// `num / den`, rounded to four places; `None` when `den` is 0.
pub fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| round(num as f64 / den as f64, 4))
}

pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn hours(seconds: Option<i64>) -> Option<f64> {
    seconds.map(|s| round(s as f64 / 3600.0, 2))
}

impl Counts {
    pub fn rates(&self) -> Rates {
        Rates {
            ack_on_time_rate: ratio(self.acknowledged_on_time, self.ack_decided),
            resolve_on_time_rate: ratio(self.resolved_on_time, self.resolve_decided),
            closure_rate: ratio(self.closed, self.held - self.withdrawn),
            return_rate: ratio(self.returned, self.received),
            reopen_rate: ratio(self.reopened, self.ever_resolved),
            rating_avg: (self.rated > 0)
                .then(|| round(self.rating_sum as f64 / self.rated as f64, 2)),
            satisfaction_rate: ratio(self.satisfied, self.rated),
            ack_hours_median: hours(self.ack_seconds_median),
            ack_hours_p90: hours(self.ack_seconds_p90),
            resolve_hours_median: hours(self.resolve_seconds_median),
            resolve_hours_p90: hours(self.resolve_seconds_p90),
        }
    }
}

/// The nearest-rank positions (1-based) of the median and the 90th percentile among `n`
/// sorted values: ⌈n/2⌉ and ⌈0.9·n⌉. The SQL uses the same two formulas.
pub fn percentile_ranks(n: i64) -> (i64, i64) {
    ((n + 1) / 2, (9 * n + 9) / 10)
}

/// The weights of the quarterly score, as documented.
pub const WEIGHT_RESPONSE: f64 = 0.25;
pub const WEIGHT_ON_TIME: f64 = 0.35;
pub const WEIGHT_SATISFACTION: f64 = 0.25;
pub const WEIGHT_CLOSURE: f64 = 0.15;
pub const PENALTY_REOPEN: f64 = 20.0;
pub const PENALTY_RETURN: f64 = 20.0;

/// The score out of 100: the weighted mean of the four rates a department has data for,
/// times 100, less 20 points per unit of reopen rate and of return rate. `None` when none
/// of the four rates has data.
pub fn score(r: &Rates) -> Option<f64> {
    let parts = [
        (WEIGHT_RESPONSE, r.ack_on_time_rate),
        (WEIGHT_ON_TIME, r.resolve_on_time_rate),
        (WEIGHT_SATISFACTION, r.satisfaction_rate),
        (WEIGHT_CLOSURE, r.closure_rate),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(w, v)| v.map(|v| (w * v, *w)))
        .fold((0.0, 0.0), |(s, t), (x, w)| (s + x, t + w));
    if weight == 0.0 {
        return None;
    }
    let penalty = PENALTY_REOPEN * r.reopen_rate.unwrap_or(0.0)
        + PENALTY_RETURN * r.return_rate.unwrap_or(0.0);
    Some(round(100.0 * sum / weight - penalty, 2))
}

/// One department as the ranking sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub department_id: i64,
    pub code: String,
    pub received: i64,
    pub score: Option<f64>,
    pub resolve_on_time_rate: Option<f64>,
}

/// Ranks the candidates with at least `min_issues` received and a score: by score, then
/// by on-time resolution, then by more issues received, then by department code; equal on
/// all of these shares a rank (1, 2, 2, 4). Returns (index into `candidates`, rank or None)
/// in table order: ranked first, then the unranked by code.
pub fn rank(candidates: &[Candidate], min_issues: i64) -> Vec<(usize, Option<i64>)> {
    let eligible = |c: &Candidate| c.received >= min_issues && c.score.is_some();
    let key = |c: &Candidate| {
        (
            std::cmp::Reverse(ordered(c.score)),
            std::cmp::Reverse(ordered(c.resolve_on_time_rate)),
            std::cmp::Reverse(c.received),
        )
    };
    let mut ranked: Vec<usize> = (0..candidates.len())
        .filter(|i| eligible(&candidates[*i]))
        .collect();
    ranked.sort_by(|a, b| {
        key(&candidates[*a])
            .cmp(&key(&candidates[*b]))
            .then_with(|| candidates[*a].code.cmp(&candidates[*b].code))
    });
    let mut out = Vec::with_capacity(candidates.len());
    for (pos, &i) in ranked.iter().enumerate() {
        let rank = match out.last() {
            Some(&(prev, Some(r))) if key(&candidates[prev]) == key(&candidates[i]) => r,
            _ => pos as i64 + 1,
        };
        out.push((i, Some(rank)));
    }
    let mut rest: Vec<usize> = (0..candidates.len())
        .filter(|i| !eligible(&candidates[*i]))
        .collect();
    rest.sort_by(|a, b| candidates[*a].code.cmp(&candidates[*b].code));
    out.extend(rest.into_iter().map(|i| (i, None)));
    out
}

/// A total order on optional figures for sorting (no data sorts lowest).
fn ordered(x: Option<f64>) -> i64 {
    x.map_or(i64::MIN, |v| (v * 10_000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_at_the_ends_of_the_calendar_has_bounds_and_no_overflow() {
        let p = Period::new(NaiveDate::MIN, NaiveDate::MAX).ok();
        let (start, end) = p.map(|p| p.utc_bounds()).unwrap_or_default();
        assert_eq!(start.to_string(), "1899-12-31 16:00:00");
        assert_eq!(end.to_string(), "9999-12-30 16:00:00");
        assert!(Period::new(NaiveDate::MAX, NaiveDate::MIN).is_err());
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_and_quarters_are_whole_local_days() {
        assert_eq!(
            Period::month("2026-02"),
            Some(Period {
                from: d("2026-02-01"),
                to: d("2026-02-28")
            })
        );
        assert_eq!(
            Period::quarter("2026-Q4"),
            Some(Period {
                from: d("2026-10-01"),
                to: d("2026-12-31")
            })
        );
        assert_eq!(Period::month("2026-13"), None);
        assert_eq!(Period::month("2026-1"), None);
        assert_eq!(Period::quarter("2026-Q5"), None);
        let p = Period::month("2026-11").unwrap();
        let (start, end) = p.utc_bounds();
        assert_eq!(start.to_string(), "2026-10-31 16:00:00");
        assert_eq!(end.to_string(), "2026-11-30 16:00:00");
        assert_eq!(p.previous_month(), Period::month("2026-10"));
        assert_eq!(
            Period::month("2026-01").unwrap().previous_month(),
            Period::month("2025-12")
        );
        assert!(Period::new(d("2026-02-02"), d("2026-02-01")).is_err());
    }

    #[test]
    fn rates_divide_what_is_decided_and_are_null_without_data() {
        let c = Counts {
            received: 10,
            held: 8,
            acknowledged: 6,
            acknowledged_on_time: 3,
            ack_decided: 7,
            withdrawn: 2,
            closed: 3,
            returned: 2,
            rated: 3,
            rating_sum: 13,
            satisfied: 2,
            ..Default::default()
        };
        let r = c.rates();
        assert_eq!(r.ack_on_time_rate, Some(0.4286));
        assert_eq!(r.closure_rate, Some(0.5));
        assert_eq!(r.return_rate, Some(0.2));
        assert_eq!(r.rating_avg, Some(4.33));
        assert_eq!(r.satisfaction_rate, Some(0.6667));
        assert_eq!(r.resolve_on_time_rate, None);
        assert_eq!(r.reopen_rate, None);
        assert_eq!(Counts::default().rates().closure_rate, None);
    }

    #[test]
    fn percentile_ranks_are_nearest_rank() {
        assert_eq!(percentile_ranks(1), (1, 1));
        assert_eq!(percentile_ranks(2), (1, 2));
        assert_eq!(percentile_ranks(10), (5, 9));
        assert_eq!(percentile_ranks(11), (6, 10));
    }

    fn cand(code: &str, received: i64, score: Option<f64>, on_time: Option<f64>) -> Candidate {
        Candidate {
            department_id: received,
            code: code.into(),
            received,
            score,
            resolve_on_time_rate: on_time,
        }
    }

    #[test]
    fn the_score_weighs_what_is_known_and_penalises_reopens_and_returns() {
        let r = Rates {
            ack_on_time_rate: Some(1.0),
            resolve_on_time_rate: Some(0.5),
            closure_rate: None,
            return_rate: Some(0.1),
            reopen_rate: None,
            rating_avg: None,
            satisfaction_rate: None,
            ack_hours_median: None,
            ack_hours_p90: None,
            resolve_hours_median: None,
            resolve_hours_p90: None,
        };
        // (0.25·1 + 0.35·0.5) / 0.6 = 0.70833…, ×100 − 20·0.1
        assert_eq!(score(&r), Some(68.83));
    }

    #[test]
    fn ranking_needs_volume_and_breaks_ties_by_the_documented_rule() {
        let cs = vec![
            cand("C", 9, Some(80.0), Some(0.9)),
            cand("A", 9, Some(80.0), Some(0.9)),
            cand("B", 3, Some(99.0), Some(1.0)),
            cand("D", 12, Some(80.0), Some(0.9)),
            cand("E", 8, Some(90.0), Some(0.5)),
            cand("F", 20, None, None),
        ];
        let order: Vec<(String, Option<i64>)> = rank(&cs, 5)
            .into_iter()
            .map(|(i, r)| (cs[i].code.clone(), r))
            .collect();
        assert_eq!(
            order,
            vec![
                ("E".into(), Some(1)),
                ("D".into(), Some(2)),
                ("A".into(), Some(3)),
                ("C".into(), Some(3)),
                ("B".into(), None),
                ("F".into(), None),
            ]
        );
    }
}
