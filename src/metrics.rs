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
    routes: Mutex<BTreeMap<(&'static str, String), RouteStats>>,
}

impl Metrics {
    /// Counts one answer. `route` must be a pattern of the route table or
    /// [`UNMATCHED_ROUTE`]; the method is reduced to its label here.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let key = (method_label(method), route.to_string());
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
