//! Login throttling as pure arithmetic over a key's record of failures.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::ThrottleSettings;

/// What is remembered about one key (a username or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    pub failures: i64,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

/// Seconds until the key may try again, if it is locked now.
pub fn retry_after(record: Option<&FailureRecord>, now: NaiveDateTime) -> Option<u64> {
    let until = record?.locked_until?;
    if until > now {
        let secs = (until - now).num_milliseconds().div_euclid(1000) + 1;
        Some(secs.max(1) as u64)
    } else {
        None
    }
}

/// The record after one more failure. Failures are counted within a window; the
/// `limit`-th failure in a window locks the key for the lockout period.
pub fn after_failure(
    record: Option<&FailureRecord>,
    now: NaiveDateTime,
    limit: u32,
    policy: &ThrottleSettings,
) -> FailureRecord {
    let window = TimeDelta::from_std(policy.window).unwrap_or(TimeDelta::minutes(15));
    let lockout = TimeDelta::from_std(policy.lockout).unwrap_or(TimeDelta::minutes(15));
    let (failures, started) = match record {
        Some(r) if now - r.window_started_at < window && r.locked_until.is_none_or(|u| u > now) => {
            (r.failures + 1, r.window_started_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= i64::from(limit)).then(|| now + lockout);
    FailureRecord {
        failures,
        window_started_at: started,
        locked_until,
    }
}

/// The record with one counted attempt taken back (it turned out to be a right password).
/// A lock that this attempt's count set is lifted with it.
pub fn forgive_one(record: &FailureRecord, limit: u32) -> FailureRecord {
    let failures = (record.failures - 1).max(0);
    FailureRecord {
        failures,
        window_started_at: record.window_started_at,
        locked_until: record.locked_until.filter(|_| failures >= i64::from(limit)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }

    fn policy() -> ThrottleSettings {
        ThrottleSettings {
            max_failures_per_user: 3,
            max_failures_per_address: 10,
            window: Duration::from_secs(600),
            lockout: Duration::from_secs(300),
        }
    }

    #[test]
    fn the_third_failure_in_a_window_locks_the_key() {
        let p = policy();
        let r1 = after_failure(None, t(0), 3, &p);
        let r2 = after_failure(Some(&r1), t(10), 3, &p);
        assert_eq!(retry_after(Some(&r2), t(11)), None);
        let r3 = after_failure(Some(&r2), t(20), 3, &p);
        assert_eq!(r3.failures, 3);
        assert_eq!(retry_after(Some(&r3), t(20)), Some(301));
        assert_eq!(retry_after(Some(&r3), t(319)), Some(2));
        assert_eq!(retry_after(Some(&r3), t(320)), None);
    }

    #[test]
    fn forgiving_the_attempt_that_locked_a_key_lifts_the_lock() {
        let p = policy();
        let r1 = after_failure(None, t(0), 2, &p);
        let r2 = after_failure(Some(&r1), t(1), 2, &p);
        assert!(r2.locked_until.is_some());
        let back = forgive_one(&r2, 2);
        assert_eq!(back.failures, 1);
        assert_eq!(back.locked_until, None);
        assert_eq!(forgive_one(&back, 2).failures, 0);
        assert_eq!(forgive_one(&forgive_one(&back, 2), 2).failures, 0);
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let p = policy();
        let r1 = after_failure(None, t(0), 3, &p);
        let r2 = after_failure(Some(&r1), t(10), 3, &p);
        let r3 = after_failure(Some(&r2), t(700), 3, &p);
        assert_eq!(r3.failures, 1);
        assert_eq!(r3.window_started_at, t(700));
    }

    #[test]
    fn a_failure_after_an_expired_lock_starts_over() {
        let p = policy();
        let mut r = after_failure(None, t(0), 1, &p);
        assert!(retry_after(Some(&r), t(1)).is_some());
        r = after_failure(Some(&r), t(400), 3, &p);
        assert_eq!(r.failures, 1);
        assert_eq!(r.locked_until, None);
    }
}
