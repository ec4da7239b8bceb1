//! State shared by a scenario's executor and its VUs, and running one iteration.
use crate::config::Pacing;
use crate::control::{Clock, EngineControl};
use crate::hot::{region_of, HotLines};
use crate::stop::{StopHandle, VuStop};
use crate::workload::{IterInfo, IterOutcome, Turns, Vu, VuInit, Workload};
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

    /// Runs one iteration (an arrival's, started late if `intended_start` is past). Returns
    /// false if it was interrupted by `stop`.
    pub async fn iterate(
        &self,
        vu: &mut Box<dyn Vu>,
        iter: u64,
        intended_start: Option<Instant>,
        stop: &mut VuStop,
    ) -> bool {
        let mut iter = iter;
        let mut one = |_| true;
        let mode = Mode::Single(intended_start);
        self.run_iterations(vu, &mut iter, mode, stop, &mut one)
            .await
    }

    /// Runs iterations back to back while `more` (asked before each) says so and the VU is
    /// not told to stop, recording `iterations` and `iteration_duration` and waiting out a
    /// pause or the scenario's pacing between them. `iter` is the VU's next iteration
    /// number, advanced for each one started. The VU runs them in one future
    /// ([`Vu::run`]) until the engine has to wait. Returns false if an iteration (or the
    /// VU's init) was interrupted by `stop`, or the stop came first.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    pub fn run_iterations<'a>(
        &'a self,
        vu: &'a mut Box<dyn Vu>,
        iter: &'a mut u64,
        mode: Mode,
        stop: &'a mut VuStop,
        more: &'a mut (dyn FnMut(Instant) -> bool + Send),
    ) -> impl std::future::Future<Output = bool> + Send + 'a {
        // an `async` block: an `async fn` keeps its arguments twice in its future (as
        // arguments, then again as locals), this block once (the future is in every VU's task)
        async move {
            let single = matches!(mode, Mode::Single(_));
            let hot = HotLines::default();
            let mut turns = EngineTurns::new(self, &hot, stop.handle(), more, *iter, mode);
            let ok = loop {
                turns.started_this_turn = 0;
                turns.last_end = None;
                // a VU whose future ends without asking has nothing more to run
                turns.why = Why::Done;
                hot.set(HOT_TURNS, region_of(&turns));
                let run = vu.run(&mut turns);
                hot.set(HOT_RUN, region_of(&*run));
                let finished = until_stopped(stop, run, &hot).await.is_some();
                if !finished {
                    // an arrival handed to a VU told to stop counts as interrupted, as it
                    // always did (its iteration was due)
                    if turns.running.take().is_some() || (single && turns.started == 0) {
                        self.stats.interrupted.fetch_add(1, Ordering::SeqCst);
                    }
                    break false;
                }
                match turns.why {
                    Why::Done => break true,
                    Why::Stopped => break false,
                    // the waits between runs are boxed: rare, and inline they would be held
                    // in every VU's task (a sleeping VU's memory)
                    Why::Paused => {
                        // the run is paused: wait before starting. Stopped in the wait, an
                        // arrival (which was due) counts as interrupted, as when the stop comes
                        // before its first poll; a loop's claim is its executor's to drop
                        if !Box::pin(self.resumed(stop)).await {
                            if single {
                                self.stats.interrupted.fetch_add(1, Ordering::SeqCst);
                            }
                            break false;
                        }
                    }
                    Why::Init => {
                        turns.init_done = true;
                        if let Some(init) = vu.init() {
                            if Box::pin(until_stopped(stop, init, &hot)).await.is_none() {
                                // the iteration it was for never started: an arrival (which
                                // was due) counts as interrupted, as it always did; a loop's
                                // claim is left to its executor, which counts it as dropped
                                // (counting it here too made a per-VU iteration two outcomes)
                                if single {
                                    self.stats.interrupted.fetch_add(1, Ordering::SeqCst);
                                }
                                break false;
                            }
                        }
                    }
                    Why::Pace => {
                        let wait = turns
                            .last
                            .map_or(Duration::ZERO, |(t0, t1)| self.pacing.wait_after(t0, t1));
                        if !wait.is_zero() {
                            Box::pin(paced_wait(stop, wait)).await;
                        }
                    }
                }
            };
            *iter = turns.iter;
            ok
        }
    }

    /// Waits for a paused run to resume: false if the VU is told to stop first.
    async fn resumed(&self, stop: &mut VuStop) -> bool {
        tokio::select! {
            biased;
            _ = stop.stopped() => false,
            _ = self.shared.control.wait_resumed() => true,
        }
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

/// Waits `wait` after an iteration (pacing), or until the VU is told to stop.
async fn paced_wait(stop: &mut VuStop, wait: Duration) {
    tokio::select! {
        _ = stop.stopped() => {}
        _ = tokio::time::sleep(wait) => {}
    }
}

/// Whether a VU runs iterations while its executor wants more, or one only.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// One iteration: an arrival, meant to start at the instant given.
    Single(Option<Instant>),
    /// Iterations back to back while the executor's `more` says so.
    Loop,
}

