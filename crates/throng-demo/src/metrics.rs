//! The demo target's own counters and their Prometheus text exposition.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Counters the demo keeps.
#[derive(Default)]
pub(crate) struct DemoMetrics {
    total: AtomicU64,
    by_route_status: Mutex<BTreeMap<(String, u16), u64>>,
    pub in_flight: AtomicI64,
    pub rate_limited: AtomicU64,
    pub queue_depth: AtomicI64,
    hist: Mutex<([u64; BUCKETS.len()], u64, f64)>,
}

impl DemoMetrics {
    pub fn received(&self) {
        self.total.fetch_add(1, Ordering::SeqCst);
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    pub fn total_for(&self, route: &str) -> u64 {
        self.by_route_status
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|((r, _), _)| r == route)
                    .map(|(_, n)| n)
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn total_status(&self, status: u16) -> u64 {
        self.by_route_status
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|((_, s), _)| *s == status)
                    .map(|(_, n)| n)
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn finished(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.by_route_status.lock() {
            *m.entry((route.to_string(), status)).or_insert(0) += 1;
        }
        if let Ok(mut h) = self.hist.lock() {
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.0[i] += 1;
                }
            }
            h.1 += 1;
            h.2 += seconds;
        }
    }

    /// Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP demo_requests_total Requests handled, by route and status."
        );
        let _ = writeln!(o, "# TYPE demo_requests_total counter");
        if let Ok(m) = self.by_route_status.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    o,
                    "demo_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            o,
            "# HELP demo_requests_received_total Requests received (all routes but /metrics)."
        );
        let _ = writeln!(o, "# TYPE demo_requests_received_total counter");
        let _ = writeln!(o, "demo_requests_received_total {}", self.total());
        let _ = writeln!(o, "# HELP demo_in_flight Requests being handled now.");
        let _ = writeln!(o, "# TYPE demo_in_flight gauge");
        let _ = writeln!(
            o,
            "demo_in_flight {}",
            self.in_flight.load(Ordering::SeqCst)
        );
        let _ = writeln!(
            o,
            "# HELP demo_rate_limited_total Ingest requests answered 429."
        );
        let _ = writeln!(o, "# TYPE demo_rate_limited_total counter");
        let _ = writeln!(
            o,
            "demo_rate_limited_total {}",
            self.rate_limited.load(Ordering::SeqCst)
        );
        let _ = writeln!(o, "# HELP demo_queue_depth Simulated work queue depth.");
        let _ = writeln!(o, "# TYPE demo_queue_depth gauge");
        let _ = writeln!(
            o,
            "demo_queue_depth {}",
            self.queue_depth.load(Ordering::SeqCst).max(0)
        );
        let _ = writeln!(
            o,
            "# HELP demo_request_duration_seconds Time to answer a request."
        );
        let _ = writeln!(o, "# TYPE demo_request_duration_seconds histogram");
        if let Ok(h) = self.hist.lock() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "demo_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
                    h.0[i]
                );
            }
            let _ = writeln!(
                o,
                "demo_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
                h.1
            );
            let _ = writeln!(o, "demo_request_duration_seconds_sum {}", h.2);
            let _ = writeln!(o, "demo_request_duration_seconds_count {}", h.1);
        }
        o
    }
}
