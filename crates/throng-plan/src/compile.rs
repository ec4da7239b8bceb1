//! Turns the raw plan into a validated [`Plan`], collecting every error it finds.
use crate::data::{DataSet, Pick};
use crate::duration::{parse_duration, parse_duration_range};
use crate::error::{PlanError, PlanErrors, Source};
use crate::limits::{check_rate, check_vus};
use crate::model::*;
use crate::raw::*;
use crate::template::{Scope, Template, TemplateError};
use serde_json_path::JsonPath;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use throng_metrics::threshold::{parse_key, Expr};
use throng_metrics::{Builtin, Threshold, ThresholdSet};

/// Options for loading a plan.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Env values from `-e` / `--env-file`; they override the plan's `env:`.
    pub env: BTreeMap<String, String>,
    /// Folder that relative data files are read from (defaults to the plan's folder).
    pub base_dir: Option<PathBuf>,
    /// The process's open-file limit (`ulimit -n`), when known: VU counts must fit in it
    /// (see [`crate::limits::check_vus`]).
    pub open_file_limit: Option<u64>,
}

struct Cx<'a> {
    src: &'a Source,
    errors: Vec<PlanError>,
    env: BTreeMap<String, String>,
    data_scope: Vec<(String, Vec<String>)>,
    /// Data sources that failed to load (already reported once).
    failed_data: Vec<String>,
    open_files: Option<u64>,
}

fn lc<T>(s: &S<T>) -> (usize, usize) {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

impl Cx<'_> {
    fn err<T>(&mut self, at: &S<T>, msg: impl Into<String>) {
        let (l, c) = lc(at);
        self.errors.push(self.src.error_at(l, c, msg));
    }

    fn err_at(&mut self, (l, c): (usize, usize), msg: impl Into<String>) {
        self.errors.push(self.src.error_at(l, c, msg));
    }

    fn dur(&mut self, s: &S<String>, what: &str) -> Option<Duration> {
        match parse_duration(&s.value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(s, format!("{what}: {e}"));
                None
            }
        }
    }

    fn opt_dur(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        match s {
            Some(s) => self.dur(s, what).unwrap_or(default),
            None => default,
        }
    }

    fn template_errors(&mut self, at: (usize, usize), errs: Vec<TemplateError>) {
        for e in errs {
            // a data source that failed to load has no fields: its error was given once
            let inner = e.expr.trim_start_matches('{').trim_end_matches('}').trim();
            let head = inner.split('.').next().unwrap_or("").trim();
            if inner.contains('.') && self.failed_data.iter().any(|f| f == head) {
                continue;
            }
            let pos = self.src.find_from(at.0, at.1, &e.expr);
            self.err_at(pos, e.message);
        }
    }

    fn tpl(&mut self, s: &S<String>, vars: &[String]) -> Template {
        let scope = Scope {
            env: &self.env,
            data: &self.data_scope,
            vars,
        };
        match Template::compile(&s.value, &scope) {
            Ok(t) => t,
            Err(errs) => {
                self.template_errors(lc(s), errs);
                Template::default()
            }
        }
    }

    fn json_tpl(&mut self, v: &S<Json>, vars: &[String]) -> Template {
        let mut t = Template::default();
        let mut errs = Vec::new();
        {
            let scope = Scope {
                env: &self.env,
                data: &self.data_scope,
                vars,
            };
            build_json(&v.value, &scope, &mut t, &mut errs);
        }
        if !errs.is_empty() {
            self.template_errors(lc(v), errs);
        }
        t
    }
}

fn build_json(v: &Json, scope: &Scope<'_>, t: &mut Template, errs: &mut Vec<TemplateError>) {
    match v {
        Json::Object(m) => {
            t.append_raw("{");
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    t.append_raw(",");
                }
                t.append_raw(&serde_json::to_string(k).unwrap_or_default());
                t.append_raw(":");
                build_json(val, scope, t, errs);
            }
            t.append_raw("}");
        }
        Json::Array(a) => {
            t.append_raw("[");
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    t.append_raw(",");
                }
                build_json(val, scope, t, errs);
            }
            t.append_raw("]");
        }
        Json::String(s) => {
            t.append_raw("\"");
            if let Err(e) = t.append(s, scope, true) {
                errs.extend(e);
            }
            t.append_raw("\"");
        }
        other => t.append_raw(&other.to_string()),
    }
}

