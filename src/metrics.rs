//! Prometheus metrics: request counts by route and status, latency histograms by route.
//! Every label comes from a closed set, so that no request can grow the table: routes are
//! the matched patterns (`/api/v1/users/{id}`) or one label for anything unmatched, and a
//! method outside the standard ones counts as `other`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The label of an unmatched route; route patterns come from the route table.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// The method label: one of the standard methods, else `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(&'static str, &'static str), RouteStats>>,
    /// SLA timers this instance fired.
    pub sla_fired: std::sync::atomic::AtomicU64,
}

/// The database's share of the operational figures, read when scraped.
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    pub due_timers: i64,
    pub oldest_due: Option<chrono::NaiveDateTime>,
    pub pending_deliveries: i64,
    pub oldest_pending: Option<chrono::NaiveDateTime>,
    pub dead_deliveries: i64,
}

impl Metrics {
    /// Counts one answer. `route` must be a pattern of the route table or
    /// [`UNMATCHED_ROUTE`]; the method is reduced to its label here.
    pub fn observe(&self, method: &str, route: &'static str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let key = (method_label(method), route);
        let stats = routes.entry(key).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.sum += seconds;
        stats.count += 1;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(routes) = self.routes.lock() else {
            return out;
        };
        out.push_str(
            "# HELP http_requests_total HTTP requests answered, by method, route and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route), stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP http_request_duration_seconds Time to answer, by method and route.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        out
    }
}

/// The pool, the SLA worker and the outbox, in Prometheus text; without a backlog (the
/// database did not answer) `observer_desk_database_up` is 0 and the backlog is left out.
pub fn render_operations(
    pool: &crate::db::PoolReport,
    sla_fired: u64,
    backlog: Option<&Backlog>,
    now: chrono::NaiveDateTime,
) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in lines {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let one = |v: String| vec![(String::new(), v)];
    metric(
        "observer_desk_database_up",
        "gauge",
        "Whether the database answered this scrape.",
        &one(u8::from(backlog.is_some()).to_string()),
    );
    metric(
        "db_pool_connections",
        "gauge",
        "Connections of the read pool (PostgreSQL: the only pool), by state.",
        &[
            ("{state=\"in_use\"}".into(), pool.in_use.to_string()),
            ("{state=\"idle\"}".into(), pool.idle.to_string()),
        ],
    );
    metric(
        "db_pool_max_connections",
        "gauge",
        "The pool's size.",
        &one(pool.size.to_string()),
    );
    metric(
        "db_pool_checkouts_total",
        "counter",
        "Connections taken from the pool.",
        &one(pool.checkouts.to_string()),
    );
    metric(
        "db_pool_waits_total",
        "counter",
        "Checkouts that waited more than a millisecond for a connection.",
        &one(pool.waits.to_string()),
    );
    metric(
        "db_pool_wait_seconds_total",
        "counter",
        "Time spent waiting for connections.",
        &one(format!("{:.6}", pool.waited_seconds)),
    );
    metric(
        "db_pool_timeouts_total",
        "counter",
        "Checkouts that gave up (answered 503).",
        &one(pool.timeouts.to_string()),
    );
    metric(
        "sla_timers_fired_total",
        "counter",
        "SLA timers this instance fired (warnings, breaches, escalations, auto-closes).",
        &one(sla_fired.to_string()),
    );
    let Some(b) = backlog else {
        return out;
    };
    let age = |t: Option<chrono::NaiveDateTime>| {
        t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    metric(
        "sla_timers_due",
        "gauge",
        "SLA timers due and not fired yet, across instances.",
        &one(b.due_timers.to_string()),
    );
    metric(
        "sla_timer_lag_seconds",
        "gauge",
        "How long the earliest due, unfired SLA timer has been due (0 when none).",
        &one(format!("{:.3}", age(b.oldest_due))),
    );
    metric(
        "outbox_pending",
        "gauge",
        "Deliveries (mail, webhooks) waiting to be sent or tried again.",
        &one(b.pending_deliveries.to_string()),
    );
    metric(
        "outbox_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest pending delivery (0 when none).",
        &one(format!("{:.3}", age(b.oldest_pending))),
    );
    metric(
        "outbox_dead",
        "gauge",
        "Deliveries given up after every attempt (see /api/v1/admin/deliveries).",
        &one(b.dead_deliveries.to_string()),
    );
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label_so_the_table_cannot_grow() {
        let m = Metrics::default();
        for i in 0..1000 {
            m.observe(&format!("X{}", "A".repeat(i)), UNMATCHED_ROUTE, 405, 0.001);
        }
        m.observe("GET", UNMATCHED_ROUTE, 404, 0.001);
        let text = m.render();
        assert!(text.contains(
            "http_requests_total{method=\"other\",route=\"<unmatched>\",status=\"405\"} 1000"
        ));
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("http_requests_total"))
                .count(),
            2
        );
        assert!(
            text.len() < 4096,
            "the rendering grew to {} bytes",
            text.len()
        );
    }

    #[test]
    fn the_backlog_reads_as_counts_and_ages() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        let pool = crate::db::PoolReport {
            size: 8,
            in_use: 3,
            idle: 5,
            checkouts: 40,
            waits: 2,
            waited_seconds: 0.25,
            timeouts: 1,
        };
        let backlog = Backlog {
            due_timers: 3,
            oldest_due: Some(now - chrono::TimeDelta::hours(1)),
            pending_deliveries: 7,
            oldest_pending: Some(now - chrono::TimeDelta::seconds(90)),
            dead_deliveries: 2,
        };
        let text = render_operations(&pool, 5, Some(&backlog), now);
        for line in [
            "db_pool_connections{state=\"in_use\"} 3",
            "db_pool_connections{state=\"idle\"} 5",
            "db_pool_waits_total 2",
            "db_pool_timeouts_total 1",
            "sla_timers_fired_total 5",
            "sla_timers_due 3",
            "sla_timer_lag_seconds 3600.000",
            "outbox_pending 7",
            "outbox_oldest_pending_age_seconds 90.000",
            "outbox_dead 2",
            "observer_desk_database_up 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        let down = render_operations(&pool, 5, None, now);
        assert!(down.lines().any(|l| l == "observer_desk_database_up 0"));
        assert!(!down.contains("outbox_pending"));
    }

    #[test]
    fn counts_and_buckets_accumulate() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/me", 200, 0.003);
        m.observe("GET", "/api/v1/me", 200, 0.2);
        m.observe("GET", "/api/v1/me", 401, 0.001);
        let text = m.render();
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"} 2"
            )
        );
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"401\"} 1"
            )
        );
        assert!(text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/me\",le=\"0.005\"} 2"));
        assert!(text.contains(
            "http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/me\"} 3"
        ));
    }
}
