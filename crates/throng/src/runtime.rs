//! The async runtime a command runs on: worker threads, one per processor throng may use,
//! or, for a load on one processor, the calling thread alone.
//!
//! With one processor (`taskset -c 0`, a container limited to one CPU, or
//! `THRONG_THREADS=1`) `quick` and a YAML plan run on a single-threaded runtime: no worker
//! to hand each woken VU to, and no atomics on the run queue (4% fewer instructions per
//! request at 1,000 connections). Every VU gives the thread up when its task's budget is
//! spent, even if it never waits (see throng-flow's `FlowVu::run`), so Ctrl-C, the run's
//! clock and the other VUs always get their turn. A k6 script keeps a worker thread: its
//! JavaScript can compute for as long as it likes between two waits, and the run's own
//! loop, on the main thread, must still be able to stop it.
use crate::cli::{Cli, Command};
use throng_run::ExitCode;
use tokio::runtime::{Builder, Runtime};

/// The environment variable that sets the number of threads of `run` and `quick` (a
/// positive integer).
pub const THREADS_VAR: &str = "THRONG_THREADS";

/// Why there is no runtime.
#[derive(Debug)]
pub enum RuntimeError {
    /// [`THREADS_VAR`] is not a thread count: bad input (exit 104, as a bad flag).
    Threads(String),
    /// The runtime could not start (exit 107).
    Start(String),
}

impl RuntimeError {
    /// The message, and the exit code it ends the process with.
    pub fn report(self) -> (String, ExitCode) {
        match self {
            RuntimeError::Threads(m) => (m, ExitCode::InvalidPlan),
            RuntimeError::Start(m) => (m, ExitCode::RuntimeError),
        }
    }
}

/// The runtime for `cli`'s command.
pub fn build(cli: &Cli) -> Result<Runtime, RuntimeError> {
    let threads = threads(cli).map_err(RuntimeError::Threads)?;
    let one =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())) == 1;
    let built = if one && !needs_workers(cli) {
        Builder::new_current_thread().enable_all().build()
    } else {
        let mut b = Builder::new_multi_thread();
        // unset: tokio's own default (one per processor, or TOKIO_WORKER_THREADS)
        if let Some(n) = threads {
            b.worker_threads(n);
        }
        // Every VU in its turn: a worker's own queue holds 256 tasks, and VUs woken past
        // that wait in the shared queue, which tokio checks only every 31–61 tasks. At
        // 1,000 connections a quarter of the VUs then cycled while the rest waited, and
        // throng measured its own queue as the server's latency (p99 160 ms against nginx
        // answering in 2 ms; wrk 12 ms). Checking the shared queue before every task
        // serves them in order (p99 16–21 ms); with few VUs it is one atomic load on an
        // empty queue.
        b.enable_all().global_queue_interval(1).build()
    };
    built.map_err(|e| RuntimeError::Start(format!("cannot start the runtime: {e}")))
}

/// [`THREADS_VAR`] for the commands that run load (`run`, `quick`); `None` when it is unset
/// or empty, or for any other command.
fn threads(cli: &Cli) -> Result<Option<usize>, String> {
    if !matches!(cli.command, Command::Run(_) | Command::Quick(_)) {
        return Ok(None);
    }
    let Ok(v) = std::env::var(THREADS_VAR) else {
        return Ok(None);
    };
    match v.trim() {
        "" => Ok(None),
        t => match t.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{THREADS_VAR}={v:?}: expected a positive integer (at most 1024)"
            )),
        },
    }
}

/// Whether the command keeps worker threads even on one processor: all but `quick` and
/// `run` with a YAML plan (a k6 script's VUs compute between waits; the other commands
/// keep the runtime they always had).
fn needs_workers(cli: &Cli) -> bool {
    match &cli.command {
        Command::Run(args) => throng_js::is_script(&args.plan),
        Command::Quick(_) => false,
        _ => true,
    }
}
