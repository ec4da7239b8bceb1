//! Live control of a running engine (k6's REST API, Locust's "change users"): a run-wide
//! pause and resume that holds every executor, scaling the `externally-controlled`
//! executor, and the status k6 reports (`paused`, `vus`, `vus-max`, `stopped`, `running`,
//! `tainted`).
//!
//! Paused time does not count: the run's clock stops while paused, so every duration
//! (`duration`, stages, `maxDuration`, `startTime`) ends that much later in wall time. A VU
//! finishes the iteration it is in and waits; arrival-rate executors issue no arrivals (the
//! schedule resumes where it stopped, so nothing due during the pause is dropped). The
//! graceful stop and `gracefulRampDown` are wall-clock limits on iterations already running.
use crate::schedule::vus_at;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use throng_metrics::{MetricId, Registry, TagSetId};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What the control API reports (k6's `/v1/status` attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ControlStatus {
    /// The run is paused.
    pub paused: bool,
    /// VUs active now.
    pub vus: u64,
    /// The most VUs the run may use (k6's `vus-max`).
    pub vus_max: u64,
    /// The run was stopped, or has ended.
    pub stopped: bool,
    /// The engine is running.
    pub running: bool,
    /// A threshold has failed so far.
    pub tainted: bool,
}

/// A control request that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// More VUs than the executor's `maxVUs`.
    #[error("cannot scale to {vus} VUs: above maxVUs ({max}); raise maxVUs too (`throng scale --vus {vus} --max {vus}`)")]
    AboveMax {
        /// VUs asked for.
        vus: u64,
        /// The executor's maxVUs.
        max: u64,
    },
    /// maxVUs below the VUs asked for (or running).
    #[error("maxVUs ({max}) cannot be below the VU count ({vus})")]
    MaxBelowVus {
        /// VUs asked for (or running).
        vus: u64,
        /// maxVUs asked for.
        max: u64,
    },
    /// No `externally-controlled` scenario is running: only its VU count can change.
    #[error("no externally-controlled scenario is running: only that executor's VUs can be scaled (k6 allows no other)")]
    NotScalable,
    /// The run is over.
    #[error("the run has ended")]
    Ended,
}

/// The run-wide pause, read without a lock (every VU's clock reads it): nanoseconds paused
/// so far, and when the current pause began (nanoseconds after `epoch`, plus one; 0: not
/// paused). Writers (pause, resume) hold `Inner::write`.
struct PauseBook {
    epoch: Instant,
    total_ns: AtomicU64,
    since_ns: AtomicU64,
}

impl PauseBook {
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// Paused time so far. A reader racing a resume may count the ending pause twice for
    /// an instant (its clock then lags, never runs ahead): `resume` adds to the total before
    /// it clears `since`.
    fn paused(&self) -> Duration {
        let since = self.since_ns.load(Ordering::SeqCst);
        let total = self.total_ns.load(Ordering::SeqCst);
        let current = if since == 0 {
            0
        } else {
            self.now_ns().saturating_sub(since)
        };
        Duration::from_nanos(total + current)
    }
}

/// A running `externally-controlled` scenario: its wanted VU count and its maxVUs.
struct External {
    wanted: Arc<watch::Sender<(u64, bool)>>,
    max: u64,
}

struct Inner {
    paused: watch::Sender<bool>,
    book: PauseBook,
    write: Mutex<()>,
    active: Arc<AtomicU64>,
    vus_max: AtomicU64,
    running: AtomicBool,
    ended: AtomicBool,
    tainted: AtomicBool,
    stop: CancellationToken,
    external: Mutex<Option<External>>,
    gauge: Mutex<Option<(Registry, MetricId)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The handle a run holds to control its engine while it runs; cheap to clone. Make one
/// with [`EngineControl::new`] and give it to [`crate::Engine::with_control`] (an engine
/// made without one has its own, from [`crate::Engine::control`]).
#[derive(Clone)]
pub struct EngineControl {
    inner: Arc<Inner>,
}

impl Default for EngineControl {
    fn default() -> Self {
        EngineControl::new()
    }
}

impl std::fmt::Debug for EngineControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EngineControl")
            .field(&self.status())
            .finish()
    }
}

impl EngineControl {
    /// A control for an engine not yet made.
    pub fn new() -> Self {
        let (paused, _) = watch::channel(false);
        EngineControl {
            inner: Arc::new(Inner {
                paused,
                book: PauseBook {
                    epoch: Instant::now(),
                    total_ns: AtomicU64::new(0),
                    since_ns: AtomicU64::new(0),
                },
                write: Mutex::new(()),
                active: Arc::new(AtomicU64::new(0)),
                vus_max: AtomicU64::new(0),
                running: AtomicBool::new(false),
                ended: AtomicBool::new(false),
                tainted: AtomicBool::new(false),
                stop: CancellationToken::new(),
                external: Mutex::new(None),
                gauge: Mutex::new(None),
            }),
        }
    }

