//! A flow's steps: which kind each step is (a request, a sleep or a group), the options
//! that only requests take, sleeps and groups. Requests are compiled in [`super::request`].
use super::request::compile_request;
use super::Cx;
use crate::duration::parse_duration_range;
use crate::model::{Branch, HttpOptions, Repeat, Step};
use crate::raw::{RawRepeat, RawStep, S};
use std::time::Duration;

/// What the steps of one flow (or group) compile in.
#[derive(Clone, Copy)]
pub(super) struct FlowCx<'a> {
    /// The flow's variables, by index.
    pub vars: &'a [String],
    /// The plan's HTTP defaults.
    pub http: &'a HttpOptions,
    /// The group path (`""` at the top, `::a::b` inside groups).
    pub group: &'a str,
    /// Whether the plan has a `base_url`, so a URL may be a path.
    pub has_base_url: bool,
    /// What extracted names are stored as (`vu.` in `vu_init:`, `setup.` in `setup:`).
    pub extract_prefix: &'a str,
}

const METHOD_KEYS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// Compiles a list of steps, leaving out the ones with errors.
pub(super) fn compile_steps(cx: &mut Cx<'_>, steps: &[S<RawStep>], fcx: &FlowCx<'_>) -> Vec<Step> {
    let mut out = Vec::new();
    for s in steps {
        if let Some(step) = compile_step(cx, s, fcx) {
            out.push(step);
        }
    }
    out
}

/// One step, behind its `if:` when it has one; `None` (with errors given) when it cannot
/// run.
fn compile_step(cx: &mut Cx<'_>, s: &S<RawStep>, fcx: &FlowCx<'_>) -> Option<Step> {
    let step = compile_action(cx, s, fcx)?;
    let Some(c) = &s.value.if_ else {
        return Some(step);
    };
    if c.value.trim().is_empty() {
        cx.err(
            c,
            "if: expected a template condition, e.g. \"{{ vu.role }}\"",
        );
        return None;
    }
    let cond = cx.tpl(c, fcx.vars);
    Some(Step::If {
        source: c.value.clone(),
        cond,
        step: Box::new(step),
    })
}

