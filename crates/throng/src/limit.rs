//! `throng find-limit`: flags → a [`LimitSpec`] → [`throng_campaign::limit::find_limit`],
//! then the answer on stdout and the results JSON, Markdown and HTML files.
use crate::cli::EnvArgs;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;
use throng_campaign::limit::matrix::{criteria_or_default, run_matrix, Axis};
use throng_campaign::limit::{find_limit, Criterion, LimitRun, LimitSpec, LoadModel, Shape, Step};
use throng_metrics::duration::parse_duration;
use throng_plan::{load_file, load_str, LoadOptions, Plan};
use throng_report::limit::LimitReport;
use throng_run::ExitCode;
use tokio_util::sync::CancellationToken;

/// `throng find-limit plan.yaml --scenario S --from 50 --to 5000 ...` or
/// `throng find-limit --quick -q 50:5000 URL`.
#[derive(Args, Debug)]
pub struct FindLimitArgs {
    /// The plan file (with `--quick`: the URL to GET).
    pub target: String,
    /// A one-liner: GET the URL given instead of a plan (with `-q FROM:TO`).
    #[arg(long)]
    pub quick: bool,
    /// The range as `FROM:TO` (instead of `--from` and `--to`).
    #[arg(short = 'q', long = "range", value_name = "FROM:TO")]
    pub range: Option<String>,
    /// The scenario to drive (may be left out when the plan has one).
    #[arg(long)]
    pub scenario: Option<String>,
    /// The first level (iterations a second, or VUs with `--vus`).
    #[arg(long)]
    pub from: Option<f64>,
    /// The highest level.
    #[arg(long)]
    pub to: Option<f64>,
    /// How levels grow: `x2` (times) or `+100` (plus).
    #[arg(long, default_value = "x2", value_parser = parse_step)]
    pub step: Step,
    /// How long each level runs.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub hold: Duration,
    /// A criterion every level must meet (repeatable): `p(95)<500`, `rate<0.01`,
    /// `checks rate>0.99`. Without any, and without plan thresholds: `p(95)<500` and
    /// `rate<0.01`.
    #[arg(long, value_name = "EXPR")]
    pub until: Vec<Criterion>,
    /// Bisect between the last good and the first bad level this many times.
    #[arg(long, default_value_t = 0)]
    pub refine: u32,
    /// Pause between levels.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub cooldown: Duration,
    /// After the breaking level, drop to half the max sustainable load and measure how long
    /// until a second meets the criteria again.
    #[arg(long)]
    pub recovery: bool,
    /// How long to watch the recovery.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub recovery_max: Duration,
    /// Levels are VU counts (constant-vus) instead of arrival rates.
    #[arg(long)]
    pub vus: bool,
    /// Most VUs an arrival-rate level may use (default: enough for 10 s of latency).
    #[arg(long)]
    pub max_vus: Option<u64>,
    /// Run every combination of two scenarios' rates instead of a search and print the
    /// pass/fail grid: `--matrix api=50,100,200 events=100,500,1000`.
    #[arg(long, value_name = "SCENARIO=L1,L2,...", num_args = 1..)]
    pub matrix: Vec<Axis>,
    /// Use this base_url instead of the plan's.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Write the search's results JSON (a phase and HDR histogram per level).
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Write the Markdown document ("Breaking point", "Degradation by load level").
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Write the HTML report ("Load vs latency" chart).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `--matrix`: the grid on stdout, the cells in `--results`; exit 0 when the lowest
/// combination passed, 99 when it failed.
async fn matrix(args: &FindLimitArgs, plan: &Plan) -> i32 {
    let until = criteria_or_default(&args.until, plan);
    let shape = Shape {
        model: if args.vus {
            LoadModel::Vus
        } else {
            LoadModel::ArrivalRate
        },
        max_vus: args.max_vus,
        until: &until,
        hold: args.hold,
    };
    let interrupt = CancellationToken::new();
    crate::signals::install(interrupt.clone());
    let out = run_matrix(
        plan,
        &args.target,
        &args.matrix,
        shape,
        interrupt,
        &mut |c| {
            eprintln!(
                "{:?}: {}",
                c.loads,
                if c.ok {
                    "ok".to_string()
                } else {
                    c.failed.join("; ")
                }
            )
        },
    )
    .await;
    let report = match out {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    print!("{}", report.text());
    if let Some(p) = &args.results {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = throng_report::write_file(p, json.as_bytes()) {
            eprintln!("error: {e}");
            return ExitCode::RuntimeError.code();
        }
    }
    if report.interrupted {
        ExitCode::Interrupted.code()
    } else if report.any_ok() {
        0
    } else {
        ExitCode::ThresholdsFailed.code()
    }
}

fn parse_step(s: &str) -> Result<Step, String> {
    s.parse()
}

/// The plan of `--quick URL`: one scenario GETting the URL.
fn quick_plan(url: &str) -> String {
    let quoted = serde_json::Value::String(url.to_string()).to_string();
    format!(
        "name: find-limit\nscenarios:\n  quick:\n    executor: constant-vus\n    vus: 1\n    duration: 1s\n    flow:\n      - get: {quoted}\n        name: {quoted}\n"
    )
}

fn load(args: &FindLimitArgs) -> Result<Plan, String> {
    let opts = LoadOptions {
        env: crate::env::collect(&args.env)?,
        base_dir: None,
        open_file_limit: crate::env::open_file_limit(),
        seed: args.env.seed,
        // every level replaces the scenario's load: its length is not the plan's
        reshaped: true,
    };
    let mut plan = if args.quick {
        if !throng_metrics::has_http_scheme(&args.target) {
            return Err(format!(
                "--quick `{}`: the URL must start with http:// or https://",
                args.target
            ));
        }
        load_str(&quick_plan(&args.target), Path::new("quick.yaml"), &opts)
    } else {
        load_file(Path::new(&args.target), &opts)
    }
    .map_err(|e| e.to_string())?;
    if let Some(b) = &args.base_url {
        plan.set_base_url(b);
    }
    Ok(plan)
}

fn spec(args: &FindLimitArgs, plan: &Plan) -> Result<LimitSpec, String> {
    let (from, to) = match &args.range {
        Some(r) => {
            let (a, b) = r
                .split_once(':')
                .ok_or_else(|| format!("-q `{r}`: expected FROM:TO, e.g. 50:5000"))?;
            let n = |v: &str| {
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("-q `{r}`: `{v}` is not a number"))
            };
            (n(a)?, n(b)?)
        }
        None => (
            args.from.ok_or("--from (or -q FROM:TO) is required")?,
            args.to.ok_or("--to (or -q FROM:TO) is required")?,
        ),
    };
    let scenario = match &args.scenario {
        Some(s) => s.clone(),
        None if plan.scenarios.len() == 1 => plan.scenarios[0].name.clone(),
        None => {
            let names: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "--scenario is required: the plan has {} scenarios ({})",
                names.len(),
                names.join(", ")
            ));
        }
    };
    let until = criteria_or_default(&args.until, plan);
    Ok(LimitSpec {
        scenario,
        from,
        to,
        step: args.step,
        hold: args.hold,
        until,
        refine: args.refine,
        cooldown: args.cooldown,
        recovery: args.recovery.then_some(args.recovery_max),
        model: if args.vus {
            LoadModel::Vus
        } else {
            LoadModel::ArrivalRate
        },
        max_vus: args.max_vus,
    })
}

