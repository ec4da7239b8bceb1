//! The suite file: raw YAML shapes (spanned, unknown fields refused), then a validated
//! [`Suite`] whose plans are already loaded — every error, the suite's and its plans', is
//! reported with file:line:col before anything runs.
use crate::limit::{Criterion, LimitSpec, LoadModel, Step};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use throng_plan::{load_file, LoadOptions, Plan, PlanError, PlanErrors, Source};

/// A scalar env value (`TARGET_RPS: 800`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Option<String>,
    cooldown: Option<Spanned<String>>,
    #[serde(default)]
    stop_on_failure: bool,
    steps: Spanned<Vec<Spanned<RawStep>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<String>,
    plan: Option<Spanned<String>>,
    env: Option<BTreeMap<String, Scalar>>,
    exec: Option<Spanned<Vec<String>>>,
    find_limit: Option<Spanned<RawFindLimit>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFindLimit {
    plan: Spanned<String>,
    scenario: Option<String>,
    from: Spanned<f64>,
    to: Spanned<f64>,
    step: Option<Spanned<String>>,
    hold: Option<Spanned<String>>,
    until: Option<Vec<Spanned<String>>>,
    refine: Option<u32>,
    recovery: Option<Spanned<String>>,
    vus: Option<bool>,
    max_vus: Option<u64>,
    env: Option<BTreeMap<String, Scalar>>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Run a plan.
    Plan {
        /// The plan file, as written.
        file: String,
        /// The loaded plan.
        plan: Box<Plan>,
    },
    /// Run a command (no shell), from the suite's folder.
    Exec {
        /// Program and arguments.
        argv: Vec<String>,
    },
    /// A breaking-point search.
    FindLimit {
        /// The plan file, as written.
        file: String,
        /// The loaded plan.
        plan: Box<Plan>,
        /// The search.
        spec: Box<LimitSpec>,
    },
}

/// One step.
#[derive(Debug, Clone)]
pub struct SuiteStep {
    /// Its label (`name:`, else the plan file or the command).
    pub label: String,
    /// What it does.
    pub kind: StepKind,
}

/// A validated suite.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Its name.
    pub name: String,
    /// The suite file.
    pub file: PathBuf,
    /// The folder commands run in and plan paths are relative to.
    pub dir: PathBuf,
    /// Pause between steps.
    pub cooldown: Duration,
    /// Skip the remaining steps after a failed one.
    pub stop_on_failure: bool,
    /// The steps, in order.
    pub steps: Vec<SuiteStep>,
}

fn lc<T>(s: &Spanned<T>) -> (usize, usize) {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

/// Options every plan of the suite is loaded with (`-e`, the open-file limit, the seed).
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// Env values for every plan (a step's `env:` adds to them).
    pub env: BTreeMap<String, String>,
    /// The process's open-file limit.
    pub open_file_limit: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// A base_url for every plan (`--base-url`).
    pub base_url: Option<String>,
}

struct Loader<'a> {
    src: &'a Source,
    dir: PathBuf,
    opts: &'a SuiteOptions,
    errors: Vec<PlanError>,
}

