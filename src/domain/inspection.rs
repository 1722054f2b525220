//! Inspection filings (督查报备) and "no disturbance without cause" (无事不扰): what a filing
//! is made of, how an observer's reported visit is matched with the filings, and when the
//! inspections of one project unit are too many. Pure: no I/O.

use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::domain::issue::text_enum;
use crate::domain::user::parse_text;
use crate::error::FieldError;

text_enum! {
    /// Where a filed inspection is.
    InspectionStatus {
        Planned = "planned",
        Cancelled = "cancelled",
        Done = "done",
    }
}

text_enum! {
    /// The periods whose inspections are counted against a threshold.
    AlertPeriod {
        Day = "day",
        Week = "week",
        Month = "month",
    }
}

impl AlertPeriod {
    /// The first day of the period `day` is in: the day, the Monday of its week, the first
    /// of its month.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            AlertPeriod::Day => day,
            AlertPeriod::Week => {
                day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()))
            }
            AlertPeriod::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day after the period that starts on `start`.
    pub fn end(self, start: NaiveDate) -> NaiveDate {
        match self {
            AlertPeriod::Day => start + TimeDelta::days(1),
            AlertPeriod::Week => start + TimeDelta::days(7),
            AlertPeriod::Month => {
                let (y, m) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(start + TimeDelta::days(31))
            }
        }
    }
}

/// More inspections of one project unit than this in a day, a calendar week or a calendar
/// month raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub per_day: i64,
    pub per_week: i64,
    pub per_month: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_day: 1,
            per_week: 2,
            per_month: 3,
        }
    }
}

impl Limits {
    pub fn of(&self, period: AlertPeriod) -> i64 {
        match period {
            AlertPeriod::Day => self.per_day,
            AlertPeriod::Week => self.per_week,
            AlertPeriod::Month => self.per_month,
        }
    }

    /// Each limit from 1 to 100, and a longer period allowing at least as many as a shorter.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, v) in [
            ("per_day", self.per_day),
            ("per_week", self.per_week),
            ("per_month", self.per_month),
        ] {
            if !(1..=100).contains(&v) {
                errors.push(FieldError::new(field, "invalid", "must be from 1 to 100"));
            }
        }
        if errors.is_empty() && !(self.per_day <= self.per_week && self.per_week <= self.per_month)
        {
            errors.push(FieldError::new(
                "per_week",
                "invalid",
                "a week allows at least as many as a day, a month at least as many as a week",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The periods a count of inspections goes over its limit in: (period, its limit).
pub fn crossed(limits: &Limits, counts: &[(AlertPeriod, i64)]) -> Vec<(AlertPeriod, i64)> {
    counts
        .iter()
        .filter(|(p, n)| *n > limits.of(*p))
        .map(|(p, _)| (*p, limits.of(*p)))
        .collect()
}

/// A filing a reported visit may be matched with.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub planned_on: NaiveDate,
    pub department_id: i64,
    pub joint_department_ids: Vec<i64>,
}

/// The filing a visit on `visited_on` matches: planned within `window_days` of it, by the
/// visiting department when it is named (as filer or joining department); the closest in
/// time, then the first filed.
pub fn best_match(
    visited_on: NaiveDate,
    window_days: i64,
    visiting: Option<i64>,
    candidates: &[Candidate],
) -> Option<i64> {
    candidates
        .iter()
        .filter(|c| (c.planned_on - visited_on).num_days().abs() <= window_days)
        .filter(|c| {
            visiting.is_none_or(|d| c.department_id == d || c.joint_department_ids.contains(&d))
        })
        .min_by_key(|c| ((c.planned_on - visited_on).num_days().abs(), c.id))
        .map(|c| c.id)
}

/// A time of day `HH:MM` (00:00–23:59).
pub fn parse_time_of_day(field: &str, raw: &str) -> Result<String, FieldError> {
    let ok =
        chrono::NaiveTime::parse_from_str(raw.trim(), "%H:%M").is_ok() && raw.trim().len() == 5;
    if ok {
        Ok(raw.trim().to_string())
    } else {
        Err(FieldError::new(field, "format", "must be a time HH:MM"))
    }
}

/// The inspectors' names: 1 to 20, each a one-line text of at most 50 characters.
pub fn parse_inspectors(raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.is_empty() || raw.len() > 20 {
        return Err(FieldError::new(
            "inspectors",
            "length",
            "name 1 to 20 inspectors",
        ));
    }
    raw.iter()
        .map(|n| parse_text("inspectors", n, 50))
        .collect()
}

/// A filing as the reports see it.
#[derive(Debug, Clone)]
pub struct FiledFact {
    pub department_id: i64,
    pub joint_department_ids: Vec<i64>,
    pub project_id: i64,
    pub planned_on: NaiveDate,
    pub cancelled: bool,
    pub took_place_on: Option<NaiveDate>,
    pub scores: Vec<i32>,
}

/// An unfiled visit an observer reported: (day, visiting department, issue).
pub type VisitFact = (NaiveDate, Option<i64>, i64);

/// An alert raised: (project, period, first day of the period).
pub type AlertFact = (i64, AlertPeriod, NaiveDate);

/// The inspection figures of a department, or of the county (docs/reports.md).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct InspectionFigures {
    pub inspections_filed: i64,
    pub unfiled_visits: i64,
    pub inspection_alerts: i64,
    pub inspection_ratings: i64,
    /// `null` below two ratings: one rating alone would be one observer's.
    pub inspection_rating_avg: Option<f64>,
}

/// Ratings are averaged from this many on.
pub const MIN_RATINGS_AVERAGED: usize = 2;

impl InspectionFigures {
    pub const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("inspections_filed", "报备检查数"),
        ("unfiled_visits", "未报备检查反映数"),
        ("inspection_alerts", "检查过频预警数"),
        ("inspection_ratings", "检查评价数"),
        ("inspection_rating_avg", "检查评价均分"),
    ];

    fn rated(&mut self, scores: &[i32]) {
        self.inspection_ratings = scores.len() as i64;
        self.inspection_rating_avg = (scores.len() >= MIN_RATINGS_AVERAGED).then(|| {
            let avg = scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64;
            (avg * 100.0).round() / 100.0
        });
    }
}