/// Why [`EngineTurns::next`] ended a [`Vu::run`] future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// The executor wants no more (or the single iteration ran).
    Done,
    /// The VU was told to stop.
    Stopped,
    /// The run is paused: wait for it to resume.
    Paused,
    /// The VU's first iteration is due: run its init first.
    Init,
    /// An iteration ended and pacing wants a wait before the next.
    Pace,
}

/// The engine's [`Turns`]: counts, times and records each iteration a VU runs, and ends
/// the VU's run future whenever the engine has something to wait for.
struct EngineTurns<'a> {
    ctx: &'a ScenarioCtx,
    /// Where the VU's state is (see [`crate::hot`]).
    hot: &'a HotLines,
    stop: StopHandle,
    /// Whether the executor wants another iteration, asked with the time now.
    more: &'a mut (dyn FnMut(Instant) -> bool + Send),
    /// The next iteration's number.
    iter: u64,
    intended_start: Option<Instant>,
    single: bool,
    /// Pacing waits after each iteration: one per run future.
    paced: bool,
    /// `more` said yes to an iteration not yet started (kept across a pause or an init).
    claimed: bool,
    init_done: bool,
    started: u64,
    started_this_turn: u64,
    /// When the running iteration started.
    running: Option<Instant>,
    /// When the last iteration of this run future ended: the next one's start.
    last_end: Option<Instant>,
    /// The last iteration's start and end, for pacing.
    last: Option<(Instant, Instant)>,
    why: Why,
}

impl<'a> EngineTurns<'a> {
    /// The turns of a VU whose next iteration is number `iter`, run as `mode` says.
    fn new(
        ctx: &'a ScenarioCtx,
        hot: &'a HotLines,
        stop: StopHandle,
        more: &'a mut (dyn FnMut(Instant) -> bool + Send),
        iter: u64,
        mode: Mode,
    ) -> EngineTurns<'a> {
        let (single, intended_start) = match mode {
            Mode::Single(due) => (true, due),
            Mode::Loop => (false, None),
        };
        EngineTurns {
            ctx,
            hot,
            stop,
            more,
            iter,
            intended_start,
            single,
            // Locust's wait_time: closed executors only (an arrival has its own time)
            paced: !single && !matches!(ctx.pacing, Pacing::None),
            claimed: false,
            init_done: iter != 0,
            started: 0,
            started_this_turn: 0,
            running: None,
            last_end: None,
            last: None,
            why: Why::Done,
        }
    }

    fn end(&mut self, why: Why) -> Option<IterInfo> {
        self.why = why;
        None
    }
}

