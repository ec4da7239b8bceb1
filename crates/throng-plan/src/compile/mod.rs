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
mod request;
mod scenario;
mod step;
mod templates;
mod threshold;
pub(crate) mod yaml;

pub use files::{DiskFiles, PlanFiles};

use crate::duration::parse_duration;
use crate::error::{PlanError, PlanErrors, Source};
use crate::model::Plan;
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
    /// `--seed`, for data sources generated at load.
    seed: Option<u64>,
    /// Signing keys templates use (see `Plan::secrets`).
    secrets: Vec<String>,
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
/// CA file) through `files`.
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
    let raw: RawPlan = if text.trim().is_empty() {
        return Err(PlanErrors(vec![src.error_at(
            1,
            1,
            "the plan is empty: expected a mapping with `scenarios:`",
        )]));
    } else {
        match serde_saphyr::from_str(text) {
            Ok(r) => r,
            Err(e) => return Err(PlanErrors(vec![yaml::yaml_error(&src, &e)])),
        }
    };
    let mut env = raw.env.clone();
    env.extend(opts.env.clone());
    let base_dir = opts.base_dir.clone().unwrap_or_else(|| {
        file.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    let mut cx = Cx {
        src: &src,
        errors: Vec::new(),
        env,
        data_scope: Vec::new(),
        failed_data: Vec::new(),
        open_files: opts.open_file_limit,
        base_dir,
        files,
        seed: opts.seed,
        secrets: Vec::new(),
    };

    // data sources first: templates resolve their fields
    let data = data::compile_data(&mut cx, &raw.data);
    let http = http::compile_defaults(&mut cx, &raw.defaults);
    let base_url = http::compile_base_url(&mut cx, &raw.base_url);

    if raw.scenarios.is_empty() {
        cx.err_at(
            (1, 1),
            "the plan has no scenarios: expected `scenarios:` with at least one scenario",
        );
    }
    let mut scenarios = Vec::new();
    for (name, s) in &raw.scenarios {
        if let Some(sc) = scenario::compile_scenario(&mut cx, name, s, &http, base_url.is_some()) {
            scenarios.push(sc);
        }
    }

    let thresholds = threshold::compile_thresholds(&mut cx, &raw.thresholds);

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
        seed: opts.seed,
        secrets: cx.secrets,
    })
}
