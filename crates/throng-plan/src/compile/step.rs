//! A flow's steps: which kind each step is (a request, a sleep or a group), the options
//! that only requests take, sleeps and groups. Requests are compiled in [`super::request`].
use super::request::compile_request;
use super::Cx;
use crate::duration::parse_duration_range;
use crate::model::{HttpOptions, Step};
use crate::raw::{RawStep, S};

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

/// One step; `None` (with errors given) when it cannot run.
fn compile_step(cx: &mut Cx<'_>, s: &S<RawStep>, fcx: &FlowCx<'_>) -> Option<Step> {
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
    if kinds.len() != 1 {
        let msg = if kinds.is_empty() {
            "a step needs exactly one of get/post/put/patch/delete/head/options (or method + url), sleep, or group".to_string()
        } else {
            format!(
                "a step has one action, but this one has {}: split it into separate steps",
                kinds.join(", ")
            )
        };
        cx.err(s, msg);
        return None;
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
            ("extract", !r.extract.is_empty()),
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
    if let Some(f) = &r.flow {
        cx.err(f, "`flow:` belongs to a group step (`group: name`)");
    }
    let (method, url_s) = method_url?;
    compile_request(cx, s, method, url_s, fcx)
}