/// The inspection figures of the period `from`..=`to`, per department and for the county.
/// Filings count when planned in the period and not cancelled (per department: those it
/// filed); unfiled visits when visited in it (one department's visit on one day once); alerts
/// when raised in it (`alerts` holds those), per department when one of its filings or joint
/// filings is among those the alert counted; ratings of the inspections that took place in it.
pub fn figures(
    from: NaiveDate,
    to: NaiveDate,
    filings: &[FiledFact],
    visits: &[VisitFact],
    alerts: &[AlertFact],
) -> (
    std::collections::BTreeMap<i64, InspectionFigures>,
    InspectionFigures,
) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by: BTreeMap<i64, InspectionFigures> = BTreeMap::new();
    let mut county = InspectionFigures::default();
    let in_period = |d: NaiveDate| from <= d && d <= to;
    let live: Vec<&FiledFact> = filings.iter().filter(|f| !f.cancelled).collect();
    for f in live.iter().filter(|f| in_period(f.planned_on)) {
        county.inspections_filed += 1;
        by.entry(f.department_id).or_default().inspections_filed += 1;
    }
    let mut seen = BTreeSet::new();
    for (on, dept, issue) in visits.iter().filter(|v| in_period(v.0)) {
        if seen.insert((*on, dept.unwrap_or(-issue))) {
            county.unfiled_visits += 1;
            if let Some(d) = dept {
                by.entry(*d).or_default().unfiled_visits += 1;
            }
        }
    }
    for (project, period, start) in alerts {
        county.inspection_alerts += 1;
        let end = period.end(*start);
        let mut part: BTreeSet<i64> = BTreeSet::new();
        for f in live
            .iter()
            .filter(|f| f.project_id == *project && *start <= f.planned_on && f.planned_on < end)
        {
            part.insert(f.department_id);
            part.extend(f.joint_department_ids.iter().copied());
        }
        for d in part {
            by.entry(d).or_default().inspection_alerts += 1;
        }
    }
    let mut all_scores = Vec::new();
    let mut dept_scores: BTreeMap<i64, Vec<i32>> = BTreeMap::new();
    for f in live
        .iter()
        .filter(|f| f.took_place_on.is_some_and(in_period))
    {
        all_scores.extend(f.scores.iter().copied());
        dept_scores
            .entry(f.department_id)
            .or_default()
            .extend(f.scores.iter().copied());
    }
    county.rated(&all_scores);
    for (d, scores) in dept_scores {
        by.entry(d).or_default().rated(&scores);
    }
    (by, county)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn candidate(id: i64, on: &str, dept: i64, joint: &[i64]) -> Candidate {
        Candidate {
            id,
            planned_on: day(on),
            department_id: dept,
            joint_department_ids: joint.to_vec(),
        }
    }

    #[test]
    fn a_visit_matches_the_closest_filing_in_the_window_by_the_department_that_came() {
        let filings = [
            candidate(1, "2026-12-01", 7, &[]),
            candidate(2, "2026-12-03", 8, &[7]),
            candidate(3, "2026-12-05", 7, &[]),
        ];
        assert_eq!(best_match(day("2026-12-02"), 1, Some(7), &filings), Some(1));
        // The edges of the window count; one day beyond does not.
        assert_eq!(best_match(day("2026-12-04"), 1, Some(7), &filings), Some(2));
        assert_eq!(best_match(day("2026-12-07"), 1, Some(7), &filings), None);
        assert_eq!(best_match(day("2026-12-06"), 1, Some(7), &filings), Some(3));
        // A department that filed nothing and joined nothing near the day: unfiled.
        assert_eq!(best_match(day("2026-12-01"), 1, Some(9), &filings), None);
        // Nobody named: any filing in the window, the closest.
        assert_eq!(best_match(day("2026-12-04"), 1, None, &filings), Some(2));
        assert_eq!(best_match(day("2026-12-04"), 0, None, &filings), None);
    }

    #[test]
    fn periods_are_the_day_the_calendar_week_from_monday_and_the_calendar_month() {
        let d = day("2026-12-31"); // a Thursday
        assert_eq!(AlertPeriod::Day.start(d), d);
        assert_eq!(AlertPeriod::Week.start(d), day("2026-12-28"));
        assert_eq!(AlertPeriod::Week.end(day("2026-12-28")), day("2027-01-04"));
        assert_eq!(AlertPeriod::Month.start(d), day("2026-12-01"));
        assert_eq!(AlertPeriod::Month.end(day("2026-12-01")), day("2027-01-01"));
    }

    #[test]
    fn report_figures_count_each_filing_visit_alert_and_rating_where_it_belongs() {
        let f = |dept, joint: &[i64], on: &str, cancelled, took: Option<&str>, scores: &[i32]| {
            FiledFact {
                department_id: dept,
                joint_department_ids: joint.to_vec(),
                project_id: 1,
                planned_on: day(on),
                cancelled,
                took_place_on: took.map(day),
                scores: scores.to_vec(),
            }
        };
        let filings = [
            f(7, &[8], "2026-12-01", false, Some("2026-12-01"), &[4, 2, 5]),
            f(7, &[], "2026-12-02", false, None, &[]),
            f(7, &[], "2026-12-02", true, None, &[]),
            f(8, &[], "2026-12-02", false, Some("2026-12-02"), &[3]),
            f(8, &[], "2027-01-05", false, None, &[]),
        ];
        let visits = [
            (day("2026-12-03"), Some(8), 11),
            (day("2026-12-03"), Some(8), 12),
            (day("2026-12-04"), None, 13),
            (day("2026-11-30"), Some(7), 14),
        ];
        let alerts = [(1, AlertPeriod::Day, day("2026-12-02"))];
        let (by, county) = figures(
            day("2026-12-01"),
            day("2026-12-31"),
            &filings,
            &visits,
            &alerts,
        );
        assert_eq!(
            county,
            InspectionFigures {
                inspections_filed: 3,
                unfiled_visits: 2,
                inspection_alerts: 1,
                inspection_ratings: 4,
                inspection_rating_avg: Some(3.5),
            }
        );
        assert_eq!(
            by[&7],
            InspectionFigures {
                inspections_filed: 2,
                unfiled_visits: 0,
                inspection_alerts: 1,
                inspection_ratings: 3,
                inspection_rating_avg: Some(3.67),
            }
        );
        // One rating is counted but not averaged.
        assert_eq!(
            by[&8],
            InspectionFigures {
                inspections_filed: 1,
                unfiled_visits: 1,
                inspection_alerts: 1,
                inspection_ratings: 1,
                inspection_rating_avg: None,
            }
        );
    }

    #[test]
    fn a_count_over_its_limit_crosses_it() {
        let limits = Limits::default();
        let counts = [
            (AlertPeriod::Day, 2),
            (AlertPeriod::Week, 2),
            (AlertPeriod::Month, 4),
        ];
        assert_eq!(
            crossed(&limits, &counts),
            [(AlertPeriod::Day, 1), (AlertPeriod::Month, 3)]
        );
        assert!(
            Limits {
                per_day: 3,
                per_week: 2,
                per_month: 5
            }
            .check()
            .is_err()
        );
        assert!(
            Limits {
                per_day: 0,
                per_week: 2,
                per_month: 5
            }
            .check()
            .is_err()
        );
        assert!(Limits::default().check().is_ok());
    }
}
