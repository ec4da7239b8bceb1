//! A scenario: its executor, start and stop times, tags, flow, the flow's variables and the
//! data sources it uses.
use super::executor::compile_executor;
use super::step::{compile_steps, FlowCx};
use super::Cx;
use crate::model::{Body, HttpOptions, Scenario, Step};
use crate::raw::{RawScenario, RawStep, S};
use std::time::Duration;

/// The flow's variables (every `extract:` name, with `prefix`), in order of first
/// appearance, after those already in `out`.
pub(super) fn collect_vars(steps: &[S<RawStep>], prefix: &str, out: &mut Vec<String>) {
    for s in steps {
        for k in s.value.extract.keys() {
            let name = format!("{prefix}{k}");
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if let Some(f) = &s.value.flow {
            collect_vars(&f.value, prefix, out);
        }
        if let Some(ch) = &s.value.choose {
            for b in &ch.value {
                collect_vars(&b.value.flow.value, prefix, out);
            }
        }
        if let Some(r) = &s.value.repeat {
            collect_vars(&r.value.flow.value, prefix, out);
        }
    }
}

/// What every scenario shares: the plan's HTTP defaults, whether it has a base URL, the
/// values `setup:` extracts and the plan-wide `vu_init:`.
pub(super) struct Shared<'a> {
    pub http: &'a HttpOptions,
    pub has_base_url: bool,
    pub setup_vars: &'a [String],
    pub vu_init: Option<&'a S<Vec<S<RawStep>>>>,
    /// The executors of weighted (Locust) scenarios, by name.
    pub weighted: &'a std::collections::BTreeMap<String, crate::model::Executor>,
}

pub(super) fn compile_scenario(
    cx: &mut Cx<'_>,
    name: &str,
    s: &S<RawScenario>,
    shared: &Shared<'_>,
) -> Option<Scenario> {
    let r = &s.value;
    let http = shared.http;
    let executor = match (&r.executor, &r.weight) {
        (Some(e), None) => compile_executor(cx, r, e),
        // a weighted scenario's executor comes from `locust:` (errors given there)
        (_, Some(_)) => shared.weighted.get(name).cloned(),
        (None, None) => {
            cx.err(
                s,
                format!("scenario `{name}` needs an `executor:` (or a `weight:` to take users from `locust:`)"),
            );
            None
        }
    };
    if r.weight.is_some() {
        let opts = [
            r.vus.as_ref().map(super::lc),
            r.iterations.as_ref().map(super::lc),
            r.duration.as_ref().map(super::lc),
            r.stages.as_ref().map(super::lc),
            r.rate.as_ref().map(super::lc),
            r.pre_allocated_vus.as_ref().map(super::lc),
        ];
        if let Some(at) = opts.into_iter().flatten().next() {
            cx.err_at(
                at,
                "a weighted scenario takes its load from `locust:` (users, spawn_rate, run_time), not executor options",
            );
        }
    }
    let pacing = super::locust::pacing(cx, r, executor.as_ref());
    let time = |cx: &mut Cx<'_>, v: &Option<S<String>>, what: &str, d: Duration| match v {
        Some(v) => super::options::expand(cx, v, what)
            .and_then(|v| cx.dur(&v, what))
            .unwrap_or(d),
        None => d,
    };
    let start_time = time(cx, &r.start_time, "startTime", Duration::ZERO);
    let graceful_stop = time(
        cx,
        &r.graceful_stop,
        "gracefulStop",
        Duration::from_secs(30),
    );
    // setup.* values, then the VU's own (vu.*), then the iteration's
    let mut vars = shared.setup_vars.to_vec();
    let vu_init_raw = r.vu_init.as_ref().or(shared.vu_init);
    if let Some(v) = vu_init_raw {
        collect_vars(&v.value, "vu.", &mut vars);
    }
    let persistent_vars = vars.len();
    let flow_raw = match &r.flow {
        Some(f) if !f.value.is_empty() => &f.value,
        Some(f) => {
            cx.err(f, "the flow is empty: expected at least one step");
            return None;
        }
        None => {
            cx.err(
                s,
                format!("scenario `{name}` has no `flow:` (expected a list of steps)"),
            );
            return None;
        }
    };
    collect_vars(flow_raw, "", &mut vars);
    let fcx = FlowCx {
        vars: &vars,
        http,
        group: "",
        has_base_url: shared.has_base_url,
        extract_prefix: "",
    };
    let vu_init = match vu_init_raw {
        Some(v) => compile_steps(
            cx,
            &v.value,
            &FlowCx {
                extract_prefix: "vu.",
                ..fcx
            },
        ),
        None => Vec::new(),
    };
    let flow = compile_steps(cx, flow_raw, &fcx);
    let mut data_used = Vec::new();
    for (_, t) in &http.headers {
        data_used.extend(t.data_sources());
    }
    collect_data(&flow, &mut data_used);
    collect_data(&vu_init, &mut data_used);
    data_used.sort_unstable();
    data_used.dedup();
    Some(Scenario {
        name: name.to_string(),
        executor: executor?,
        start_time,
        graceful_stop,
        tags: r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        flow,
        vars,
        data_used,
        vu_init,
        persistent_vars,
        pacing,
    })
}

/// The data sources a compiled flow's templates use.
pub(super) fn collect_data(steps: &[Step], out: &mut Vec<usize>) {
    for s in steps {
        match s {
            Step::Request(r) => {
                out.extend(r.url.data_sources());
                for (_, t) in r.query.iter().chain(r.headers.iter()) {
                    out.extend(t.data_sources());
                }
                match &r.body {
                    Some(Body::Text(t)) => out.extend(t.data_sources()),
                    Some(Body::Form(f)) => {
                        for (_, t) in f {
                            out.extend(t.data_sources());
                        }
                    }
                    None => {}
                }
            }
            Step::Group { steps, .. } => collect_data(steps, out),
            Step::If { cond, step, .. } => {
                out.extend(cond.data_sources());
                collect_data(std::slice::from_ref(step), out);
            }
            Step::Choose { branches } => {
                for b in branches {
                    collect_data(&b.steps, out);
                }
            }
            Step::Repeat(r) => {
                if let Some(u) = &r.until {
                    out.extend(u.data_sources());
                }
                collect_data(&r.steps, out);
            }
            Step::Proto(p) => p.call.data_sources(out),
            Step::Transaction { steps, .. } => collect_data(steps, out),
            Step::Sleep { .. } => {}
        }
    }
}
