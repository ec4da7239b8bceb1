//! State shared by a scenario's executor and its VUs, and running one iteration.
use crate::config::Pacing;
use crate::control::{Clock, EngineControl};
use crate::stop::VuStop;
use crate::workload::{IterInfo, IterOutcome, Vu, VuInit, Workload};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_metrics::{Builtin, Registry, TagSetId};
use tokio_util::sync::CancellationToken;

/// Engine-wide state: VU numbering, the active VU count and the live control.
pub(crate) struct EngineShared {
    pub next_vu: AtomicU64,
    pub active: Arc<AtomicU64>,
    pub control: EngineControl,
    registry: Registry,
    vus_metric: throng_metrics::MetricId,
}

impl EngineShared {
    pub fn new(registry: Registry, control: EngineControl) -> Self {
        let vus_metric = registry.builtin().vus;
        EngineShared {
            next_vu: AtomicU64::new(1),
            active: control.active(),
            control,
            registry,
            vus_metric,
        }
    }

    fn set_active(&self, delta: i64) {
        let now = if delta >= 0 {
            self.active.fetch_add(delta as u64, Ordering::SeqCst) + delta as u64
        } else {
            self.active.fetch_sub((-delta) as u64, Ordering::SeqCst) - (-delta) as u64
        };
        self.registry
            .set_gauge(self.vus_metric, TagSetId(0), now as f64);
    }
}

/// Live counters of one scenario.
#[derive(Debug, Default)]
pub struct ScenarioStats {
    /// Iterations that ran to their end.
    pub completed: AtomicU64,
    /// Iterations cut off by a stop.
    pub interrupted: AtomicU64,
    /// Iterations never started (no free VU, or out of time).
    pub dropped: AtomicU64,
    /// Iterations that could not run.
    pub failed: AtomicU64,
    /// VUs of this scenario active now.
    pub active: AtomicU64,
    /// The most VUs of this scenario active at once since a reader last took it
    /// (`peak_active.swap(active_now)`): an arrival-rate VU busy between two readings
    /// still counts.
    pub peak_active: AtomicU64,
    /// When the scenario started (ms since the run started, +1; 0 = not yet).
    pub started_ms: AtomicU64,
    /// The scenario has ended (graceful stop included).
    pub finished: std::sync::atomic::AtomicBool,
}

/// A copy of [`ScenarioStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScenarioStatsSnapshot {
    /// Iterations that ran to their end.
    pub completed: u64,
    /// Iterations cut off by a stop.
    pub interrupted: u64,
    /// Iterations never started.
    pub dropped: u64,
    /// Iterations that could not run.
    pub failed: u64,
}

impl ScenarioStats {
    /// A copy of the counters.
    pub fn snapshot(&self) -> ScenarioStatsSnapshot {
        ScenarioStatsSnapshot {
            completed: self.completed.load(Ordering::SeqCst),
            interrupted: self.interrupted.load(Ordering::SeqCst),
            dropped: self.dropped.load(Ordering::SeqCst),
            failed: self.failed.load(Ordering::SeqCst),
        }
    }
}

/// Everything an executor needs.
pub(crate) struct ScenarioCtx {
    pub name: String,
    workload: Arc<dyn Workload>,
    registry: Registry,
    tags: TagSetId,
    b: Builtin,
    /// Cancelled when the whole run is aborted.
    pub abort: CancellationToken,
    shared: Arc<EngineShared>,
    pub stats: Arc<ScenarioStats>,
    pub graceful_stop: Duration,
    pub scenario_iter: AtomicU64,
    pacing: Pacing,
}

