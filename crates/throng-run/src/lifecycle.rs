//! What runs around the load: the preflight check and setup before it (either failing
//! stops the run before any load, exit 107), teardown after it (even after Ctrl-C or an
//! abort).
use crate::RunError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_flow::{FlowEnv, OnceOutcome, OnceRun};
use throng_metrics::ActionRecord;
use throng_plan::Plan;
use tokio_util::sync::CancellationToken;

/// Longest setup and teardown may take (k6's `setupTimeout`/`teardownTimeout` default).
const ONCE_TIMEOUT: Duration = Duration::from_secs(60);

fn failures(r: &OnceRun) -> String {
    match &r.outcome {
        OnceOutcome::Passed => String::new(),
        OnceOutcome::Failed(f) => f.join("; "),
    }
}

/// Sends the `preflight:` request until its condition holds; an error names the URL and
/// what was seen.
pub(crate) async fn preflight(
    plan: &Arc<Plan>,
    env: &FlowEnv,
    interrupt: &CancellationToken,
) -> Result<(), RunError> {
    let Some(req) = &plan.preflight else {
        return Ok(());
    };
    let url = match (&plan.base_url, req.name.starts_with('/')) {
        (Some(b), true) => format!("{}{}", b.trim_end_matches('/'), req.name),
        _ => req.name.clone(),
    };
    let url = throng_metrics::redact::url(&url).into_owned();
    let r = tokio::select! {
        r = throng_flow::run_preflight(plan, req, env.clone()) => r,
        _ = interrupt.cancelled() => {
            return Err(RunError::Preflight(format!("{} {url}: interrupted", req.method)));
        }
    };
    if r.passed() {
        tracing::info!(
            "preflight {} {url}: passed in {:.0} ms",
            req.method,
            r.took_ms
        );
        return Ok(());
    }
    Err(RunError::Preflight(format!(
        "{} {url}: {}",
        req.method,
        failures(&r)
    )))
}

/// Runs `setup:`; returns the `setup.NAME` values (`None` without a setup).
pub(crate) async fn setup(
    plan: &Arc<Plan>,
    env: &FlowEnv,
    interrupt: &CancellationToken,
) -> Result<Option<Arc<[String]>>, RunError> {
    let Some(flow) = &plan.setup else {
        return Ok(None);
    };
    let r = tokio::select! {
        r = tokio::time::timeout(ONCE_TIMEOUT, throng_flow::run_once(plan, flow, "setup", env.clone())) => r,
        _ = interrupt.cancelled() => return Err(RunError::Setup("interrupted".into())),
    };
    let Ok(r) = r else {
        return Err(RunError::Setup(format!(
            "it did not finish within {}",
            throng_plan::format_duration(ONCE_TIMEOUT)
        )));
    };
    if !r.passed() {
        return Err(RunError::Setup(failures(&r)));
    }
    let values: Vec<String> = r.vars.iter().take(plan.setup_vars.len()).cloned().collect();
    let empty: Vec<&str> = plan
        .setup_vars
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    if !empty.is_empty() {
        return Err(RunError::Setup(format!(
            "it extracted nothing for {} ({})",
            empty
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            r.last.as_deref().unwrap_or("no response")
        )));
    }
    tracing::info!("setup passed in {:.0} ms", r.took_ms);
    Ok(Some(Arc::from(values)))
}

/// Runs `teardown:` (with the setup values), whatever happened to the load; its row for
/// the Timeline table.
pub(crate) async fn teardown(
    plan: &Arc<Plan>,
    env: &FlowEnv,
    start: Instant,
) -> Option<ActionRecord> {
    let flow = plan.teardown.as_ref()?;
    let t0 = Instant::now();
    let r = tokio::time::timeout(
        ONCE_TIMEOUT,
        throng_flow::run_once(plan, flow, "teardown", env.clone()),
    )
    .await;
    let mut rec = ActionRecord {
        name: "teardown".into(),
        kind: "teardown".into(),
        planned_s: None,
        started_s: Some(t0.saturating_duration_since(start).as_secs_f64()),
        took_ms: t0.elapsed().as_secs_f64() * 1000.0,
        ..Default::default()
    };
    match r {
        Ok(r) if r.passed() => {
            rec.ok = true;
            rec.outcome = r.last.unwrap_or_else(|| "passed".into());
        }
        Ok(r) => {
            rec.outcome = failures(&r);
            tracing::warn!("teardown failed: {}", rec.outcome);
        }
        Err(_) => {
            rec.outcome = format!(
                "did not finish within {}",
                throng_plan::format_duration(ONCE_TIMEOUT)
            );
            tracing::warn!("teardown {}", rec.outcome);
        }
    }
    Some(rec)
}