/// The step without its `if:`.
fn compile_action(cx: &mut Cx<'_>, s: &S<RawStep>, fcx: &FlowCx<'_>) -> Option<Step> {
    let r = &s.value;
    let methods: [&Option<S<String>>; 7] = [
        &r.get, &r.post, &r.put, &r.patch, &r.delete, &r.head, &r.options,
    ];
    let mut kinds: Vec<String> = Vec::new();
    let mut method_url: Option<(String, &S<String>)> = None;
    for (k, m) in METHOD_KEYS.iter().zip(methods) {
        if let Some(u) = m {
            kinds.push(k.to_string());
            method_url = Some((k.to_uppercase(), u));
        }
    }
    if let Some(u) = &r.url {
        kinds.push("url".into());
        let m = r
            .method
            .as_ref()
            .map(|m| m.value.to_uppercase())
            .unwrap_or_else(|| "GET".into());
        if let Some(mm) = &r.method {
            if mm.value.is_empty() || !mm.value.chars().all(|c| c.is_ascii_alphabetic()) {
                cx.err(mm, format!("method `{}` is not an HTTP method", mm.value));
            }
        }
        method_url = Some((m, u));
    } else if let Some(m) = &r.method {
        cx.err(m, "`method:` needs `url:` beside it");
    }
    if r.sleep.is_some() {
        kinds.push("sleep".into());
    }
    if r.group.is_some() {
        kinds.push("group".into());
    }
    if r.choose.is_some() {
        kinds.push("choose".into());
    }
    if r.repeat.is_some() {
        kinds.push("repeat".into());
    }
    if r.ws.is_some() {
        kinds.push("ws".into());
    }
    if r.grpc.is_some() {
        kinds.push("grpc".into());
    }
    for (k, present) in [
        ("sql", r.sql.is_some()),
        ("redis", r.redis.is_some()),
        ("transaction", r.transaction.is_some()),
    ] {
        if present {
            kinds.push(k.into());
        }
    }
    if r.session.is_some() && r.ws.is_none() {
        if let Some(se) = &r.session {
            cx.err(se, "`session:` belongs to a `ws:` step");
        }
    }
    if kinds.len() != 1 {
        let msg = if kinds.is_empty() {
            "a step needs exactly one of get/post/put/patch/delete/head/options (or method + url), ws, grpc, sql, redis, sleep, group, transaction, choose or repeat".to_string()
        } else {
            format!(
                "a step has one action, but this one has {}: split it into separate steps",
                kinds.join(", ")
            )
        };
        cx.err(s, msg);
        return None;
    }
    if let Some(t) = &r.transaction {
        let Some(flow) = &r.flow else {
            cx.err(t, "a transaction needs `flow:` with its sql steps");
            return None;
        };
        let source = super::sources::pick_source(cx, Some(t), "postgres", t)?;
        super::proto::define_metrics(cx, "sql");
        let steps = compile_steps(cx, &flow.value, fcx);
        return Some(Step::Transaction { source, steps });
    }
    if r.ws.is_some() || r.grpc.is_some() || r.sql.is_some() || r.redis.is_some() {
        if let Some(f) = &r.flow {
            cx.err(f, "`flow:` belongs to a group step (`group: name`)");
        }
        return super::proto::compile_proto(cx, s, fcx);
    }
    let is_request = method_url.is_some();
    // options that only make sense on requests
    if !is_request {
        let misplaced: Vec<&str> = [
            ("name", r.name.is_some()),
            ("query", !r.query.is_empty()),
            ("headers", !r.headers.is_empty()),
            ("body", r.body.is_some()),
            ("json", r.json.is_some()),
            ("form", r.form.is_some()),
            ("tags", !r.tags.is_empty()),
            ("timeout", r.timeout.is_some()),
            ("check", r.check.is_some()),
            ("checks", !r.checks.is_empty()),
            ("expected_statuses", r.expected_statuses.is_some()),
            ("add", !r.add.is_empty()),
            ("extract", !r.extract.is_empty()),
            ("until", r.until.is_some()),
            ("every", r.every.is_some()),
            ("max_tries", r.max_tries.is_some()),
            ("within", r.within.is_some()),
            ("trend", r.trend.is_some()),
        ]
        .iter()
        .filter(|(_, p)| *p)
        .map(|(n, _)| *n)
        .collect();
        if !misplaced.is_empty() {
            cx.err(
                s,
                format!("{} only apply to request steps", misplaced.join(", ")),
            );
        }
    }
    if let Some(sl) = &r.sleep {
        if r.flow.is_some() {
            cx.err(sl, "a sleep step has no `flow:`");
        }
        return match parse_duration_range(&sl.value) {
            Ok((min, max)) => Some(Step::Sleep { min, max }),
            Err(e) => {
                cx.err(sl, format!("sleep: {e}"));
                None
            }
        };
    }
    if let Some(g) = &r.group {
        let Some(flow) = &r.flow else {
            cx.err(g, "a group needs `flow:` with its steps");
            return None;
        };
        if g.value.contains("::") || g.value.is_empty() {
            cx.err(
                g,
                "a group name must be non-empty and must not contain `::`",
            );
        }
        let path = format!("{}::{}", fcx.group, g.value);
        let inner = FlowCx {
            group: &path,
            ..*fcx
        };
        let steps = compile_steps(cx, &flow.value, &inner);
        return Some(Step::Group {
            name: g.value.clone(),
            path,
            steps,
        });
    }
    if let Some(ch) = &r.choose {
        if let Some(f) = &r.flow {
            cx.err(f, "a choose step has its flows in its branches: `choose: [{weight: 3, flow: [...]}, ...]`");
        }
        if ch.value.is_empty() {
            cx.err(
                ch,
                "choose: expected at least one branch `{weight: N, flow: [...]}`",
            );
            return None;
        }
        let mut branches = Vec::new();
        for b in &ch.value {
            let w = &b.value.weight;
            if !(w.value.is_finite() && w.value > 0.0) {
                cx.err(
                    w,
                    format!(
                        "choose: a branch weight must be a number above 0, not {}",
                        w.value
                    ),
                );
            }
            if b.value.flow.value.is_empty() {
                cx.err(&b.value.flow, "choose: the branch's flow is empty");
            }
            let steps = compile_steps(cx, &b.value.flow.value, fcx);
            branches.push(Branch {
                weight: w.value,
                steps,
            });
        }
        return Some(Step::Choose { branches });
    }
    if let Some(rp) = &r.repeat {
        if let Some(f) = &r.flow {
            cx.err(f, "a repeat step has its steps in `repeat: {flow: [...]}`");
        }
        return compile_repeat(cx, rp, fcx).map(|r| Step::Repeat(Box::new(r)));
    }
    if let Some(f) = &r.flow {
        cx.err(f, "`flow:` belongs to a group step (`group: name`)");
    }
    let (method, url_s) = method_url?;
    compile_request(cx, s, method, url_s, fcx)
}

/// A `repeat:` loop: it must be bounded (`times`, `max` or `within`).
fn compile_repeat(cx: &mut Cx<'_>, rp: &S<RawRepeat>, fcx: &FlowCx<'_>) -> Option<Repeat> {
    let r = &rp.value;
    if r.times.is_none() && r.max.is_none() && r.within.is_none() {
        cx.err(
            rp,
            "repeat: a loop needs a bound: `times: N`, `max: N` (with `until:`) or `within: 30s`",
        );
    }
    for n in [&r.times, &r.max].into_iter().flatten() {
        if n.value == 0 {
            cx.err(n, "repeat: expected 1 or more");
        }
    }
    if r.flow.value.is_empty() {
        cx.err(
            &r.flow,
            "repeat: the flow is empty: expected at least one step",
        );
    }
    let until = r.until.as_ref().map(|u| cx.tpl(u, fcx.vars));
    let label = match &r.until {
        Some(u) => format!("until {}", u.value.trim()),
        None => "repeat".to_string(),
    };
    let within = r.within.as_ref().and_then(|w| cx.dur(w, "repeat within"));
    let every = cx.opt_dur(&r.every, "repeat every", Duration::ZERO);
    let trend = r.trend.as_ref().and_then(|t| cx.define_trend(t));
    let steps = compile_steps(cx, &r.flow.value, fcx);
    Some(Repeat {
        times: r.times.as_ref().map(|t| t.value),
        until,
        max: r.max.as_ref().map(|m| m.value),
        within,
        every,
        trend,
        label,
        steps,
    })
}