impl ScenarioCtx {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        workload: Arc<dyn Workload>,
        registry: Registry,
        tags: TagSetId,
        abort: CancellationToken,
        shared: Arc<EngineShared>,
        stats: Arc<ScenarioStats>,
        graceful_stop: Duration,
        pacing: Pacing,
    ) -> Self {
        let b = registry.builtin().clone();
        ScenarioCtx {
            name,
            workload,
            registry,
            tags,
            b,
            abort,
            shared,
            stats,
            graceful_stop,
            scenario_iter: AtomicU64::new(0),
            pacing,
        }
    }

    /// Makes a new VU with the next run-wide number.
    pub fn new_vu(&self) -> Box<dyn Vu> {
        let id = self.shared.next_vu.fetch_add(1, Ordering::SeqCst);
        self.workload.new_vu(VuInit {
            id,
            scenario: self.name.clone(),
        })
    }

    /// A clock starting now that stops while the run is paused.
    pub fn clock(&self) -> Clock {
        self.shared.control.clock()
    }

    /// The run's live control.
    pub fn control(&self) -> &EngineControl {
        &self.shared.control
    }

    /// Marks a VU active (`delta` = 1) or idle (-1) for the `vus` gauge.
    pub fn vu_active(&self, delta: i64) {
        self.shared.set_active(delta);
        if delta >= 0 {
            let now = self.stats.active.fetch_add(delta as u64, Ordering::SeqCst) + delta as u64;
            self.stats.peak_active.fetch_max(now, Ordering::SeqCst);
        } else {
            self.stats
                .active
                .fetch_sub((-delta) as u64, Ordering::SeqCst);
        }
    }

    /// Records how late the scheduler dispatched an arrival (its own lag, not VU waits).
    pub fn schedule_lag(&self, due: Instant) {
        self.registry.add(
            self.b.schedule_lag,
            self.tags,
            Instant::now().saturating_duration_since(due).as_secs_f64() * 1000.0,
        );
    }

    /// Counts iterations that were never started.
    pub fn dropped(&self, n: u64) {
        if n > 0 {
            self.stats.dropped.fetch_add(n, Ordering::SeqCst);
            self.registry
                .add(self.b.dropped_iterations, self.tags, n as f64);
        }
    }

    /// Runs one iteration, recording `iterations` and `iteration_duration`. Returns false if
    /// it was interrupted by `stop`.
    pub async fn iterate(
        &self,
        vu: &mut Box<dyn Vu>,
        iter: u64,
        intended_start: Option<Instant>,
        stop: &mut VuStop,
    ) -> bool {
        if self.shared.control.is_paused() {
            // the run is paused: wait before starting (not counted as interrupted)
            tokio::select! {
                biased;
                _ = stop.stopped() => return false,
                _ = self.shared.control.wait_resumed() => {}
            }
        }
        if iter == 0 {
            if let Some(init) = vu.init() {
                if until_stopped(stop, init).await.is_none() {
                    self.stats.interrupted.fetch_add(1, Ordering::SeqCst);
                    return false;
                }
            }
        }
        let info = IterInfo {
            iter,
            scenario_iter: self.scenario_iter.fetch_add(1, Ordering::Relaxed),
            intended_start,
        };
        let t0 = Instant::now();
        let Some(out) = until_stopped(stop, vu.iteration(info)).await else {
            self.stats.interrupted.fetch_add(1, Ordering::SeqCst);
            return false;
        };
        let t1 = Instant::now();
        match out {
            IterOutcome::Completed => {
                self.stats.completed.fetch_add(1, Ordering::SeqCst);
                self.registry.add_many(
                    self.tags,
                    &[
                        (self.b.iterations, 1.0),
                        (
                            self.b.iteration_duration,
                            t1.saturating_duration_since(t0).as_secs_f64() * 1000.0,
                        ),
                    ],
                );
            }
            IterOutcome::Failed(_) => {
                self.stats.failed.fetch_add(1, Ordering::SeqCst);
            }
        }
        // Locust's wait_time: closed executors only (an arrival has its own time)
        if intended_start.is_none() {
            let wait = self.pacing.wait_after(t0, t1);
            if !wait.is_zero() {
                // boxed: the timer stays out of every iteration's future
                let sleep = Box::pin(tokio::time::sleep(wait));
                tokio::select! {
                    _ = stop.stopped() => {}
                    _ = sleep => {}
                }
            }
        }
        true
    }

    /// A token cancelled `graceful_stop` after `clock` reaches `end` (or on abort): the
    /// hard stop. Paused time does not count towards `end`; the graceful stop is wall time.
    pub fn hard_stop_after(&self, clock: &Clock, end: Duration) -> CancellationToken {
        let t = self.abort.child_token();
        let t2 = t.clone();
        let (clock, grace) = (clock.clone(), self.graceful_stop);
        tokio::spawn(async move {
            tokio::select! {
                _ = async { clock.sleep_until(end).await; tokio::time::sleep(grace).await } => t2.cancel(),
                _ = t2.cancelled() => {}
            }
        });
        t
    }
}

/// Runs `fut` until it ends (its output) or `stop` is told to stop first (`None`; the future
/// is dropped). The stop is checked before each poll of the future, as k6 interrupts an
/// iteration at the next point it yields.
async fn until_stopped<F: std::future::Future>(stop: &mut VuStop, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if stop.poll_stopped(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}