    /// The current status.
    pub fn status(&self) -> ControlStatus {
        let i = &self.inner;
        let ended = i.ended.load(Ordering::SeqCst);
        ControlStatus {
            paused: self.is_paused(),
            vus: i.active.load(Ordering::SeqCst),
            vus_max: i.vus_max.load(Ordering::SeqCst),
            stopped: ended || i.stop.is_cancelled(),
            running: i.running.load(Ordering::SeqCst) && !ended,
            tainted: i.tainted.load(Ordering::SeqCst),
        }
    }

    /// Pauses the run (a no-op when paused): VUs finish their iteration and wait, no
    /// arrivals are issued, and the run's clock stops.
    pub fn pause(&self) {
        let _w = lock(&self.inner.write);
        let book = &self.inner.book;
        if book.since_ns.load(Ordering::SeqCst) == 0 {
            let since = book.now_ns();
            // the watch first: a VU that sees `is_paused` (the book) then finds the watch
            // paused too, and waits for the resume instead of going round again
            self.inner.paused.send_replace(true);
            book.since_ns.store(since, Ordering::SeqCst);
        }
    }

    /// Resumes a paused run (a no-op when running).
    pub fn resume(&self) {
        let _w = lock(&self.inner.write);
        let book = &self.inner.book;
        let since = book.since_ns.load(Ordering::SeqCst);
        if since != 0 {
            let ended = book.now_ns().saturating_sub(since);
            book.total_ns.fetch_add(ended, Ordering::SeqCst);
            book.since_ns.store(0, Ordering::SeqCst);
            self.inner.paused.send_replace(false);
        }
    }

    /// Whether the run is paused: one atomic load (every VU asks before each iteration;
    /// the watch's borrow is a lock).
    pub fn is_paused(&self) -> bool {
        self.inner.book.since_ns.load(Ordering::SeqCst) != 0
    }

    /// Time spent paused so far (the current pause included).
    pub fn paused_for(&self) -> Duration {
        self.inner.book.paused()
    }

    /// Changes the `externally-controlled` scenario's active VUs and/or its maxVUs (k6's
    /// `k6 scale --vus N --max M`). VUs above maxVUs, or maxVUs below the VUs, is an error;
    /// so is a run with no such scenario (k6 scales no other executor).
    pub fn scale(&self, vus: Option<u64>, max: Option<u64>) -> Result<ControlStatus, ControlError> {
        if self.inner.ended.load(Ordering::SeqCst) {
            return Err(ControlError::Ended);
        }
        let mut ext = lock(&self.inner.external);
        let Some(e) = ext.as_mut() else {
            return Err(ControlError::NotScalable);
        };
        let current = e.wanted.borrow().0;
        let new_max = max.unwrap_or(e.max);
        let new_vus = vus.unwrap_or(current);
        if let (Some(m), None) = (max, vus) {
            if m < current {
                return Err(ControlError::MaxBelowVus {
                    vus: current,
                    max: m,
                });
            }
        }
        if new_vus > new_max {
            return Err(match max {
                Some(m) => ControlError::MaxBelowVus {
                    vus: new_vus,
                    max: m,
                },
                None => ControlError::AboveMax {
                    vus: new_vus,
                    max: new_max,
                },
            });
        }
        if new_max != e.max {
            let total = self
                .inner
                .vus_max
                .load(Ordering::SeqCst)
                .saturating_sub(e.max)
                + new_max;
            self.inner.vus_max.store(total, Ordering::SeqCst);
            if let Some((reg, id)) = lock(&self.inner.gauge).as_ref() {
                reg.set_gauge(*id, TagSetId(0), total as f64);
            }
            e.max = new_max;
        }
        e.wanted.send_if_modified(|w| {
            let changed = w.0 != new_vus;
            w.0 = new_vus;
            changed
        });
        drop(ext);
        Ok(self.status())
    }

