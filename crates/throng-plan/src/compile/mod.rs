//! Turns the raw plan into a validated [`Plan`], collecting every error it finds: the
//! context ([`Cx`]) every part compiles in, and the order the parts run in.
//!
//! One module per part of a plan: [`data`] sources, [`http`] defaults, [`scenario`]s with
//! their [`executor`] and flow of [`step`]s ([`request`]s with [`check`]s and [`extract`]s),
//! and [`threshold`]s; [`templates`] and [`yaml`] errors are shared by them all. Files beside
//! the plan are reached only through [`files::PlanFiles`], so compiling is parsing text.
mod check;
mod data;
mod executor;
mod extract;
mod files;
mod http;
mod lifecycle;
pub(crate) mod locust;
mod metrics;
mod monitors;
mod options;
mod poll;
mod proto;
mod request;
mod scenario;
mod sources;
mod step;
mod templates;
mod threshold;
mod timeline;
mod unknown_keys;
pub(crate) mod yaml;

pub use files::{DiskFiles, PlanFiles};
pub use metrics::RESPONSE_VARS;

use crate::duration::parse_duration;
use crate::error::{PlanError, PlanErrors, Source};
use crate::model::{CustomMetric, Plan};
use crate::origins::Origins;
use crate::raw::{RawPlan, S};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// `--seed`: random values and generated data repeat with it (see [`crate::seed`]).
    pub seed: Option<u64>,
    /// The load will be reshaped by [`crate::apply_overrides`] before it runs: checks that
    /// depend on the load's length (a timeline action's `at:`) are left to it.
    pub reshaped: bool,
}

/// What every part of the plan compiles in: where errors go and what templates may name.
struct Cx<'a> {
    src: &'a Source,
    errors: Vec<PlanError>,
    env: BTreeMap<String, String>,
    data_scope: Vec<(String, Vec<String>)>,
    /// Data sources that failed to load (already reported once).
    failed_data: Vec<String>,
    open_files: Option<u64>,
    /// The folder relative file names are joined to.
    base_dir: PathBuf,
    /// How files beside the plan are read.
    files: &'a dyn PlanFiles,
    /// Metrics the plan defines (`metrics:`, trends of loops).
    custom_metrics: Vec<CustomMetric>,
    /// The plan's `expected_statuses:` (k6's 200–399 when not given).
    expected: crate::model::StatusSet,
    /// `--seed`, for data sources generated at load.
    seed: Option<u64>,
    /// Signing keys templates use (see `Plan::secrets`).
    secrets: Vec<String>,
    /// `.proto` files compiled so far (each once per plan).
    protos: proto::ProtoCache,
    /// `data_sources:`, compiled before the flows that name them.
    sources: Vec<crate::protocols::Source>,
}

/// Whether `n` is a name: letters, digits and `_`, not starting with a digit.
fn is_ident(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Line and column of a spanned value.
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

    /// Defines a trend metric of times in ms named by `name` (a loop's `trend:`); `None`
    /// (with an error) when the name is not a metric name or is a built-in metric.
    fn define_trend(&mut self, name: &S<String>) -> Option<String> {
        let n = name.value.as_str();
        if !is_ident(n) {
            self.err(
                name,
                format!("trend: `{n}` is not a metric name (letters, digits and _, not starting with a digit)"),
            );
            return None;
        }
        if throng_metrics::Builtin::lookup(n).is_some() {
            self.err(
                name,
                format!("trend: `{n}` is a built-in metric: choose another name"),
            );
            return None;
        }
        if let Some(m) = self.custom_metrics.iter().find(|m| m.name == n) {
            if m.kind != throng_metrics::MetricKind::Trend {
                self.err(
                    name,
                    format!(
                        "trend: `{n}` is declared under `metrics:` as a {}, not a trend",
                        m.kind.as_str()
                    ),
                );
                return None;
            }
        } else {
            self.custom_metrics.push(CustomMetric {
                name: n.to_string(),
                kind: throng_metrics::MetricKind::Trend,
                time: true,
            });
        }
        Some(n.to_string())
    }

    fn opt_dur(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        match s {
            Some(s) => self.dur(s, what).unwrap_or(default),
            None => default,
        }
    }
}

