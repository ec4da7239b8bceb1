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
    start_time: Duration,
    /// When the scenario was first seen finished (ms since its start, +1; 0 = not yet):
    /// its elapsed time stops there.
    finished_ms: std::sync::atomic::AtomicU64,
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
                start_time: sc.start_time,
                finished_ms: Default::default(),
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
                    let mut since = if started == 0 {
                        Duration::ZERO
                    } else {
                        elapsed.saturating_sub(Duration::from_millis(started - 1))
                    };
                    let finished = st.finished.load(Ordering::SeqCst);
                    if finished {
                        // the real duration, frozen when the end was first seen
                        let at = e.finished_ms.load(Ordering::SeqCst);
                        if at == 0 {
                            e.finished_ms
                                .store(since.as_millis() as u64 + 1, Ordering::SeqCst);
                        } else {
                            since = Duration::from_millis(at - 1);
                        }
                    }
                    let starts_in = (started == 0 && !finished)
                        .then(|| e.start_time.saturating_sub(elapsed))
                        .filter(|d| !d.is_zero());
                    ScenarioLive {
                        name: e.name.clone(),
                        done: st.completed.load(Ordering::SeqCst)
                            + st.interrupted.load(Ordering::SeqCst)
                            + st.failed.load(Ordering::SeqCst),
                        total: e.total,
                        elapsed: since,
                        duration: e.duration,
                        finished,
                        rps: e.rps,
                        ok: e.ok,
                        failed: e.failed,
                        p95_ms: e.p95,
                        vus: st.active.load(Ordering::SeqCst),
                        starts_in,
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_scenario_counts_down_and_a_finished_one_keeps_its_real_duration() {
        let plan = throng_plan::load_str(
            "scenarios:\n  late:\n    executor: constant-vus\n    vus: 1\n    duration: 2s\n    startTime: 10s\n    flow: [ {get: \"http://127.0.0.1:1/\"} ]\n",
            std::path::Path::new("p.yaml"),
            &Default::default(),
        )
        .expect("plan");
        let stats = Arc::new(ScenarioStats::default());
        let state = LiveState::new(&plan, vec![("late".into(), stats.clone())]);
        let v = state.view(Duration::from_secs(2));
        assert_eq!(v.scenarios[0].starts_in, Some(Duration::from_secs(8)));
        // started at 10 s, ended at 12.1 s (graceful stop included)
        stats.started_ms.store(10_001, Ordering::SeqCst);
        let v = state.view(Duration::from_secs(11));
        assert_eq!(
            (v.scenarios[0].starts_in, v.scenarios[0].elapsed),
            (None, Duration::from_secs(1))
        );
        stats.finished.store(true, Ordering::SeqCst);
        let v = state.view(Duration::from_millis(12_100));
        assert_eq!(v.scenarios[0].elapsed, Duration::from_millis(2_100));
        // later redraws keep it, instead of counting on (`6s/2s`)
        let v = state.view(Duration::from_secs(16));
        assert_eq!(v.scenarios[0].elapsed, Duration::from_millis(2_100));
    }
}