impl Loader<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, msg: impl Into<String>) {
        let (l, c) = lc(at);
        self.errors.push(self.src.error_at(l, c, msg));
    }

    fn plan(
        &mut self,
        file: &Spanned<String>,
        env: &Option<BTreeMap<String, Scalar>>,
    ) -> Option<Plan> {
        let mut vars = self.opts.env.clone();
        for (k, v) in env.iter().flatten() {
            vars.insert(k.clone(), v.text());
        }
        let path = self.dir.join(&file.value);
        if !path.is_file() {
            self.err(
                file,
                format!(
                    "plan `{}` not found (looked at {})",
                    file.value,
                    path.display()
                ),
            );
            return None;
        }
        let opts = LoadOptions {
            env: vars,
            base_dir: None,
            open_file_limit: self.opts.open_file_limit,
            seed: self.opts.seed,
            reshaped: false,
        };
        match load_file(&path, &opts) {
            Ok(mut p) => {
                if let Some(b) = &self.opts.base_url {
                    p.set_base_url(b);
                }
                Some(p)
            }
            Err(PlanErrors(es)) => {
                self.errors.extend(es);
                None
            }
        }
    }

    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<Duration> {
        match throng_metrics::duration::parse_duration(&s.value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(s, format!("`{what}`: {e}"));
                None
            }
        }
    }

    fn find_limit(&mut self, f: &Spanned<RawFindLimit>) -> Option<StepKind> {
        let r = &f.value;
        let plan = self.plan(&r.plan, &r.env);
        let step = match &r.step {
            Some(s) => match s.value.parse::<Step>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.err(s, e);
                    None
                }
            },
            None => Some(Step::Times(2.0)),
        };
        let hold = match &r.hold {
            Some(h) => self.duration(h, "hold"),
            None => Some(Duration::from_secs(30)),
        };
        let recovery = match &r.recovery {
            Some(h) => self.duration(h, "recovery").map(Some),
            None => Some(None),
        };
        let mut until = Vec::new();
        for u in r.until.iter().flatten() {
            match u.value.parse::<Criterion>() {
                Ok(c) => until.push(c),
                Err(e) => self.err(u, e.to_string().replacen("--until", "until:", 1)),
            }
        }
        if r.from.value.is_nan() || r.from.value <= 0.0 {
            self.err(&r.from, "`from` must be above 0");
        }
        if r.to.value.is_nan() || r.to.value < r.from.value {
            self.err(&r.to, "`to` must be at least `from`");
        }
        let plan = plan?;
        let until = crate::limit::matrix::criteria_or_default(&until, &plan);
        let scenario = match &r.scenario {
            Some(s) => s.clone(),
            None if plan.scenarios.len() == 1 => plan.scenarios[0].name.clone(),
            None => {
                self.err(f, "`scenario` is required: the plan has several scenarios");
                return None;
            }
        };
        if !plan.scenarios.iter().any(|s| s.name == scenario) {
            self.err(f, format!("the plan has no scenario `{scenario}`"));
            return None;
        }
        Some(StepKind::FindLimit {
            file: r.plan.value.clone(),
            plan: Box::new(plan),
            spec: Box::new(LimitSpec {
                scenario,
                from: r.from.value,
                to: r.to.value,
                step: step?,
                hold: hold?,
                until,
                refine: r.refine.unwrap_or(0),
                cooldown: Duration::ZERO,
                recovery: recovery?,
                model: if r.vus == Some(true) {
                    LoadModel::Vus
                } else {
                    LoadModel::ArrivalRate
                },
                max_vus: r.max_vus,
            }),
        })
    }

    fn step(&mut self, s: &Spanned<RawStep>) -> Option<SuiteStep> {
        let r = &s.value;
        let given = [r.plan.is_some(), r.exec.is_some(), r.find_limit.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if given != 1 {
            self.err(s, "a step is one of `plan:`, `exec:` or `find_limit:`");
            return None;
        }
        if r.env.is_some() && r.plan.is_none() {
            self.err(
                s,
                "`env:` belongs to a `plan:` step (a find_limit step has its own `env:`)",
            );
        }
        let (kind, label) = if let Some(p) = &r.plan {
            let plan = self.plan(p, &r.env)?;
            (
                StepKind::Plan {
                    file: p.value.clone(),
                    plan: Box::new(plan),
                },
                p.value.clone(),
            )
        } else if let Some(e) = &r.exec {
            if e.value.is_empty() || e.value[0].is_empty() {
                self.err(
                    e,
                    "`exec:` needs a program: `exec: [\"./reset-db.sh\", \"--fast\"]`",
                );
                return None;
            }
            (
                StepKind::Exec {
                    argv: e.value.clone(),
                },
                e.value.join(" "),
            )
        } else {
            let f = r.find_limit.as_ref()?;
            let label = format!("find-limit {}", f.value.plan.value);
            (self.find_limit(f)?, label)
        };
        Some(SuiteStep {
            label: r.name.clone().unwrap_or(label),
            kind,
        })
    }
}

/// Reads and validates a suite file, loading its plans; every error with file:line:col.
pub fn load_suite(path: &Path, opts: &SuiteOptions) -> Result<Suite, PlanErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        PlanErrors(vec![PlanError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the suite: {e}"),
            snippet: None,
        }])
    })?;
    let src = Source {
        file: path.to_path_buf(),
        text: text.clone(),
    };
    let raw: RawSuite = serde_saphyr::from_str(&text).map_err(|e| {
        let (l, c) = e
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((0, 0));
        let full = e.without_snippet().to_string();
        let msg = full.lines().next().unwrap_or("invalid YAML").to_string();
        PlanErrors(vec![src.error_at(l, c, msg)])
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut ld = Loader {
        src: &src,
        dir: dir.clone(),
        opts,
        errors: Vec::new(),
    };
    let cooldown = match &raw.cooldown {
        Some(c) => ld.duration(c, "cooldown").unwrap_or_default(),
        None => Duration::ZERO,
    };
    if raw.steps.value.is_empty() {
        ld.err(&raw.steps, "`steps:` is empty");
    }
    let steps: Vec<SuiteStep> = raw.steps.value.iter().filter_map(|s| ld.step(s)).collect();
    if !ld.errors.is_empty() {
        return Err(PlanErrors(ld.errors));
    }
    Ok(Suite {
        name: raw.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or("suite".into())
        }),
        file: path.to_path_buf(),
        dir,
        cooldown,
        stop_on_failure: raw.stop_on_failure,
        steps,
    })
}