/// Writes the report files; the errors, one line each.
pub fn write_files(
    r: &LimitReport,
    results: Option<&Path>,
    md: Option<&Path>,
    html: Option<&Path>,
) -> Vec<String> {
    let json = serde_json::to_string_pretty(r).unwrap_or_default();
    let outs = [(results, json), (md, r.markdown()), (html, r.html())];
    outs.into_iter()
        .filter_map(|(p, text)| {
            p.and_then(|p| throng_report::write_file(p, text.as_bytes()).err())
                .map(|e| e.to_string())
        })
        .collect()
}

/// The exit code of a search: 105 interrupted, 99 when even the first level failed, else 0.
pub fn exit_code(r: &LimitReport) -> i32 {
    if r.interrupted {
        ExitCode::Interrupted.code()
    } else if r.max_sustainable.is_none() {
        ExitCode::ThresholdsFailed.code()
    } else {
        0
    }
}

/// `throng find-limit`.
pub async fn run(args: FindLimitArgs) -> i32 {
    let plan = match load(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    if !args.matrix.is_empty() {
        return matrix(&args, &plan).await;
    }
    let spec = match spec(&args, &plan) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let interrupt = CancellationToken::new();
    crate::signals::install(interrupt.clone());
    let unit = spec.model.unit();
    let out = find_limit(
        LimitRun {
            plan: &plan,
            plan_file: &args.target,
            spec: &spec,
            interrupt,
        },
        &mut |l| {
            eprintln!(
                "level {} {unit}: {} — achieved {:.1} {unit}, p95 {}, errors {}{}",
                l.offered,
                if l.ok { "ok" } else { "FAILED" },
                l.achieved,
                throng_report::format_ms(l.phase.p95),
                throng_report::format_percent(l.phase.error_rate),
                if l.ok {
                    String::new()
                } else {
                    format!(" ({})", l.failed.join("; "))
                }
            )
        },
    )
    .await;
    let report = match out {
        Ok(r) => r,
        Err(e @ throng_campaign::limit::LimitError::Invalid(_)) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    print!("{}", report.text());
    let errs = write_files(
        &report,
        args.results.as_deref(),
        args.md.as_deref(),
        args.html.as_deref(),
    );
    for e in &errs {
        eprintln!("error: {e}");
    }
    if errs.is_empty() {
        exit_code(&report)
    } else {
        ExitCode::RuntimeError.code()
    }
}
