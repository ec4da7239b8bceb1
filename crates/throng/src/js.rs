//! `throng run script.js`: a k6 script on throng's engine (crate throng-js).
use crate::cli::{run_plan_host, PlanInput, RunArgs};
use std::sync::Arc;
use throng_run::ExitCode;

/// Loads the script, makes its plan from `options` (with the command line's overrides)
/// and runs it; returns the exit code.
pub async fn run(args: RunArgs) -> i32 {
    let env = match crate::env::collect(&args.env) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let path = args.plan.clone();
    let loaded = match tokio::task::spawn_blocking(move || load(&path, env)).await {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            return if e.aborted() {
                ExitCode::ScriptAborted.code()
            } else {
                ExitCode::RuntimeError.code()
            };
        }
        Err(e) => {
            eprintln!("error: the script loader stopped: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    let text = loaded.plan.text.clone();
    let host = match throng_js::JsHost::new(loaded) {
        Ok(h) => Arc::new(h),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    run_plan_host(args, PlanInput::Text(&text), |_| String::new(), Some(host)).await
}

/// Loads a script with k6's `__ENV`: the environment overlaid by `env` (`-e`, `--env-file`).
pub fn load(
    path: &std::path::Path,
    env: std::collections::BTreeMap<String, String>,
) -> Result<throng_js::Loaded, throng_js::JsError> {
    let mut all: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    all.extend(env);
    throng_js::load(path, all)
}

/// `throng convert script.js`: the plan on stdout, what could not be converted on stderr;
/// fails only when nothing could be.
pub fn convert(args: &crate::cli::ConvertArgs) -> i32 {
    let env = match crate::env::collect(&args.env) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let mut all: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    all.extend(env);
    match throng_js::convert::convert(&args.script, all) {
        Ok(c) => {
            print!("{}", c.yaml);
            if !c.skipped.is_empty() {
                eprintln!("not converted ({}):", c.skipped.len());
                for s in &c.skipped {
                    eprintln!("  - {s}");
                }
            }
            eprintln!(
                "{}: {} step{} converted",
                args.script.display(),
                c.steps,
                if c.steps == 1 { "" } else { "s" }
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::RuntimeError.code()
        }
    }
}