    /// Asks the run to stop (k6's `PATCH /v1/status {"stopped": true}`): it ends as an
    /// interrupted run does.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    /// Cancelled when [`EngineControl::stop`] is called.
    pub fn stop_requested(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    /// Marks the run tainted (a threshold has failed) or not, for the status.
    pub fn set_tainted(&self, tainted: bool) {
        self.inner.tainted.store(tainted, Ordering::SeqCst);
    }

    pub(crate) fn active(&self) -> Arc<AtomicU64> {
        self.inner.active.clone()
    }

    /// One more VU initialised (an arrival-rate executor adding a VU beyond its
    /// `preAllocatedVUs`): `vus_max` grows, as in k6.
    pub(crate) fn vu_added(&self) {
        let total = self.inner.vus_max.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((reg, id)) = lock(&self.inner.gauge).as_ref() {
            reg.set_gauge(*id, TagSetId(0), total as f64);
        }
    }

    pub(crate) fn attach(&self, vus_max: u64, registry: Registry, metric: MetricId) {
        self.inner.vus_max.store(vus_max, Ordering::SeqCst);
        *lock(&self.inner.gauge) = Some((registry, metric));
    }

    pub(crate) fn set_running(&self, running: bool) {
        if running {
            self.inner.running.store(true, Ordering::SeqCst);
        } else {
            self.inner.ended.store(true, Ordering::SeqCst);
            self.inner.running.store(false, Ordering::SeqCst);
        }
    }

    /// Registers the running `externally-controlled` scenario.
    pub(crate) fn register_external(&self, wanted: Arc<watch::Sender<(u64, bool)>>, max: u64) {
        *lock(&self.inner.external) = Some(External { wanted, max });
    }

    pub(crate) fn unregister_external(&self) {
        *lock(&self.inner.external) = None;
    }

    /// Returns at once when running, else when resumed.
    pub(crate) async fn wait_resumed(&self) {
        let mut rx = self.inner.paused.subscribe();
        let _ = rx.wait_for(|p| !*p).await;
    }

    /// Returns when the run is paused.
    async fn wait_paused(&self) {
        let mut rx = self.inner.paused.subscribe();
        let _ = rx.wait_for(|p| *p).await;
    }

    /// A clock that starts now and stops while the run is paused.
    pub(crate) fn clock(&self) -> Clock {
        Clock {
            start: Instant::now(),
            paused_at_start: self.paused_for(),
            ctl: self.clone(),
        }
    }
}

/// Time since a start, not counting paused time.
#[derive(Clone)]
pub(crate) struct Clock {
    start: Instant,
    paused_at_start: Duration,
    ctl: EngineControl,
}

impl Clock {
    /// Running (unpaused) time since the start.
    pub fn elapsed(&self) -> Duration {
        self.elapsed_at(Instant::now())
    }

    /// Running time at `now` (a clock read the caller already has).
    pub fn elapsed_at(&self, now: Instant) -> Duration {
        let paused = self.ctl.paused_for().saturating_sub(self.paused_at_start);
        now.saturating_duration_since(self.start)
            .saturating_sub(paused)
    }

    /// The wall-clock instant at which running time `t` was (or will be, if no pause
    /// comes) reached.
    pub fn wall(&self, t: Duration) -> Instant {
        self.start + t + self.ctl.paused_for().saturating_sub(self.paused_at_start)
    }

    /// Sleeps until `t` of running time has passed (and the run is not paused).
    pub async fn sleep_until(&self, t: Duration) {
        loop {
            self.ctl.wait_resumed().await;
            let e = self.elapsed();
            if e >= t {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(t - e) => {}
                _ = self.ctl.wait_paused() => {}
            }
        }
    }

    /// VUs a ramp wants now (running time).
    pub fn vus_at(&self, start_vus: u64, stages: &[crate::Stage]) -> u64 {
        vus_at(start_vus, stages, self.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_clock_stops_while_paused() {
        let c = EngineControl::new();
        let clock = c.clock();
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.pause();
        c.pause();
        let at_pause = clock.elapsed();
        tokio::time::sleep(Duration::from_millis(120)).await;
        // frozen (two clocks read a few ns apart may put it a hair before `at_pause`)
        assert!(clock.elapsed().saturating_sub(at_pause) < Duration::from_millis(5));
        assert!(at_pause.saturating_sub(clock.elapsed()) < Duration::from_millis(1));
        c.resume();
        let t0 = Instant::now();
        clock
            .sleep_until(at_pause + Duration::from_millis(30))
            .await;
        assert!(t0.elapsed() >= Duration::from_millis(29));
        assert!(c.paused_for() >= Duration::from_millis(120));
    }

    #[test]
    fn scaling_needs_an_externally_controlled_scenario_and_respects_max_vus() {
        let c = EngineControl::new();
        assert_eq!(c.scale(Some(3), None), Err(ControlError::NotScalable));
        let (tx, rx) = watch::channel((2, false));
        c.attach(6, Registry::new(), MetricId(0));
        c.register_external(Arc::new(tx), 6);
        assert!(c.scale(Some(6), None).is_ok());
        assert_eq!(rx.borrow().0, 6);
        let e = c.scale(Some(7), None).expect_err("above max");
        assert!(e.to_string().contains("maxVUs (6)"), "{e}");
        assert!(c.scale(Some(8), Some(10)).is_ok());
        assert_eq!(c.status().vus_max, 10);
        assert_eq!(
            c.scale(None, Some(4)),
            Err(ControlError::MaxBelowVus { vus: 8, max: 4 })
        );
        assert!(c.scale(Some(2), Some(4)).is_ok());
        assert_eq!(c.status().vus_max, 4);
    }
}