/// Loads and validates a plan from text. `file` is used in error messages and to find
/// data files.
pub fn load_str(text: &str, file: &Path, opts: &LoadOptions) -> Result<Plan, PlanErrors> {
    let src = Source {
        file: file.to_path_buf(),
        text: text.to_string(),
    };
    let raw: RawPlan = if text.trim().is_empty() {
        return Err(PlanErrors(vec![src.error_at(
            1,
            1,
            "the plan is empty: expected a mapping with `scenarios:`",
        )]));
    } else {
        match serde_saphyr::from_str(text) {
            Ok(r) => r,
            Err(e) => return Err(PlanErrors(vec![yaml_error(&src, &e)])),
        }
    };
    let mut env = raw.env.clone();
    env.extend(opts.env.clone());
    let mut cx = Cx {
        src: &src,
        errors: Vec::new(),
        env,
        data_scope: Vec::new(),
        failed_data: Vec::new(),
        open_files: opts.open_file_limit,
    };
    let base_dir = opts.base_dir.clone().unwrap_or_else(|| {
        file.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });

    // data sources first: templates resolve their fields
    let mut data = Vec::new();
    for (name, d) in &raw.data {
        let pick = match d.value.pick.as_ref().map(|p| p.value.as_str()) {
            None | Some("sequential") => Pick::Sequential,
            Some("random") => Pick::Random,
            Some("unique") => Pick::Unique,
            Some(other) => {
                let at = d.value.pick.as_ref().map(lc).unwrap_or(lc(d));
                cx.err_at(
                    at,
                    format!("unknown pick `{other}`: expected sequential, random or unique"),
                );
                Pick::Sequential
            }
        };
        let path = base_dir.join(&d.value.file.value);
        match DataSet::load(name, &path, pick) {
            Ok(ds) => {
                cx.data_scope.push((name.clone(), ds.fields.clone()));
                data.push(Arc::new(ds));
            }
            Err(e) => {
                cx.err(&d.value.file, e);
                cx.failed_data.push(name.clone());
                cx.data_scope.push((name.clone(), Vec::new()));
                data.push(Arc::new(DataSet::new(
                    name.clone(),
                    Vec::new(),
                    Vec::new(),
                    pick,
                )));
            }
        }
    }

    let http = compile_defaults(&mut cx, &raw.defaults, &base_dir);
    let base_url = raw.base_url.as_ref().and_then(|b| {
        let v = b.value.trim_end_matches('/').to_string();
        if v.starts_with("http://") || v.starts_with("https://") {
            Some(v)
        } else {
            cx.err(
                b,
                format!("base_url `{}` must start with http:// or https://", b.value),
            );
            None
        }
    });

    if raw.scenarios.is_empty() {
        cx.err_at(
            (1, 1),
            "the plan has no scenarios: expected `scenarios:` with at least one scenario",
        );
    }
    let mut scenarios = Vec::new();
    for (name, s) in &raw.scenarios {
        if let Some(sc) = compile_scenario(&mut cx, name, s, &http, base_url.is_some()) {
            scenarios.push(sc);
        }
    }

    let thresholds = compile_thresholds(&mut cx, &raw.thresholds);

    if !cx.errors.is_empty() {
        let mut errs = cx.errors;
        errs.sort_by_key(|e| (e.line, e.column));
        errs.dedup();
        return Err(PlanErrors(errs));
    }
    let name = raw.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".into())
    });
    Ok(Plan {
        name,
        description: raw.description.clone(),
        base_url,
        http,
        data,
        scenarios,
        thresholds,
        env: cx.env,
    })
}

fn yaml_error(src: &Source, e: &serde_saphyr::Error) -> PlanError {
    let (line, col) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    if let serde_saphyr::Error::Budget { breach, .. } = e.without_snippet() {
        return src.error_at(line.max(1), col.max(1), budget_message(breach));
    }
    let full = e.without_snippet().to_string();
    // keep the first line of the message; positions are shown by us
    let msg = full.lines().next().unwrap_or("invalid YAML").to_string();
    let msg = strip_location_suffix(&msg);
    src.error_at(line, col, msg)
}

