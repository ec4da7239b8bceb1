//! throng-js: k6 scripts run on throng's engine. Each VU is a QuickJS context (rquickjs)
//! in a QuickJS runtime shared by [`VUS_PER_RUNTIME`] VUs, on its own coroutine stack
//! (corosensei; `suspend.rs` binds the runtime's stack bounds to the coroutine):
//! `http.get()` suspends the coroutine while
//! throng's async HTTP client does the request, so many VUs share a few worker threads.
//! The script's `options` become a throng plan (scenarios, executors, thresholds), so the
//! run itself — summary, reports, dashboard, exit codes — is throng-run's.
#![warn(missing_docs)]

mod batch;
pub mod convert;
mod cookies;
mod crypto;
mod data;
mod driver;
pub mod modules;
mod msg;
pub mod options;
mod shared;
mod summary;
mod suspend;
mod vm;
mod workload;

pub use shared::ScriptSource;
pub use vm::{MetricDecl, Probe};
pub use workload::JsHost;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Each VU's coroutine stack: address space reserved, of which only the pages QuickJS
/// touches are resident. 16 MiB lets scripts recurse as deep as k6 lets them (thousands of
/// frames), and QuickJS's own deep recursions that check no bound (`JSON.stringify` of
/// data nested tens of thousands deep) end well inside it.
pub const STACK_SIZE: usize = 16 * 1024 * 1024;

/// How many VUs share one QuickJS runtime (a context each). QuickJS keeps the chain of
/// JavaScript call frames per runtime (`current_stack_frame`) and a VU suspends in the
/// middle of its calls, so each suspension takes the VU's chain out of the runtime and
/// each resume puts it back (`suspend.rs`); without that, VUs taking turns linked their
/// frames into each other's and a backtrace built after the other VU's frames were gone
/// walked freed stack (a segfault in `build_backtrace`). Where the chain's place in the
/// runtime cannot be proved at start, VUs fall back to a runtime each.
pub const VUS_PER_RUNTIME: usize = 64;

/// A script that cannot run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsError(pub String);

/// How the error of init code that called `test.abort()` begins.
const ABORTED_AT_INIT: &str = "test.abort() in the init code: ";

impl JsError {
    /// Whether the init code stopped the test with `test.abort()` (k6 exits 108 for it,
    /// not 107).
    pub fn aborted(&self) -> bool {
        self.0.starts_with(ABORTED_AT_INIT)
    }
}

/// A script read, its init code run once, and its options turned into a plan.
#[derive(Debug)]
pub struct Loaded {
    /// The script.
    pub script: Arc<ScriptSource>,
    /// What the init code exported and made.
    pub probe: Probe,
    /// The plan its options make.
    pub plan: options::PlanText,
}

/// Whether `path` names a JavaScript file (`.js`, `.mjs`).
pub fn is_script(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("js" | "mjs")
    )
}

/// Reads `path`, runs its init code once (as k6 does to read `options`) and makes its plan.
/// `env` is `__ENV`. Syntax errors, unknown modules and missing exports fail here, with
/// the script's file:line:col.
pub fn load(path: &Path, env: BTreeMap<String, String>) -> Result<Loaded, JsError> {
    load_with_timeout(path, env, INIT_TIMEOUT)
}

/// How long init code may run before it is stopped as an endless loop.
pub const INIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// [`load`] with the init code bounded by `init_timeout`.
pub fn load_with_timeout(
    path: &Path,
    env: BTreeMap<String, String>,
    init_timeout: std::time::Duration,
) -> Result<Loaded, JsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| JsError(format!("{}: cannot read the script: {e}", path.display())))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path.display().to_string();
    let modules = modules::collect(&name, &text).map_err(JsError)?;
    let script = Arc::new(ScriptSource {
        name,
        text,
        dir,
        env,
        init_timeout,
        modules,
    });
    let probe = probe(&script)?;
    let opts: serde_json::Value = serde_json::from_str(&probe.options)
        .map_err(|e| JsError(format!("{}: options: {e}", script.name)))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("script");
    let plan = options::plan(stem, &opts, &probe.functions, &probe.metrics)
        .map_err(|e| JsError(format!("{}: options: {e}", script.name)))?;
    Ok(Loaded {
        script,
        probe,
        plan,
    })
}

/// Runs the init code on a coroutine of its own (as a VU's would run).
fn probe(script: &Arc<ScriptSource>) -> Result<Probe, JsError> {
    let abort = tokio_util::sync::CancellationToken::new();
    let shared = Arc::new(shared::Shared::new(
        script.clone(),
        throng_metrics::Registry::new(),
        None,
        false,
        abort.clone(),
    ));
    let spec = shared::VuSpec {
        id: 0,
        scenario: String::new(),
        root_group: String::new(),
        shared,
        data: None,
        tags: Arc::from(Vec::new()),
    };
    let stack = DefaultStack::new(STACK_SIZE)
        .map_err(|e| JsError(format!("cannot allocate a stack: {e}")))?;
    let home = suspend::Home::new();
    let hub = home.hub().map_err(JsError)?;
    let mut co = Coroutine::with_stack(stack, move |y, _: msg::In| vm::main(y, hub, spec, true));
    match co.resume(msg::In::Start) {
        CoroutineResult::Return(r) => r.map_err(|e| {
            let at = locate(&script.name, &e);
            if abort.is_cancelled() {
                JsError(format!("{ABORTED_AT_INIT}{at}"))
            } else {
                JsError(at)
            }
        }),
        CoroutineResult::Yield(_) => {
            // natives refuse to suspend in the init context: unreachable in practice, and
            // the coroutine is finished by answering that it must end
            let _ = co.resume(msg::In::Exit);
            Err(JsError(format!(
                "{}: the init code tried to wait",
                script.name
            )))
        }
    }
}

/// `file:line:col: message` from an error whose stack names a place in `file`.
fn locate(file: &str, err: &str) -> String {
    let needle = format!("{file}:");
    let place = err.lines().find_map(|l| {
        let i = l.find(&needle)?;
        let rest = &l[i + needle.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(rest.len());
        let pos = rest[..end].trim_end_matches(':');
        (!pos.is_empty()).then(|| format!("{file}:{pos}"))
    });
    let first = err.lines().next().unwrap_or(err);
    match place {
        Some(p) => format!("{p}: {first}\n{err}"),
        None => format!("{file}: {err}"),
    }
}
