//! The async runtime a command runs on: one worker thread per processor throng may use,
//! or, with one processor, the calling thread alone.
//!
//! With one processor (`taskset -c 0`, a container limited to one CPU, or
//! `THRONG_THREADS=1`) a load runs on a single-threaded runtime: no worker to hand tasks
//! to, no atomics on the run queue, and the process has one thread, so each socket call
//! finds its file without counting a reference to it (Linux takes that shortcut only for a
//! process with one thread). At 1,000 connections that is 3–4% less CPU per request.
//! Scripts (k6 JavaScript) keep a worker thread: an iteration that computes without
//! waiting would otherwise hold the one thread that also stops the run.
use crate::cli::{Cli, Command};
use tokio::runtime::{Builder, Runtime};

/// The environment variable that sets the number of threads (a positive integer).
pub const THREADS_VAR: &str = "THRONG_THREADS";

/// The runtime for `cli`'s command: threads from [`THREADS_VAR`], else one per processor
/// throng may use.
pub fn build(cli: &Cli) -> Result<Runtime, String> {
    let threads = match std::env::var(THREADS_VAR) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("{THREADS_VAR}={v:?}: expected a positive integer")),
        },
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let built = if threads == 1 && !runs_script(cli) {
        Builder::new_current_thread().enable_all().build()
    } else {
        // Every VU in its turn: a worker's own queue holds 256 tasks, and VUs woken past
        // that wait in the shared queue, which tokio checks only every 31–61 tasks. At
        // 1,000 connections a quarter of the VUs then cycled while the rest waited, and
        // throng measured its own queue as the server's latency (p99 160 ms against nginx
        // answering in 2 ms; wrk 12 ms). Checking the shared queue before every task
        // serves them in order (p99 16–21 ms); with few VUs it is one atomic load on an
        // empty queue.
        Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .global_queue_interval(1)
            .build()
    };
    built.map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Whether the command runs a k6 script (JavaScript): its VUs compute between waits.
fn runs_script(cli: &Cli) -> bool {
    match &cli.command {
        Command::Run(args) => throng_js::is_script(&args.plan),
        Command::Quick(_) => false,
        // the other commands that run load (suites, breaking-point searches) may run
        // scripts; they keep the multi-threaded runtime
        _ => true,
    }
}