/// What a breached YAML budget (serde-saphyr's defence against huge or hostile input) means.
fn budget_message(b: &serde_saphyr::budget::BudgetBreach) -> String {
    use crate::limits::{thousands, yaml as lim};
    use serde_saphyr::budget::BudgetBreach as B;
    let n = |v: usize| thousands(v as u64);
    match b {
        B::Nodes { nodes } => format!(
            "plan too large: {} nodes (limit {} keys, values and list items)",
            n(*nodes),
            n(lim::MAX_NODES)
        ),
        B::Events { events } => format!(
            "plan too large: {} YAML events (limit {})",
            n(*events),
            n(lim::MAX_EVENTS)
        ),
        B::Depth { depth } => format!(
            "plan nested too deeply: {} levels (limit {})",
            n(*depth),
            n(lim::MAX_DEPTH)
        ),
        B::ScalarBytes { total_scalar_bytes } => format!(
            "plan too large: {} bytes of values (limit {})",
            n(*total_scalar_bytes),
            n(lim::MAX_SCALAR_BYTES)
        ),
        B::CommentBytes {
            total_comment_bytes,
        } => format!(
            "plan too large: {} bytes of comments (limit {})",
            n(*total_comment_bytes),
            n(lim::MAX_COMMENT_BYTES)
        ),
        B::InputBytes { input_bytes } => format!("plan too large: {} bytes", n(*input_bytes)),
        B::Documents { documents } => format!(
            "too many YAML documents: {} (a plan is one document)",
            n(*documents)
        ),
        B::Aliases { aliases } => format!(
            "too many YAML aliases (`*name`): {} (limit {})",
            n(*aliases),
            n(lim::MAX_ALIASES)
        ),
        B::Anchors { anchors } => format!(
            "too many YAML anchors (`&name`): {} (limit {})",
            n(*anchors),
            n(lim::MAX_ANCHORS)
        ),
        B::AliasAnchorRatio { aliases, anchors } => format!(
            "too many YAML aliases for the anchors: {} aliases of {} anchors (a YAML bomb?)",
            n(*aliases),
            n(*anchors)
        ),
        B::MergeKeys { merge_keys } => format!(
            "too many YAML merge keys (`<<`): {} (limit {})",
            n(*merge_keys),
            n(lim::MAX_MERGE_KEYS)
        ),
        _ => "plan too large or too complex for the YAML reader".to_string(),
    }
}

fn strip_location_suffix(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let msg = msg.split(", set DuplicateKeyPolicy").next().unwrap_or(msg);
    match msg {
        "invalid u64" | "invalid u32" => "expected a whole number (0 or more)".to_string(),
        "invalid f64" => "expected a number".to_string(),
        "unexpected event: expected mapping start" => {
            "expected a mapping (`key: value` lines) here".to_string()
        }
        m => m.to_string(),
    }
}

fn compile_defaults(cx: &mut Cx<'_>, d: &RawDefaults, base_dir: &Path) -> HttpOptions {
    let mut h = HttpOptions::default();
    if let Some(t) = &d.timeout {
        if let Some(v) = cx.dur(t, "timeout") {
            h.timeout = v;
        }
    }
    if let Some(v) = &d.http2 {
        h.http2 = match &v.value {
            Json::Bool(true) => Http2Mode::Auto,
            Json::Bool(false) => Http2Mode::Off,
            Json::String(s) if s == "prior-knowledge" => Http2Mode::PriorKnowledge,
            Json::String(s) if s == "auto" => Http2Mode::Auto,
            _ => {
                cx.err(v, "http2: expected true, false or `prior-knowledge`");
                Http2Mode::Auto
            }
        };
    }
    h.insecure_skip_tls_verify = d.insecure_skip_tls_verify;
    if let Some(ca) = &d.ca_file {
        let p = base_dir.join(&ca.value);
        if !p.is_file() {
            cx.err(ca, format!("ca_file {} does not exist", p.display()));
        }
        h.ca_file = Some(p);
    }
    if let Some(k) = d.keepalive {
        h.keepalive = k;
    }
    if let Some(m) = d.max_redirects {
        h.max_redirects = m;
    }
    for (k, v) in &d.headers {
        check_header(cx, k, v);
    }
    h.headers = d
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), cx.tpl(v, &[])))
        .collect();
    h.tags = d.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    h
}

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

