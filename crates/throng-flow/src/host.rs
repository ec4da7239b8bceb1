//! [`ScriptHost`]: what VUs run when they do not run a plan's YAML flows — a script
//! (throng-js) — and the hooks around the load that a script has (setup, teardown, abort,
//! its own summary).
use crate::FlowEnv;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A boxed future, for [`ScriptHost`].
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What VUs run when they do not run the plan's YAML flows: a script (throng-js). The
/// plan still gives the scenarios, executors and thresholds.
pub trait ScriptHost: Send + Sync {
    /// Runs once before the load (k6's `setup()`); an error stops the run before any load.
    fn setup<'a>(&'a self, env: &'a FlowEnv) -> BoxFuture<'a, Result<(), String>>;
    /// The workload of the plan's scenario named `scenario`.
    fn workload(&self, scenario: &str, env: &FlowEnv) -> Arc<dyn throng_engine::Workload>;
    /// Runs once after the load (k6's `teardown(data)`); an error is logged.
    fn teardown<'a>(&'a self, env: &'a FlowEnv) -> BoxFuture<'a, Result<(), String>>;
    /// Cancelled when the script stops the whole run (k6's `test.abort()`): the load stops
    /// as for an aborting threshold, and the run exits 108.
    fn abort_requested(&self) -> CancellationToken {
        CancellationToken::new()
    }
    /// The message the script gave when it stopped the run.
    fn abort_reason(&self) -> Option<String> {
        None
    }
    /// Why the script stopped the run with an error of its own (a VU's init code threw,
    /// as in k6): the run stops as for `test.abort()` but exits 107.
    fn script_error(&self) -> Option<String> {
        None
    }
    /// Whether the script replaces the end-of-run summary (k6's `handleSummary`).
    fn handles_summary(&self) -> bool {
        false
    }
    /// k6's `handleSummary(data)`, `data` being k6's summary document (`--summary-json`'s):
    /// the text to print in place of throng's summary (the files it names are written by
    /// the host).
    fn handle_summary(&self, _data: serde_json::Value) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async { Ok(String::new()) })
    }
}
