//! Builds the [`LiveView`] the live sinks draw: engine counters read at every redraw, request
//! figures from the once-a-second snapshot.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use throng_engine::ScenarioStats;
use throng_live::{LiveView, ScenarioLive};
use throng_metrics::{names, Snapshot};
use throng_plan::Plan;

struct Entry {
    name: String,
    total: Option<u64>,
    duration: Duration,
    stats: Arc<ScenarioStats>,
    ok: u64,
    failed: u64,
    p95: f64,
    rps: f64,
    last_reqs: u64,
}

/// Per-scenario state between redraws.
pub(crate) struct LiveState {
    entries: Vec<Entry>,
}

impl LiveState {
    pub fn new(plan: &Plan, stats: Vec<(String, Arc<ScenarioStats>)>) -> LiveState {
        let entries = plan
            .scenarios
            .iter()
            .zip(stats)
            .map(|(sc, (_, st))| Entry {
                name: sc.name.clone(),
                total: sc.executor.total_iterations(),
                duration: sc.executor.duration(),
                stats: st,
                ok: 0,
                failed: 0,
                p95: 0.0,
                rps: 0.0,
                last_reqs: 0,
            })
            .collect();
        LiveState { entries }
    }

    /// Takes the request figures of a new snapshot (call once a second).
    pub fn absorb(&mut self, snap: &Snapshot) {
        let b = snap.builtin();
        for e in &mut self.entries {
            let f = [(names::SCENARIO_TAG.to_string(), e.name.clone())];
            let reqs = snap.count(b.http_reqs, &f) as u64;
            e.failed = snap.count(b.http_req_failed, &f) as u64;
            e.ok = reqs.saturating_sub(e.failed);
            e.p95 = snap
                .aggregate(b.http_req_duration, &f)
                .and_then(|a| a.trend().map(|t| t.percentile(95.0)))
                .unwrap_or(0.0);
            e.rps = reqs.saturating_sub(e.last_reqs) as f64;
            e.last_reqs = reqs;
        }
    }

    /// The view now.
    pub fn view(&self, elapsed: Duration) -> LiveView {
        LiveView {
            elapsed,
            scenarios: self
                .entries
                .iter()
                .map(|e| {
                    let st = &e.stats;
                    let started = st.started_ms.load(Ordering::SeqCst);
                    let since = if started == 0 {
                        Duration::ZERO
                    } else {
                        elapsed.saturating_sub(Duration::from_millis(started - 1))
                    };
                    ScenarioLive {
                        name: e.name.clone(),
                        done: st.completed.load(Ordering::SeqCst)
                            + st.interrupted.load(Ordering::SeqCst)
                            + st.failed.load(Ordering::SeqCst),
                        total: e.total,
                        elapsed: since,
                        duration: e.duration,
                        finished: st.finished.load(Ordering::SeqCst),
                        rps: e.rps,
                        ok: e.ok,
                        failed: e.failed,
                        p95_ms: e.p95,
                        vus: st.active.load(Ordering::SeqCst),
                    }
                })
                .collect(),
        }
    }
}
