//! The seam between the engine and what a VU does.
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// What a VU is told when it is created.
#[derive(Debug, Clone)]
pub struct VuInit {
    /// Run-wide 1-based VU number (k6's `__VU`).
    pub id: u64,
    /// The scenario it belongs to.
    pub scenario: String,
}

/// What an iteration is told.
#[derive(Debug, Clone, Copy)]
pub struct IterInfo {
    /// This VU's 0-based iteration number in the scenario (k6's `__ITER`).
    pub iter: u64,
    /// The scenario-wide 0-based iteration number.
    pub scenario_iter: u64,
    /// When the iteration was meant to start (arrival-rate executors), for latency
    /// corrected for coordinated omission.
    pub intended_start: Option<Instant>,
}

/// How an iteration ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IterOutcome {
    /// Ran to its end (failed requests or checks still count as complete, as in k6).
    Completed,
    /// Could not run (e.g. a `unique` data source is used up); not counted in `iterations`.
    Failed(String),
}

/// The future an iteration returns.
pub type IterFuture<'a> = Pin<Box<dyn Future<Output = IterOutcome> + Send + 'a>>;

/// The future [`Vu::run`] returns: iterations back to back, until `turns` says no more.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// `fut` as a [`RunFuture`] whose box starts on a cache line: a VU's run future is
/// touched in full at every request (its layers are made and moved there), and at 1,000
/// VUs each line of it is a miss; aligned, N lines' worth of it spans N lines, not N + 1.
pub fn run_future<'a>(fut: impl Future<Output = ()> + Send + 'a) -> RunFuture<'a> {
    Box::pin(CacheAligned { fut })
}

pin_project_lite::pin_project! {
    /// A future on cache lines of its own (see [`run_future`]).
    #[repr(C, align(64))]
    struct CacheAligned<F> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for CacheAligned<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        self.project().fut.poll(cx)
    }
}

/// The engine's side of [`Vu::run`]: asked before each iteration whether to run one, told
/// after it how it ended (the engine counts and times it).
pub trait Turns: Send {
    /// The iteration to run next, or `None` to end the run future (the executor wants no
    /// more, the VU was told to stop, or the engine has to wait before the next one).
    fn next(&mut self) -> Option<IterInfo>;

    /// The iteration [`Turns::next`] gave has ended.
    fn done(&mut self, out: IterOutcome);

    /// Region `slot` (of [`crate::hot::SLOTS`]) of the VU's memory is `region` (an address
    /// and a length, see [`crate::hot::region_of`]): the engine asks for its cache lines
    /// whenever it polls the VU. Nothing is read through it. The default ignores it.
    fn hint(&self, slot: usize, region: (usize, usize)) {
        let _ = (slot, region);
    }
}

/// [`Vu::run`] as one [`Vu::iteration`] future after another: the default, for VUs that
/// gain nothing from keeping one future across iterations.
pub fn run_each<'a, V: Vu + ?Sized>(vu: &'a mut V, turns: &'a mut dyn Turns) -> RunFuture<'a> {
    Box::pin(async move {
        while let Some(info) = turns.next() {
            let out = vu.iteration(info).await;
            turns.done(out);
        }
    })
}

/// One virtual user: owns its connections and buffers, runs one iteration at a time.
///
/// An implementation may do its work on a blocking thread (e.g. a JavaScript runtime)
/// and await it here; the engine only needs the future.
pub trait Vu: Send {
    /// Runs one iteration. The engine may drop the future to interrupt it.
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_>;

    /// Runs iterations back to back in one future while `turns` gives them (the engine
    /// drops the future to interrupt the running one). A VU whose iteration future is
    /// large overrides this to keep one future for all of them instead of allocating and
    /// moving one per iteration; the default is [`run_each`].
    fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> RunFuture<'a> {
        run_each(self, turns)
    }

    /// Work the VU does once, before its first iteration (a YAML plan's `vu_init:`, k6's
    /// per-VU init): not timed as an iteration and not counted in `iterations`. `None`
    /// (the default) when there is nothing to do.
    fn init(&mut self) -> Option<IterFuture<'_>> {
        None
    }
}

/// Makes VUs for a scenario.
pub trait Workload: Send + Sync {
    /// Creates a VU.
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu>;
}