/// Loads and validates a plan from text. `file` is used in error messages and to find
/// data files, which are read from disk ([`DiskFiles`]); see [`load_str_with`].
pub fn load_str(text: &str, file: &Path, opts: &LoadOptions) -> Result<Plan, PlanErrors> {
    load_str_with(text, file, opts, &DiskFiles)
}

/// Loads and validates a plan from text, reading the files it names (data sources, the
/// CA file) through `files`: parsed, then given the same compilation as [`compile_raw`].
pub fn load_str_with(
    text: &str,
    file: &Path,
    opts: &LoadOptions,
    files: &dyn PlanFiles,
) -> Result<Plan, PlanErrors> {
    let src = Source {
        file: file.to_path_buf(),
        text: text.to_string(),
    };
    let raw = parse(&src)?;
    compile(&raw, &src, opts, files)
}

/// Parses plan text into its raw shapes, without validating them.
fn parse(src: &Source) -> Result<RawPlan, PlanErrors> {
    if src.text.trim().is_empty() {
        return Err(PlanErrors(vec![src.error_at(
            1,
            1,
            "the plan is empty: expected a mapping with `scenarios:`",
        )]));
    }
    unknown_keys::parse_all_unknown(src)
}

/// Validates a plan built in code: the same checks as a plan file, with each error naming
/// the origin its value was tagged with (see [`Origins`]) instead of a line and column.
pub fn compile_raw(
    raw: &RawPlan,
    origins: &Origins,
    opts: &LoadOptions,
    files: &dyn PlanFiles,
) -> Result<Plan, PlanErrors> {
    let src = Source {
        file: PathBuf::from(origins.plan()),
        text: String::new(),
    };
    compile(raw, &src, opts, files)
        .map_err(|e| PlanErrors(e.0.into_iter().map(|e| origins.relabel(e)).collect()))
}

/// Compiles `raw`, read from `src`.
fn compile(
    raw: &RawPlan,
    src: &Source,
    opts: &LoadOptions,
    files: &dyn PlanFiles,
) -> Result<Plan, PlanErrors> {
    let file = src.file.as_path();
    let mut env = raw.env.clone();
    env.extend(opts.env.clone());
    let base_dir = opts.base_dir.clone().unwrap_or_else(|| {
        file.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    let mut cx = Cx {
        src,
        errors: Vec::new(),
        env,
        data_scope: Vec::new(),
        failed_data: Vec::new(),
        open_files: opts.open_file_limit,
        base_dir,
        files,
        custom_metrics: Vec::new(),
        expected: crate::model::StatusSet::k6_default(),
        seed: opts.seed,
        secrets: Vec::new(),
        protos: Vec::new(),
        sources: Vec::new(),
    };

    // data sources first: templates resolve their fields
    let data = data::compile_data(&mut cx, &raw.data);
    let http = http::compile_defaults(&mut cx, &raw.defaults);
    metrics::compile_metrics(&mut cx, &raw.metrics);
    if let Some(e) = &raw.expected_statuses {
        if let Some(set) = metrics::compile_statuses(&mut cx, e) {
            cx.expected = set;
        }
    }
    let trend_stats = compile_trend_stats(&mut cx, &raw.summary_trend_stats);
    let base_url = http::compile_base_url(&mut cx, &raw.base_url);
    cx.sources = sources::compile_sources(&mut cx, &raw.data_sources);

    if raw.scenarios.is_empty() {
        cx.err_at(
            (1, 1),
            "the plan has no scenarios: expected `scenarios:` with at least one scenario",
        );
    }
    let has_base_url = base_url.is_some();
    let setup_vars = lifecycle::setup_vars(raw.setup.as_ref());
    let (weighted, locust) = locust::weighted_executors(&mut cx, raw);
    let shared = scenario::Shared {
        http: &http,
        has_base_url,
        setup_vars: &setup_vars,
        vu_init: raw.vu_init.as_ref(),
        weighted: &weighted,
    };
    let mut scenarios = Vec::new();
    for (name, s) in &raw.scenarios {
        if let Some(sc) = scenario::compile_scenario(&mut cx, name, s, &shared) {
            scenarios.push(sc);
        }
    }
    let once = |cx: &mut Cx<'_>, f: &Option<S<Vec<S<crate::raw::RawStep>>>>, what: &str| {
        f.as_ref()
            .and_then(|f| lifecycle::compile_once(cx, f, what, &setup_vars, &http, has_base_url))
    };
    let setup = once(&mut cx, &raw.setup, "setup");
    let teardown = once(&mut cx, &raw.teardown, "teardown");
    let preflight = raw
        .preflight
        .as_ref()
        .and_then(|p| lifecycle::compile_preflight(&mut cx, p, &setup_vars, &http, has_base_url));
    let run_end = (scenarios.len() == raw.scenarios.len() && !opts.reshaped).then(|| {
        scenarios
            .iter()
            .map(|s| s.start_time + s.executor.duration())
            .max()
            .unwrap_or_default()
    });
    let timeline = match &raw.timeline {
        Some(t) => timeline::compile_timeline(
            &mut cx,
            t,
            &timeline::TimelineCx {
                http: &http,
                has_base_url,
                setup_vars: &setup_vars,
                run_end,
            },
        ),
        None => Vec::new(),
    };

    let thresholds = threshold::compile_thresholds(&mut cx, &raw.thresholds);
    let profiles = compile_profiles(&mut cx, raw);
    let monitors = monitors::compile_monitors(&mut cx, &raw.monitors, base_url.as_deref());
    let slos = monitors::compile_slos(&mut cx, &raw.slos);

    if !cx.errors.is_empty() {
        let mut errs = cx.errors;
        errs.sort_by_key(|e| (e.line, e.column));
        errs.dedup();
        // a quoted line may hold a data source's password
        for e in &mut errs {
            for secret in cx.secrets.iter().filter(|s| !s.is_empty()) {
                if let Some(s) = &mut e.snippet {
                    *s = s.replace(secret.as_str(), "***");
                }
            }
        }
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
        preflight,
        setup,
        teardown,
        setup_vars,
        timeline,
        custom_metrics: cx.custom_metrics,
        base_dir: cx.base_dir,
        seed: opts.seed,
        secrets: cx.secrets,
        profiles,
        monitors,
        slos,
        locust,
        sources: cx.sources,
        trend_stats,
    })
}