fn compile_scenario(
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
    let flow = compile_steps(cx, flow_raw, &vars, http, "", has_base_url);
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

fn compile_executor(cx: &mut Cx<'_>, r: &RawScenario) -> Option<Executor> {
    let ex = r.executor.value.as_str();
    // which options each executor accepts (k6 rejects the others)
    let Some(allowed) = throng_engine::executor_options(ex) else {
        cx.err(
            &r.executor,
            format!(
                "unknown executor `{ex}`: expected one of {}",
                throng_engine::EXECUTOR_NAMES.join(", ")
            ),
        );
        return None;
    };
    let present: [(&str, Option<(usize, usize)>); 11] = [
        ("vus", r.vus.as_ref().map(lc)),
        ("iterations", r.iterations.as_ref().map(lc)),
        ("duration", r.duration.as_ref().map(lc)),
        ("maxDuration", r.max_duration.as_ref().map(lc)),
        ("stages", r.stages.as_ref().map(lc)),
        ("startVUs", r.start_vus.as_ref().map(lc)),
        ("gracefulRampDown", r.graceful_ramp_down.as_ref().map(lc)),
        ("rate", r.rate.as_ref().map(lc)),
        ("startRate", r.start_rate.as_ref().map(lc)),
        ("timeUnit", r.time_unit.as_ref().map(lc)),
        ("preAllocatedVUs", r.pre_allocated_vus.as_ref().map(lc)),
    ];
    let mut bad = false;
    let extra = [
        ("maxVUs", r.max_vus.as_ref().map(lc)),
        ("when_busy", r.when_busy.as_ref().map(lc)),
    ];
    for (opt, at) in present.iter().chain(extra.iter()) {
        if let Some(at) = at {
            if !allowed.contains(opt) {
                cx.err_at(
                    *at,
                    format!(
                        "option `{opt}` does not apply to executor {ex} (its options: {}, plus {})",
                        allowed.join(", "),
                        throng_engine::COMMON_OPTIONS.join(", ")
                    ),
                );
                bad = true;
            }
        }
    }
    let at_exec = lc(&r.executor);
    let positive =
        |cx: &mut Cx<'_>, v: &Option<S<u64>>, what: &str, default: Option<u64>| -> Option<u64> {
            match v {
                Some(v) if v.value == 0 => {
                    cx.err(v, format!("{what} must be at least 1"));
                    None
                }
                Some(v) => match check_vus(what, v.value, cx.open_files) {
                    Ok(()) => Some(v.value),
                    Err(e) => {
                        cx.err(v, e);
                        None
                    }
                },
                None => {
                    if default.is_none() {
                        cx.err_at(at_exec, format!("executor {ex} needs `{what}`"));
                    }
                    default
                }
            }
        };
    let required_dur = |cx: &mut Cx<'_>, v: &Option<S<String>>, what: &str| -> Option<Duration> {
        match v {
            Some(s) => {
                let d = cx.dur(s, what)?;
                if d.is_zero() {
                    cx.err(s, format!("{what} must be longer than 0s"));
                    return None;
                }
                Some(d)
            }
            None => {
                cx.err_at(
                    at_exec,
                    format!("executor {ex} needs `{what}` (e.g. `30s`)"),
                );
                None
            }
        }
    };
    let out = match ex {
        "shared-iterations" | "per-vu-iterations" => {
            let vus = positive(cx, &r.vus, "vus", Some(1));
            let iterations = positive(cx, &r.iterations, "iterations", Some(1));
            let max_duration = cx.opt_dur(&r.max_duration, "maxDuration", Duration::from_secs(600));
            let (vus, iterations) = (vus?, iterations?);
            if ex == "shared-iterations" {
                if iterations < vus {
                    if let Some(v) = &r.vus {
                        cx.err(
                            v,
                            format!("shared-iterations: {vus} vus is more than the {iterations} iterations to share"),
                        );
                    }
                }
                Executor::SharedIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            } else {
                Executor::PerVuIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            }
        }
        "constant-vus" => {
            let vus = positive(cx, &r.vus, "vus", Some(1));
            let duration = required_dur(cx, &r.duration, "duration");
            Executor::ConstantVus {
                vus: vus?,
                duration: duration?,
            }
        }
        "ramping-vus" => {
            let open_files = cx.open_files;
            let stages = compile_stages(cx, &r.stages, at_exec, ex, &|t| {
                check_vus("stage target", t.ceil() as u64, open_files)
            });
            let start_vus = r.start_vus.as_ref().map(|v| v.value).unwrap_or(1);
            if let Some(v) = &r.start_vus {
                if let Err(e) = check_vus("startVUs", v.value, cx.open_files) {
                    cx.err(v, e);
                }
            }
            let graceful_ramp_down = cx.opt_dur(
                &r.graceful_ramp_down,
                "gracefulRampDown",
                Duration::from_secs(30),
            );
            Executor::RampingVus {
                start_vus,
                stages: stages?,
                graceful_ramp_down,
            }
        }
        "constant-arrival-rate" | "ramping-arrival-rate" => {
            let time_unit = cx.opt_dur(&r.time_unit, "timeUnit", Duration::from_secs(1));
            if time_unit.is_zero() {
                if let Some(t) = &r.time_unit {
                    cx.err(t, "timeUnit must be longer than 0s");
                }
            }
            let pre = positive(cx, &r.pre_allocated_vus, "preAllocatedVUs", None);
            let when_busy = match r.when_busy.as_ref().map(|w| w.value.as_str()) {
                None | Some("drop") => WhenBusy::Drop,
                Some("queue") => WhenBusy::Queue,
                Some(other) => {
                    if let Some(w) = &r.when_busy {
                        cx.err(w, format!("when_busy `{other}`: expected drop or queue"));
                    }
                    WhenBusy::Drop
                }
            };
            let max_vus = match (&r.max_vus, pre) {
                (Some(m), Some(p)) if m.value < p => {
                    cx.err(
                        m,
                        format!("maxVUs ({}) is below preAllocatedVUs ({p})", m.value),
                    );
                    None
                }
                (Some(m), _) => match check_vus("maxVUs", m.value, cx.open_files) {
                    Ok(()) => Some(m.value),
                    Err(e) => {
                        cx.err(m, e);
                        None
                    }
                },
                (None, p) => p,
            };
            let unit_s = time_unit.as_secs_f64();
            if ex == "constant-arrival-rate" {
                let rate = match &r.rate {
                    Some(v) if v.value > 0.0 && v.value.is_finite() => {
                        match check_rate("rate", v.value, unit_s) {
                            Ok(()) => Some(v.value),
                            Err(e) => {
                                cx.err(v, e);
                                None
                            }
                        }
                    }
                    Some(v) => {
                        cx.err(v, "rate must be a number above 0");
                        None
                    }
                    None => {
                        cx.err_at(at_exec, "executor constant-arrival-rate needs `rate`");
                        None
                    }
                };
                let duration = required_dur(cx, &r.duration, "duration");
                Executor::ConstantArrivalRate {
                    rate: rate?,
                    time_unit,
                    duration: duration?,
                    pre_allocated_vus: pre?,
                    max_vus: max_vus?,
                    when_busy,
                }
            } else {
                let stages = compile_stages(cx, &r.stages, at_exec, ex, &|t| {
                    check_rate("stage target", t, unit_s)
                });
                let start_rate = match &r.start_rate {
                    Some(v) if v.value < 0.0 || !v.value.is_finite() => {
                        cx.err(v, "startRate must be 0 or more");
                        0.0
                    }
                    Some(v) => match check_rate("startRate", v.value, unit_s) {
                        Ok(()) => v.value,
                        Err(e) => {
                            cx.err(v, e);
                            0.0
                        }
                    },
                    None => 0.0,
                };
                Executor::RampingArrivalRate {
                    start_rate,
                    time_unit,
                    stages: stages?,
                    pre_allocated_vus: pre?,
                    max_vus: max_vus?,
                    when_busy,
                }
            }
        }
        _ => return None,
    };
    (!bad).then_some(out)
}

