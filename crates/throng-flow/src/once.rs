//! Flows run once, around the load: `preflight:`, `setup:`, `teardown:` and the requests of
//! timeline actions. One VU runs the steps; its requests are recorded like the load's but
//! tagged `phase: NAME` (which thresholds leave out), and what went wrong is kept to judge
//! the flow.
use crate::{FlowEnv, FlowParts, FlowShared};
use std::sync::Arc;
use std::time::Instant;
use throng_metrics::names::PHASE_TAG;
use throng_plan::{Flow, Plan, Request, Step};

/// One poll (`until:`) of a flow run once.
#[derive(Debug, Clone, PartialEq)]
pub struct PollResult {
    /// The condition held.
    pub met: bool,
    /// Requests sent.
    pub tries: u64,
    /// From the first try to the last response, ms (the time to detect when met).
    pub took_ms: f64,
    /// What the last response was (`status 200`).
    pub last: String,
}

/// How a flow run once went.
#[derive(Debug, Clone, PartialEq)]
pub enum OnceOutcome {
    /// Every request was answered as expected and every check passed.
    Passed,
    /// What failed, one line each.
    Failed(Vec<String>),
}

/// The result of a flow run once.
#[derive(Debug, Clone)]
pub struct OnceRun {
    /// Whether it passed.
    pub outcome: OnceOutcome,
    /// The flow's variables at the end (for setup: the `setup.NAME` values, in the plan's
    /// `setup_vars` order).
    pub vars: Vec<String>,
    /// Its polls, in order.
    pub polls: Vec<PollResult>,
    /// The last response (`GET /health: status 503`), for messages.
    pub last: Option<String>,
    /// How long it took, ms.
    pub took_ms: f64,
}

impl OnceRun {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.outcome == OnceOutcome::Passed
    }
}

/// Runs `flow` once as phase `phase` (`setup`, `teardown`): its samples carry the plan's
/// tags and `phase: PHASE`.
pub async fn run_once(plan: &Arc<Plan>, flow: &Flow, phase: &str, env: FlowEnv) -> OnceRun {
    run_steps(
        plan,
        &flow.steps,
        flow.vars.len(),
        flow.data_used.clone(),
        phase,
        env,
        &[],
    )
    .await
}

/// Sends the plan's `preflight:` request until its condition holds (or its bound ends).
pub async fn run_preflight(plan: &Arc<Plan>, req: &Request, env: FlowEnv) -> OnceRun {
    run_request(plan, req, "preflight", env, &[]).await
}

/// Runs one request (with its poll, if it has one) as phase `phase`, with `extra_tags`.
pub(crate) async fn run_request(
    plan: &Arc<Plan>,
    req: &Request,
    phase: &str,
    env: FlowEnv,
    extra_tags: &[(String, String)],
) -> OnceRun {
    let steps = [Step::Request(Box::new(req.clone()))];
    let n_vars = plan.setup_vars.len();
    run_steps(plan, &steps, n_vars, Vec::new(), phase, env, extra_tags).await
}

async fn run_steps(
    plan: &Arc<Plan>,
    steps: &[Step],
    n_vars: usize,
    data_used: Vec<usize>,
    phase: &str,
    env: FlowEnv,
    extra_tags: &[(String, String)],
) -> OnceRun {
    let mut common: Vec<(String, String)> = plan.http.tags.clone();
    common.push((PHASE_TAG.to_string(), phase.to_string()));
    common.extend(extra_tags.iter().cloned());
    let parts = FlowParts {
        label: phase.to_string(),
        common_tags: common,
        steps,
        init: &[],
        n_vars,
        persistent: n_vars,
        data_used,
        // streams apart from every scenario's: the phase's name, hashed
        stream: phase.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        }),
    };
    let shared = Arc::new(FlowShared::new(plan.clone(), env, parts));
    let mut vu = shared.new_vu(0);
    vu.tally = Some(Box::default());
    let t0 = Instant::now();
    let picked = vu.pick_rows(&shared);
    if let Err(e) = picked {
        return OnceRun {
            outcome: OnceOutcome::Failed(vec![e]),
            vars: vu.vars,
            polls: Vec::new(),
            last: None,
            took_ms: 0.0,
        };
    }
    vu.run_steps(&shared, &shared.prepared.steps, 0).await;
    let tally = *vu.tally.take().unwrap_or_default();
    OnceRun {
        outcome: if tally.failures.is_empty() {
            OnceOutcome::Passed
        } else {
            OnceOutcome::Failed(tally.failures)
        },
        vars: vu.vars,
        polls: tally.polls,
        last: tally.last,
        took_ms: t0.elapsed().as_secs_f64() * 1000.0,
    }
}
