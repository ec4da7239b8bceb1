//! What runs around the load: `preflight:` (a health check that must pass first),
//! `setup:` and `teardown:` flows (run once; setup's extracts become `setup.NAME` for every
//! flow).
use super::scenario::{collect_data, collect_vars};
use super::step::{compile_steps, FlowCx};
use super::Cx;
use crate::model::{Check, CheckKind, Flow, HttpOptions, Poll, Request, Step};
use crate::raw::{RawStep, S};
use std::time::Duration;

/// The names `setup:` extracts, as `setup.NAME`.
pub(super) fn setup_vars(setup: Option<&S<Vec<S<RawStep>>>>) -> Vec<String> {
    let mut vars = Vec::new();
    if let Some(s) = setup {
        collect_vars(&s.value, "setup.", &mut vars);
    }
    vars
}

/// A flow run once: `setup:` (its extracts are stored as `setup.NAME`) or `teardown:`
/// (which reads `setup.NAME`).
pub(super) fn compile_once(
    cx: &mut Cx<'_>,
    raw: &S<Vec<S<RawStep>>>,
    what: &str,
    setup_vars: &[String],
    http: &HttpOptions,
    has_base_url: bool,
) -> Option<Flow> {
    if raw.value.is_empty() {
        cx.err(raw, format!("{what}: expected at least one step"));
        return None;
    }
    let is_setup = what == "setup";
    let mut vars = setup_vars.to_vec();
    if !is_setup {
        collect_vars(&raw.value, "", &mut vars);
    }
    let steps = compile_steps(
        cx,
        &raw.value,
        &FlowCx {
            vars: &vars,
            http,
            group: "",
            has_base_url,
            extract_prefix: if is_setup { "setup." } else { "" },
        },
    );
    let mut data_used = Vec::new();
    collect_data(&steps, &mut data_used);
    data_used.sort_unstable();
    data_used.dedup();
    Some(Flow {
        steps,
        vars,
        data_used,
    })
}

/// `preflight:`: one request, sent until its `until:` passes (or, without `until:`, its
/// `check:` — or a 2xx status — every second for at most 30 s).
pub(super) fn compile_preflight(
    cx: &mut Cx<'_>,
    raw: &S<RawStep>,
    setup_vars: &[String],
    http: &HttpOptions,
    has_base_url: bool,
) -> Option<Box<Request>> {
    let fcx = FlowCx {
        vars: setup_vars,
        http,
        group: "",
        has_base_url,
        extract_prefix: "",
    };
    let step = compile_steps(cx, std::slice::from_ref(raw), &fcx).pop()?;
    let Step::Request(mut req) = step else {
        cx.err(
            raw,
            "preflight: expected a request, e.g. `{get: /health, check: {status: 200}, within: 30s}`",
        );
        return None;
    };
    if req.poll.is_none() {
        let until = if req.checks.is_empty() {
            vec![Check {
                name: "status is 2xx".into(),
                kind: CheckKind::Status((200..300).collect()),
            }]
        } else {
            req.checks.clone()
        };
        req.poll = Some(Poll {
            label: format!(
                "until {}",
                until
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            until,
            every: Duration::from_secs(1),
            max_tries: None,
            within: Some(Duration::from_secs(30)),
            trend: None,
        });
    }
    Some(req)
}