fn compile_stages(
    cx: &mut Cx<'_>,
    stages: &Option<S<Vec<RawStage>>>,
    at_exec: (usize, usize),
    ex: &str,
    check_target: &dyn Fn(f64) -> Result<(), String>,
) -> Option<Vec<Stage>> {
    let Some(st) = stages else {
        cx.err_at(
            at_exec,
            format!("executor {ex} needs `stages` (e.g. `[{{duration: 30s, target: 10}}]`)"),
        );
        return None;
    };
    if st.value.is_empty() {
        cx.err(
            st,
            "stages is empty: expected at least one `{duration, target}`",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for s in &st.value {
        let d = cx.dur(&s.duration, "stage duration");
        if s.target.value < 0.0 || !s.target.value.is_finite() {
            cx.err(&s.target, "stage target must be 0 or more");
            ok = false;
        } else if let Err(e) = check_target(s.target.value) {
            cx.err(&s.target, e);
            ok = false;
        }
        match d {
            Some(d) => out.push(Stage {
                duration: d,
                target: s.target.value,
            }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

const METHOD_KEYS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

fn compile_steps(
    cx: &mut Cx<'_>,
    steps: &[S<RawStep>],
    vars: &[String],
    http: &HttpOptions,
    group: &str,
    has_base_url: bool,
) -> Vec<Step> {
    let mut out = Vec::new();
    for s in steps {
        if let Some(step) = compile_step(cx, s, vars, http, group, has_base_url) {
            out.push(step);
        }
    }
    out
}

fn compile_step(
    cx: &mut Cx<'_>,
    s: &S<RawStep>,
    vars: &[String],
    http: &HttpOptions,
    group: &str,
    has_base_url: bool,
) -> Option<Step> {
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
        let path = format!("{group}::{}", g.value);
        let steps = compile_steps(cx, &flow.value, vars, http, &path, has_base_url);
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
    if url_s.value.starts_with('/') && !has_base_url {
        cx.err(
            url_s,
            format!(
                "`{}` is a path but the plan has no base_url: add `base_url: http://host:port` or use a full URL",
                url_s.value
            ),
        );
    } else if !url_s.value.starts_with('/')
        && !url_s.value.starts_with("http://")
        && !url_s.value.starts_with("https://")
        && !url_s.value.starts_with("{{")
    {
        cx.err(
            url_s,
            format!(
                "`{}` is not a URL: expected a path starting with `/` or a full http(s):// URL",
                url_s.value
            ),
        );
    }
    if literal(&url_s.value)
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        cx.err(
            url_s,
            format!(
                "the URL `{}` contains a space or a control character: percent-encode it (a space is %20)",
                url_s.value.escape_default()
            ),
        );
    }
    let url = cx.tpl(url_s, vars);
    let name = r
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| url_s.value.clone());
    let query = r
        .query
        .iter()
        .map(|(k, v)| (k.clone(), cx.tpl(v, vars)))
        .collect();
    let mut headers: Vec<(String, Template)> = http
        .headers
        .iter()
        .filter(|(k, _)| !r.headers.keys().any(|h| h.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    for (k, v) in &r.headers {
        check_header(cx, k, v);
        headers.push((k.clone(), cx.tpl(v, vars)));
    }
    let bodies = [r.body.is_some(), r.json.is_some(), r.form.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if bodies > 1 {
        cx.err(s, "use only one of body, json and form");
    }
    let (body, content_type) = if let Some(b) = &r.body {
        (Some(Body::Text(cx.tpl(b, vars))), None)
    } else if let Some(j) = &r.json {
        (
            Some(Body::Text(cx.json_tpl(j, vars))),
            Some("application/json"),
        )
    } else if let Some(f) = &r.form {
        let fields = f
            .value
            .iter()
            .map(|(k, v)| (k.clone(), cx.tpl(v, vars)))
            .collect();
        (
            Some(Body::Form(fields)),
            Some("application/x-www-form-urlencoded"),
        )
    } else {
        (None, None)
    };
    let timeout = r.timeout.as_ref().and_then(|t| cx.dur(t, "timeout"));
    let checks = r
        .check
        .as_ref()
        .map(|c| compile_checks(cx, c))
        .unwrap_or_default();
    let mut extract = Vec::new();
    for (var, e) in &r.extract {
        let var_i = vars.iter().position(|v| v == var).unwrap_or(0);
        if let Some(from) = compile_extract(cx, var, e) {
            extract.push(Extract { var: var_i, from });
        }
    }
    let needs_body = checks.iter().any(|c| {
        matches!(
            c.kind,
            CheckKind::BodyContains(_) | CheckKind::BodyMatches(_) | CheckKind::Json { .. }
        )
    }) || extract
        .iter()
        .any(|e| matches!(e.from, ExtractFrom::Json(_) | ExtractFrom::Regex(_)));
    Some(Step::Request(Box::new(Request {
        method,
        url,
        name,
        query,
        headers,
        body,
        content_type,
        timeout,
        tags: r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        checks,
        extract,
        needs_body,
        group: group.to_string(),
    })))
}

/// The text of a template outside its `{{ ... }}` expressions.
fn literal(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        rest = match rest[open..].find("}}") {
            Some(close) => &rest[open + close + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// A header name must be an HTTP token and its value must not hold CR, LF or other control
/// characters (they would split the request, so the client would drop the header).
fn check_header(cx: &mut Cx<'_>, name: &str, value: &S<String>) {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        cx.err(
            value,
            format!(
                "`{}` is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                name.escape_default()
            ),
        );
    }
    if literal(&value.value)
        .chars()
        .any(|c| c.is_control() && c != '\t')
    {
        cx.err(
            value,
            format!(
                "header `{}`: the value must not contain CR, LF or other control characters",
                name.escape_default()
            ),
        );
    }
}

fn json_path(cx: &mut Cx<'_>, at: (usize, usize), p: &str) -> Option<JsonPath> {
    match JsonPath::parse(p) {
        Ok(jp) => Some(jp),
        Err(e) => {
            cx.err_at(
                at,
                format!("`{p}` is not a JSON path (expected e.g. `$.items[0].id`): {e}"),
            );
            None
        }
    }
}

fn compile_checks(cx: &mut Cx<'_>, c: &S<RawCheck>) -> Vec<Check> {
    let r = &c.value;
    let mut out = Vec::new();
    if let Some(st) = &r.status {
        let codes: Option<Vec<u16>> = match &st.value {
            Json::Number(n) => n.as_u64().map(|v| vec![v as u16]),
            Json::Array(a) => a.iter().map(|v| v.as_u64().map(|v| v as u16)).collect(),
            _ => None,
        };
        match codes {
            Some(codes) if !codes.is_empty() && codes.iter().all(|c| (100..=599).contains(c)) => {
                let name = if codes.len() == 1 {
                    format!("status is {}", codes[0])
                } else {
                    format!(
                        "status in [{}]",
                        codes
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(Check {
                    name,
                    kind: CheckKind::Status(codes),
                });
            }
            _ => cx.err(
                st,
                "check status: expected a status code (100-599) or a list of them",
            ),
        }
    }
    if let Some(d) = &r.duration {
        let t = d.value.trim();
        let (op, rest) = if let Some(x) = t.strip_prefix("<=") {
            (CmpOp::Le, x)
        } else if let Some(x) = t.strip_prefix(">=") {
            (CmpOp::Ge, x)
        } else if let Some(x) = t.strip_prefix('<') {
            (CmpOp::Lt, x)
        } else if let Some(x) = t.strip_prefix('>') {
            (CmpOp::Gt, x)
        } else {
            cx.err(d, "check duration: expected a comparison like `<500ms`");
            (CmpOp::Lt, "")
        };
        if !rest.is_empty() {
            match parse_duration(rest) {
                Ok(v) => out.push(Check {
                    name: format!("duration {}", t.replace(' ', "")),
                    kind: CheckKind::Duration(op, v.as_secs_f64() * 1000.0),
                }),
                Err(e) => cx.err(d, format!("check duration: {e}")),
            }
        }
    }
    if let Some(b) = &r.body_contains {
        out.push(Check {
            name: format!("body contains {}", b.value),
            kind: CheckKind::BodyContains(b.value.clone()),
        });
    }
    if let Some(b) = &r.body_matches {
        match regex::Regex::new(&b.value) {
            Ok(re) => out.push(Check {
                name: format!("body matches {}", b.value),
                kind: CheckKind::BodyMatches(re),
            }),
            Err(e) => cx.err(
                b,
                format!(
                    "body_matches: invalid regex: {}",
                    e.to_string().replace('\n', " ")
                ),
            ),
        }
    }
    for (path, expected) in &r.json {
        if let Some(jp) = json_path(cx, lc(expected), path) {
            let shown = match &expected.value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = if shown == "*" {
                format!("{path} exists")
            } else {
                format!("{path} == {shown}")
            };
            out.push(Check {
                name,
                kind: CheckKind::Json {
                    path: jp,
                    expected: expected.value.clone(),
                },
            });
        }
    }
    for (name, expected) in &r.header {
        let check_name = if expected.value == "*" {
            format!("header {name} present")
        } else {
            format!("header {name} contains {}", expected.value)
        };
        out.push(Check {
            name: check_name,
            kind: CheckKind::Header {
                name: name.clone(),
                expected: expected.value.clone(),
            },
        });
    }
    if out.is_empty() && cx.errors.is_empty() {
        cx.err(
            c,
            "check is empty: expected status, duration, body_contains, body_matches, json or header",
        );
    }
    out
}

fn compile_extract(cx: &mut Cx<'_>, var: &str, e: &S<RawExtract>) -> Option<ExtractFrom> {
    let r = &e.value;
    let n = [&r.header, &r.json, &r.regex, &r.cookie]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if n != 1 {
        cx.err(
            e,
            format!("extract `{var}`: expected exactly one of header, json, regex or cookie"),
        );
        return None;
    }
    if let Some(h) = &r.header {
        return Some(ExtractFrom::Header(h.value.clone()));
    }
    if let Some(j) = &r.json {
        return json_path(cx, lc(j), &j.value).map(ExtractFrom::Json);
    }
    if let Some(re) = &r.regex {
        return match regex::Regex::new(&re.value) {
            Ok(x) => Some(ExtractFrom::Regex(x)),
            Err(err) => {
                cx.err(
                    re,
                    format!(
                        "extract `{var}`: invalid regex: {}",
                        err.to_string().replace('\n', " ")
                    ),
                );
                None
            }
        };
    }
    r.cookie
        .as_ref()
        .map(|c| ExtractFrom::Cookie(c.value.clone()))
}

fn compile_thresholds(cx: &mut Cx<'_>, raw: &BTreeMap<String, S<Vec<S<Json>>>>) -> ThresholdSet {
    let mut set = ThresholdSet::default();
    for (key, list) in raw {
        let key_at = cx.src.find_from(1, 1, key.as_str());
        let key_at = if key_at == (1, 1) { lc(list) } else { key_at };
        let (metric, filter) = match parse_key(key) {
            Ok(k) => k,
            Err(e) => {
                cx.err_at(key_at, e.to_string());
                continue;
            }
        };
        let Some((kind, _)) = Builtin::lookup(&metric) else {
            cx.err_at(
                key_at,
                format!(
                    "unknown metric `{metric}` in thresholds: expected a built-in metric such as http_req_duration, http_req_failed, http_reqs, checks, iteration_duration, iterations, dropped_iterations, data_sent, data_received, vus, group_duration or http_req_waiting"
                ),
            );
            continue;
        };
        for item in &list.value {
            let (src, abort, delay) = match &item.value {
                Json::String(s) => (s.clone(), false, Duration::ZERO),
                Json::Object(o) => {
                    let mut ok = true;
                    for k in o.keys() {
                        if !["threshold", "abortOnFail", "delayAbortEval"].contains(&k.as_str()) {
                            cx.err(item, format!("unknown threshold option `{k}`: expected threshold, abortOnFail, delayAbortEval"));
                            ok = false;
                        }
                    }
                    let Some(t) = o.get("threshold").and_then(|t| t.as_str()) else {
                        cx.err(
                            item,
                            "expected `threshold: \"<expression>\"` in the threshold object",
                        );
                        continue;
                    };
                    let abort = match o.get("abortOnFail") {
                        None => false,
                        Some(Json::Bool(b)) => *b,
                        Some(_) => {
                            cx.err(item, "abortOnFail: expected true or false");
                            false
                        }
                    };
                    let delay = match o.get("delayAbortEval") {
                        None => Duration::ZERO,
                        Some(Json::String(d)) => match parse_duration(d) {
                            Ok(d) => d,
                            Err(e) => {
                                cx.err(item, format!("delayAbortEval: {e}"));
                                Duration::ZERO
                            }
                        },
                        Some(_) => {
                            cx.err(item, "delayAbortEval: expected a duration like `10s`");
                            Duration::ZERO
                        }
                    };
                    if !ok {
                        continue;
                    }
                    (t.to_string(), abort, delay)
                }
                _ => {
                    cx.err(item, "expected a threshold expression like \"p(95)<500\" or {threshold: ..., abortOnFail: true}");
                    continue;
                }
            };
            let at = cx.src.find_from(
                item.referenced.line() as usize,
                item.referenced.column() as usize,
                &src,
            );
            match Expr::parse(&src) {
                Ok(expr) => {
                    if let Err(valid) = expr.stat.check_kind(kind) {
                        cx.err_at(
                            at,
                            format!(
                                "`{}` does not apply to {} metric `{metric}`: use {valid}",
                                expr.stat.name(),
                                kind.as_str()
                            ),
                        );
                        continue;
                    }
                    set.items.push(Threshold {
                        key: key.clone(),
                        metric: metric.clone(),
                        filter: filter.clone(),
                        expr,
                        abort_on_fail: abort,
                        delay_abort_eval: delay,
                    });
                }
                Err(e) => cx.err_at(at, e.to_string()),
            }
        }
    }
    set
}