/// `summary_trend_stats:`: each `avg`, `min`, `med`, `max`, `count` or `p(N)` (0–100).
fn compile_trend_stats(cx: &mut Cx<'_>, raw: &Option<S<Vec<S<String>>>>) -> Vec<String> {
    let Some(list) = raw else {
        return Vec::new();
    };
    if list.value.is_empty() {
        cx.err(
            list,
            "summary_trend_stats: expected at least one stat, e.g. [avg, p(95), p(99.9)]",
        );
    }
    let mut out = Vec::new();
    for s in &list.value {
        if throng_metrics::threshold::Stat::is_trend_stat(&s.value) {
            out.push(s.value.trim().to_string());
        } else {
            cx.err(
                s,
                format!(
                    "summary_trend_stats: `{}` is not a trend stat (expected avg, min, med, max, count or p(N) with N from 0 to 100)",
                    s.value
                ),
            );
        }
    }
    out
}

/// `profiles:`: each a scenario's executor options without a flow.
fn compile_profiles(cx: &mut Cx<'_>, raw: &RawPlan) -> Vec<(String, crate::model::Executor)> {
    let mut out = Vec::new();
    for (name, p) in &raw.profiles {
        if crate::overrides::BUILTIN_PROFILES.contains(&name.as_str()) {
            cx.err(
                p,
                format!("profile `{name}` is built in: give the plan's own profile another name"),
            );
            continue;
        }
        let r = &p.value;
        let stray = [
            r.flow.as_ref().map(lc),
            r.vu_init.as_ref().map(lc),
            r.weight.as_ref().map(lc),
            r.wait.as_ref().map(lc),
            r.wait_constant_throughput.as_ref().map(lc),
            r.start_time.as_ref().map(lc),
            r.graceful_stop.as_ref().map(lc),
        ];
        if let Some(at) = stray.into_iter().flatten().next() {
            cx.err_at(
                at,
                format!("profile `{name}` takes only an executor and its options (the scenarios keep their flows, times and pacing)"),
            );
            continue;
        }
        let Some(e) = &r.executor else {
            cx.err(p, format!("profile `{name}` needs an `executor:`"));
            continue;
        };
        if let Some(ex) = executor::compile_executor(cx, r, e) {
            out.push((name.clone(), ex));
        }
    }
    out
}
