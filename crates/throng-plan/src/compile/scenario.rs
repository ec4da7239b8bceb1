//! A scenario: its executor, start and stop times, tags, flow, the flow's variables and the
//! data sources it uses.
use super::executor::compile_executor;
use super::step::{compile_steps, FlowCx};
use super::Cx;
use crate::model::{Body, HttpOptions, Scenario, Step};
use crate::raw::{RawScenario, RawStep, S};
use std::time::Duration;

/// The flow's variables (every `extract:` name), in order of first appearance.
fn collect_vars(steps: &[S<RawStep>], out: &mut Vec<String>) {
    for s in steps {
        for k in s.value.extract.keys() {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
        if let Some(f) = &s.value.flow {
            collect_vars(&f.value, out);
        }
    }
}

pub(super) fn compile_scenario(
    cx: &mut Cx<'_>,
    name: &str,
    s: &S<RawScenario>,
    http: &HttpOptions,
    has_base_url: bool,
) -> Option<Scenario> {
    let r = &s.value;
    let executor = compile_executor(cx, r);
    let start_time = cx.opt_dur(&r.start_time, "startTime", Duration::ZERO);
    let graceful_stop = cx.opt_dur(&r.graceful_stop, "gracefulStop", Duration::from_secs(30));
    let mut vars = Vec::new();
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
    collect_vars(flow_raw, &mut vars);
    let flow = compile_steps(
        cx,
        flow_raw,
        &FlowCx {
            vars: &vars,
            http,
            group: "",
            has_base_url,
        },
    );
    let mut data_used = Vec::new();
    for (_, t) in &http.headers {
        data_used.extend(t.data_sources());
    }
    collect_data(&flow, &mut data_used);
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
    })
}

/// The data sources a compiled flow's templates use.
fn collect_data(steps: &[Step], out: &mut Vec<usize>) {
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
            Step::Sleep { .. } => {}
        }
    }
}
