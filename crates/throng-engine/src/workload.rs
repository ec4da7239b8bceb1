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

/// One virtual user: owns its connections and buffers, runs one iteration at a time.
///
/// An implementation may do its work on a blocking thread (e.g. a JavaScript runtime)
/// and await it here; the engine only needs the future.
pub trait Vu: Send {
    /// Runs one iteration. The engine may drop the future to interrupt it.
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_>;

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
