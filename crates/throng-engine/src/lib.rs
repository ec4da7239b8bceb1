//! throng-engine: k6's executors, the VU pool, the scheduler and the run lifecycle.
//!
//! The engine knows nothing of HTTP or YAML: a scenario brings a [`Workload`], which makes
//! [`Vu`]s, whose iterations the executors start. Every executor lives in its own module
//! under [`executor`]; the schedule arithmetic (VU ramps, arrival times) is in [`schedule`].
#![warn(missing_docs)]

mod config;
mod control;
mod ctx;
pub mod executor;
pub mod hot;
pub mod schedule;
pub mod segment;
mod stop;
mod workload;

pub use config::{
    executor_options, format_duration, Description, Executor, Pacing, Phase, Stage, WhenBusy,
    COMMON_OPTIONS, EXECUTOR_NAMES,
};
pub use control::{ControlError, ControlStatus, EngineControl};
pub use ctx::{ScenarioStats, ScenarioStatsSnapshot};
pub use segment::{Fraction, Segment, SegmentError};
pub use workload::{
    run_each, run_future, IterFuture, IterInfo, IterOutcome, RunFuture, Turns, Vu, VuInit, Workload,
};

use ctx::{EngineShared, ScenarioCtx};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_metrics::{Registry, TagSetId};
use tokio_util::sync::CancellationToken;

/// One scenario to run.
pub struct ScenarioSpec {
    /// Name (the `scenario` tag).
    pub name: String,
    /// Executor and options.
    pub executor: Executor,
    /// Offset from the start of the run.
    pub start_time: Duration,
    /// Time in-flight iterations get after the scenario's end.
    pub graceful_stop: Duration,
    /// Tag set for the engine's own samples (`iterations`, `iteration_duration`, ...).
    pub tags: TagSetId,
    /// Makes the VUs.
    pub workload: Arc<dyn Workload>,
    /// What a VU waits between iterations (closed executors only).
    pub pacing: Pacing,
}

/// A run of several scenarios.
pub struct Engine {
    registry: Registry,
    scenarios: Vec<(ScenarioSpec, Arc<ScenarioStats>)>,
    abort: CancellationToken,
    shared: Arc<EngineShared>,
    segment: Option<Arc<Segment>>,
}

/// What each scenario did.
#[derive(Debug, Clone)]
pub struct EngineReport {
    /// Per scenario, in the order given.
    pub scenarios: Vec<(String, ScenarioStatsSnapshot)>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Whether the run was aborted (Ctrl-C, abortOnFail).
    pub aborted: bool,
}

impl Engine {
    /// An engine recording into `registry`; cancelling `abort` interrupts everything.
    pub fn new(registry: Registry, scenarios: Vec<ScenarioSpec>, abort: CancellationToken) -> Self {
        let b = registry.builtin().clone();
        // k6's vus_max: the VUs initialised, growing as arrival-rate executors add VUs
        let max: u64 = scenarios.iter().map(|s| s.executor.initial_vus()).sum();
        registry.set_gauge(b.vus_max, TagSetId(0), max as f64);
        registry.set_gauge(b.vus, TagSetId(0), 0.0);
        let control = EngineControl::new();
        control.attach(max, registry.clone(), b.vus_max);
        Engine {
            shared: Arc::new(EngineShared::new(registry.clone(), control)),
            registry,
            scenarios: scenarios
                .into_iter()
                .map(|s| (s, Arc::new(ScenarioStats::default())))
                .collect(),
            abort,
            segment: None,
        }
    }

    /// Runs one execution segment of the plan: arrival-rate executors start only the
    /// arrivals `segment` owns. The scenarios' executors must already be the segment's
    /// shares ([`Segment::share`]); the other executors run them as given.
    pub fn with_segment(mut self, segment: Segment) -> Self {
        self.segment = (!segment.is_whole()).then(|| Arc::new(segment));
        self
    }

    /// Controls this engine with `control` (made before the engine, so a control API can
    /// be served before the run starts) instead of its own.
    pub fn with_control(mut self, control: EngineControl) -> Self {
        let b = self.registry.builtin().clone();
        let max: u64 = self
            .scenarios
            .iter()
            .map(|s| s.0.executor.initial_vus())
            .sum();
        control.attach(max, self.registry.clone(), b.vus_max);
        self.shared = Arc::new(EngineShared::new(self.registry.clone(), control));
        self
    }

    /// The handle that pauses, resumes and scales this engine while it runs.
    pub fn control(&self) -> EngineControl {
        self.shared.control.clone()
    }

    /// Currently active VUs (for progress and the per-second series).
    pub fn active_vus(&self) -> Arc<AtomicU64> {
        self.shared.active.clone()
    }

    /// Per-scenario counters, live.
    pub fn stats(&self) -> Vec<(String, Arc<ScenarioStats>)> {
        self.scenarios
            .iter()
            .map(|(s, st)| (s.name.clone(), st.clone()))
            .collect()
    }

    /// Runs every scenario to its end (or until aborted).
    pub async fn run(self) -> EngineReport {
        let start = Instant::now();
        let control = self.shared.control.clone();
        control.set_running(true);
        // startTime is running time too: a pause delays the scenarios still to start
        let run_clock = control.clock();
        let mut handles = Vec::new();
        let mut stats = Vec::new();
        for (spec, st) in self.scenarios {
            stats.push((spec.name.clone(), st.clone()));
            let ctx = ScenarioCtx::new(
                spec.name,
                spec.workload,
                self.registry.clone(),
                spec.tags,
                self.abort.clone(),
                self.shared.clone(),
                st,
                spec.graceful_stop,
                spec.pacing,
            );
            let exec = spec.executor;
            let segment = self.segment.clone();
            let start_time = spec.start_time;
            let abort = self.abort.clone();
            let run_clock = run_clock.clone();
            handles.push(tokio::spawn(async move {
                let st = ctx.stats.clone();
                tokio::select! {
                    _ = run_clock.sleep_until(start_time) => {}
                    _ = abort.cancelled() => {
                        st.finished.store(true, std::sync::atomic::Ordering::SeqCst);
                        return;
                    }
                }
                st.started_ms.store(
                    start.elapsed().as_millis() as u64 + 1,
                    std::sync::atomic::Ordering::SeqCst,
                );
                executor::run(&exec, Arc::new(ctx), segment).await;
                st.finished.store(true, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for h in handles {
            let _ = h.await;
        }
        control.set_running(false);
        EngineReport {
            scenarios: stats
                .iter()
                .map(|(n, s)| (n.clone(), s.snapshot()))
                .collect(),
            elapsed: start.elapsed(),
            aborted: self.abort.is_cancelled(),
        }
    }
}