impl Turns for EngineTurns<'_> {
    fn next(&mut self) -> Option<IterInfo> {
        if self.single && self.started > 0 {
            return self.end(Why::Done);
        }
        if self.paced && self.started_this_turn > 0 {
            return self.end(Why::Pace);
        }
        if !self.single && self.stop.is_stopped() {
            return self.end(Why::Stopped);
        }
        // back to back, the last one's end is now: one clock read per iteration, which
        // both asks the executor and starts the iteration
        let now = self.last_end.take().unwrap_or_else(Instant::now);
        if !self.claimed {
            if !(self.more)(now) {
                return self.end(Why::Done);
            }
            self.claimed = true;
        }
        if self.ctx.shared.control.is_paused() {
            return self.end(Why::Paused);
        }
        if !self.init_done {
            return self.end(Why::Init);
        }
        self.claimed = false;
        self.running = Some(now);
        let info = IterInfo {
            iter: self.iter,
            scenario_iter: self.ctx.scenario_iter.fetch_add(1, Ordering::Relaxed),
            intended_start: self.intended_start,
        };
        self.iter += 1;
        self.started += 1;
        self.started_this_turn += 1;
        Some(info)
    }

    fn done(&mut self, out: IterOutcome) {
        let t1 = Instant::now();
        let t0 = self.running.take().unwrap_or(t1);
        let ctx = self.ctx;
        match out {
            IterOutcome::Completed => {
                ctx.stats.completed.fetch_add(1, Ordering::SeqCst);
                ctx.registry.add_many(
                    ctx.tags,
                    &[
                        (ctx.b.iterations, 1.0),
                        (
                            ctx.b.iteration_duration,
                            t1.saturating_duration_since(t0).as_secs_f64() * 1000.0,
                        ),
                    ],
                );
            }
            IterOutcome::Failed(_) => {
                ctx.stats.failed.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.last_end = Some(t1);
        self.last = Some((t0, t1));
    }

    fn hint(&self, slot: usize, region: (usize, usize)) {
        if let Some(slot) = vu_slot(slot) {
            self.hot.set(slot, region);
        }
    }
}

/// The [`HotLines`] slots the engine fills: the VU's run future and its turns.
const HOT_RUN: usize = crate::hot::SLOTS - 2;
const HOT_TURNS: usize = crate::hot::SLOTS - 1;

/// The slot a VU's hint for its slot `slot` goes in: the ones before the engine's own two,
/// which are not the VU's to move.
fn vu_slot(slot: usize) -> Option<usize> {
    (slot < HOT_RUN).then_some(slot)
}

/// Runs `fut` until it ends (its output) or `stop` is told to stop first (`None`; the future
/// is dropped). The stop is checked before each poll of the future, as k6 interrupts an
/// iteration at the next point it yields. Before each poll the VU's cache lines (`hot`) are
/// asked for: the stop's and the future's first reads then find them coming.
async fn until_stopped<F: std::future::Future>(
    stop: &mut VuStop,
    fut: F,
    hot: &HotLines,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        hot.fetch();
        if stop.poll_stopped(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vu_hints_only_at_the_slots_before_the_engines_own() {
        assert_eq!(vu_slot(0), Some(0));
        assert_eq!(vu_slot(HOT_RUN - 1), Some(HOT_RUN - 1));
        assert_eq!(vu_slot(HOT_RUN), None);
        assert_eq!(vu_slot(HOT_TURNS), None);
        assert_eq!(vu_slot(crate::hot::SLOTS), None);
    }

    /// A VU that hints at every slot (the engine's too) and ends.
    struct Hinting;

    impl Vu for Hinting {
        fn iteration(&mut self, _info: IterInfo) -> IterFuture<'_> {
            Box::pin(async { IterOutcome::Completed })
        }

        fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> crate::workload::RunFuture<'a> {
            Box::pin(async move {
                while turns.next().is_some() {
                    for slot in 0..=crate::hot::SLOTS {
                        turns.hint(slot, (4096 * (slot + 1), 64));
                    }
                    turns.done(IterOutcome::Completed);
                }
            })
        }
    }

    #[tokio::test]
    async fn the_engine_keeps_its_own_slots_and_the_vus() {
        // the engine's turns over a HotLines the test reads
        let hot = HotLines::default();
        let mut vu = Hinting;
        let (control, asked) = (
            EngineControl::new(),
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
        let ctx = ctx(control, asked);
        let mut more = |_| true;
        let hub = StopHub::new(&CancellationToken::new());
        let mut turns = EngineTurns::new(
            &ctx,
            &hot,
            hub.vu().handle(),
            &mut more,
            1,
            Mode::Single(None),
        );
        vu.run(&mut turns).await;
        let slots = hot.slots();
        for (slot, packed) in slots.iter().enumerate() {
            if slot < HOT_RUN {
                assert_eq!(*packed, (4096 * (slot + 1)) | 1, "slot {slot}");
            } else {
                assert_eq!(*packed, 0, "slot {slot}: the engine's, not the VU's");
            }
        }
    }

    use crate::stop::StopHub;
    use crate::workload::{IterFuture, VuInit};

    /// VUs whose iterations end at once; `asked` is set once one has been asked to run.
    struct Quick {
        asked: Arc<std::sync::atomic::AtomicBool>,
    }

    struct QuickVu {
        asked: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Workload for Quick {
        fn new_vu(&self, _init: VuInit) -> Box<dyn Vu> {
            Box::new(QuickVu {
                asked: self.asked.clone(),
            })
        }
    }

    impl Vu for QuickVu {
        fn iteration(&mut self, _info: IterInfo) -> IterFuture<'_> {
            Box::pin(async { IterOutcome::Completed })
        }

        fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> crate::workload::RunFuture<'a> {
            self.asked.store(true, Ordering::SeqCst);
            crate::workload::run_each(self, turns)
        }
    }

    fn ctx(control: EngineControl, asked: Arc<std::sync::atomic::AtomicBool>) -> ScenarioCtx {
        let reg = Registry::new();
        let tags = reg.intern(throng_metrics::TagSet::new([("scenario", "s")]));
        let shared = Arc::new(EngineShared::new(reg.clone(), control));
        ScenarioCtx::new(
            "s".into(),
            Arc::new(Quick { asked }),
            reg,
            tags,
            CancellationToken::new(),
            shared,
            Arc::new(ScenarioStats::default()),
            Duration::ZERO,
            Pacing::None,
        )
    }

    /// An arrival handed to a VU is one outcome whenever the stop comes: interrupted if
    /// it comes while the run is paused (the VU waiting to start it), as when it comes
    /// before the VU's first poll; completed if the run resumes first.
    #[tokio::test]
    async fn an_arrival_stopped_while_paused_counts_as_interrupted() {
        for stop_in_pause in [true, false] {
            let control = EngineControl::new();
            let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let ctx = Arc::new(ctx(control.clone(), asked.clone()));
            let token = CancellationToken::new();
            let hub = StopHub::new(&token);
            control.pause();
            let c2 = ctx.clone();
            let mut vu_stop = hub.vu();
            let run = tokio::spawn(async move {
                let mut vu = c2.new_vu();
                c2.iterate(&mut vu, 0, Some(Instant::now()), &mut vu_stop)
                    .await
            });
            tokio::time::sleep(Duration::from_millis(50)).await;
            // the VU was asked to run, found the run paused, and waits for the resume
            assert!(asked.load(Ordering::SeqCst));
            assert!(!run.is_finished());
            if stop_in_pause {
                token.cancel();
            } else {
                control.resume();
            }
            let ran = tokio::time::timeout(Duration::from_secs(5), run).await;
            let ran = ran.map(|r| r.unwrap_or(true)).unwrap_or(true);
            let st = ctx.stats.snapshot();
            let outcome = (ran, st.completed, st.interrupted);
            if stop_in_pause {
                assert_eq!(outcome, (false, 0, 1));
            } else {
                assert_eq!(outcome, (true, 1, 0));
            }
        }
    }
}
