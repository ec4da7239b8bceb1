//! Flags, and the two-stage resolution of raw flags into a validated run request.
use crate::env;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer, ErrorRate, Latency, RateLimit, Stall};
use throng_plan::raw::RawPlan;
use throng_plan::{compile_raw, load_file, load_str, DiskFiles, LoadOptions, Origins, Plan};
use throng_run::{check_url, ExitCode, RunRequest};
use tokio_util::sync::CancellationToken;

/// throng: load testing in one fast binary.
#[derive(Parser, Debug)]
#[command(name = "throng", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a YAML plan.
    Run(Box<RunArgs>),
    /// Check a plan without running it.
    Validate(ValidateArgs),
    /// Convert a k6 script to a YAML plan, best effort: `throng convert script.js > plan.yaml`
    /// (what cannot be converted is listed on stderr).
    Convert(ConvertArgs),
    /// Serve the built-in demo target.
    ServeDemo(ServeDemoArgs),
    /// Start the demo target in-process and run the demo plan against it.
    Demo(DemoArgs),
    /// Load-test one URL from flags (like hey, oha or wrk).
    Quick(Box<crate::quick::QuickArgs>),
    /// Write reports from a saved `--results` file, without rerunning.
    Report(ReportArgs),
    /// Merge the results files of a scaled-out run's instances exactly (`--segment`).
    Merge(crate::merge::MergeArgs),
    /// Kubernetes: `throng k8s render plan.yaml --instances 8 --image throng:VERSION`.
    K8s(crate::k8s::K8sArgs),
    /// Compare results files: per name, scenario and overall, with gates (`--fail-if`).
    Compare(crate::compare::CompareArgs),
    /// Keep a results file as a baseline: `throng baseline save current.json --to b.json`.
    Baseline(crate::compare::BaselineArgs),
    /// Find the breaking point: the max sustainable load of a scenario, where it breaks and
    /// why, the degradation by load level, and the recovery time.
    FindLimit(Box<crate::limit::FindLimitArgs>),
    /// Run plans, commands and breaking-point searches in order; one combined report.
    Suite(crate::suite::SuiteArgs),
    /// Write a commented starter plan (like `k6 new`).
    Init(crate::tools::InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(crate::tools::CompletionsArgs),
    /// Print the man page (roff): `throng man > throng.1`.
    Man,
    /// Print the version and what this build supports.
    Version,
    /// Generate test data (users, tokens, ...) from a spec of templates.
    Fixtures(crate::fixtures::FixturesArgs),
    /// Pause a running throng (`run --address`): VUs finish their iteration and wait.
    Pause(crate::control::ControlArgs),
    /// Resume a paused throng.
    Resume(crate::control::ControlArgs),
    /// Change the VU count of a running throng's externally-controlled scenario.
    Scale(crate::control::ScaleArgs),
    /// Show a running throng's status (paused, VUs, ...).
    Status(crate::control::ControlArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results file written by `--results`.
    pub results_file: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Prints a flag error and gives the exit code: `--help` and `--version` print to stdout and
/// exit 0; every other error is clap's message on one line and exit 104 (not clap's 2), as
/// for any other invalid input.
pub fn clap_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::InvalidPlan.code()
        }
        _ => {
            let sub = std::env::args().nth(1).filter(|a| {
                <Cli as clap::CommandFactory>::command()
                    .get_subcommands()
                    .any(|c| c.get_name() == a)
            });
            eprintln!("{}", one_line(&e.render().to_string(), sub.as_deref()));
            ExitCode::InvalidPlan.code()
        }
    }
}

/// clap's rendered error (`error: ...` and its indented details, a tip, the usage, a
/// pointer to --help) as one line; `sub` is the subcommand given, if any.
fn one_line(rendered: &str, sub: Option<&str>) -> String {
    let mut blocks = rendered
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let mut out = blocks
        .next()
        .unwrap_or("error: invalid arguments")
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    for b in blocks {
        if let Some(tip) = b.strip_prefix("tip: ") {
            out.push_str(&format!(" ({})", tip.lines().next().unwrap_or(tip)));
        }
    }
    match sub {
        Some(c) => format!("{out}; try 'throng {c} --help'"),
        None => format!("{out}; try 'throng --help'"),
    }
}

/// `throng report RESULTS.json --html ...`.
pub fn report(args: ReportArgs) -> i32 {
    let bytes = match std::fs::read(&args.results_file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.results_file.display());
            return ExitCode::RuntimeError.code();
        }
    };
    // any content problem (not JSON, truncated, another version, altered histograms) is 104
    let results = match throng_report::Results::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: {} is not a usable throng results file: {e}",
                args.results_file.display()
            );
            return ExitCode::InvalidPlan.code();
        }
    };
    let mut files = match args.out.files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    files.results = None;
    if let Some(flag) = files.writer_of(&args.results_file) {
        eprintln!(
            "error: {flag} would overwrite the results file {} being read: choose another file",
            args.results_file.display()
        );
        return ExitCode::InvalidPlan.code();
    }
    if files.ndjson.take().is_some() || files.remote_write.take().is_some() {
        eprintln!(
            "error: --out needs the samples of a live run; `throng report` has only the results"
        );
        return ExitCode::InvalidPlan.code();
    }
    let errs = throng_run::write_reports(&results, &files);
    for e in &errs {
        eprintln!("error: {e}");
    }
    if errs.is_empty() {
        if !args.out.no_summary {
            print!("{}", throng_report::render_summary(&results, false));
        }
        0
    } else {
        ExitCode::RuntimeError.code()
    }
}

/// Progress flags shared by `run`, `quick` and `demo`.
#[derive(Args, Debug, Clone, Default)]
pub struct ProgressArgs {
    /// No progress output.
    #[arg(long, env = "THRONG_QUIET", value_parser = clap::builder::FalseyValueParser::new())]
    pub quiet: bool,
    /// Seconds between plain status lines when stderr is not a terminal.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, hide = true)]
    pub progress_interval: f64,
    /// Serve the live web dashboard (default address 127.0.0.1:5665; also THRONG_DASHBOARD=true).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:5665")]
    pub dashboard: Option<SocketAddr>,
    /// Keep the dashboard up after the run (until Ctrl-C) to look at the final state.
    #[arg(long, env = "THRONG_DASHBOARD_LINGER", value_parser = clap::builder::FalseyValueParser::new())]
    pub dashboard_linger: bool,
    /// Serve throng's metrics for Prometheus to scrape at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", env = "THRONG_PROMETHEUS")]
    pub prometheus: Option<SocketAddr>,
    /// Serve the control API for `throng pause|resume|scale|status` (k6's REST API; default
    /// address 127.0.0.1:6565). Off unless given.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = throng_live::control::DEFAULT_ADDRESS)]
    pub address: Option<SocketAddr>,
}

impl OutputArgs {
    /// The files these flags ask for.
    pub fn files(&self) -> Result<throng_run::ReportFiles, throng_run::OutError> {
        let mut files = throng_run::ReportFiles {
            summary_export: self.summary_export.clone(),
            summary_json: self.summary_json.clone(),
            csv_full_history: self.csv_full_history,
            results: self.results.clone(),
            html: self.html.clone(),
            markdown: self.md.clone(),
            csv: self.csv.clone(),
            junit: self.junit.clone(),
            ..Default::default()
        };
        for o in &self.out {
            files.add_out(o)?;
        }
        files.set_metric_compat(&self.metric_compat)?;
        files.check_paths()?;
        Ok(files)
    }
}

impl ProgressArgs {
    fn sink(&self) -> Option<Box<dyn throng_live::LiveSink>> {
        use throng_live::progress::{Progress, ProgressMode};
        if self.quiet {
            return None;
        }
        let mode = if std::io::stderr().is_terminal() {
            ProgressMode::Bars
        } else {
            ProgressMode::Plain {
                every: Duration::from_secs_f64(self.progress_interval.max(0.1)),
            }
        };
        Some(Box::new(Progress::stderr(mode)))
    }
}

/// `-e` and `--env-file`.
#[derive(Args, Debug, Clone, Default)]
pub struct EnvArgs {
    /// Set a template env value (`-e NAME=value`; `-e NAME` copies it from the environment).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Read env values from a file of NAME=VALUE lines.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Seed for random template values (`random_*`, `uuid`, `fake.*`) and generated data:
    /// the same seed repeats them, each VU drawing from its own stream.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Name resolution, as k6's `--dns`: `ttl=5m,select=random,policy=preferIPv4` (the
    /// defaults); ttl `inf` or `0`, select first|random|roundRobin, policy
    /// preferIPv4|preferIPv6|onlyIPv4|onlyIPv6|any. Wins over the plan's `defaults: dns`.
    #[arg(long, value_name = "OPTIONS", env = "THRONG_DNS")]
    pub dns: Option<String>,
}

/// How much `--http-debug` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpDebugArg {
    /// Request and response lines and headers.
    Headers,
    /// Headers and bodies.
    Full,
}

/// `run`'s load overrides: they reshape the plan's scenarios (`throng_plan::overrides`).
#[derive(Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Run every scenario with N VUs (or N pre-allocated VUs for arrival-rate executors).
    #[arg(long, value_name = "N")]
    pub vus: Option<u64>,
    /// Run every scenario for this long (ramps keep their proportions).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Every scenario becomes shared-iterations of N iterations.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Every scenario runs R iterations a second (an arrival rate).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Run only this scenario (repeatable).
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Reshape every scenario: smoke, load, stress, spike, soak or one of the plan's `profiles:`.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Multiply every duration of the load by F (stages, durations, startTime, gracefulStop,
    /// timeline offsets): `--stages-scale 0.01` runs a 20-minute script in 12 s.
    #[arg(long, value_name = "F")]
    pub stages_scale: Option<f64>,
    /// The stats the summary and k6's JSON summaries show of each trend, as k6's flag:
    /// `avg,min,med,max,p(90),p(95)` by default; any `p(N)` and `count` too.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub summary_trend_stats: Option<Vec<String>>,
}

impl LoadArgs {
    /// The overrides these flags ask for.
    pub fn overrides(&self) -> Result<throng_plan::Overrides, String> {
        let duration = match &self.duration {
            Some(d) => {
                Some(throng_plan::parse_duration(d).map_err(|e| format!("--duration `{d}`: {e}"))?)
            }
            None => None,
        };
        Ok(throng_plan::Overrides {
            vus: self.vus,
            duration,
            iterations: self.iterations,
            rate: self.rate,
            scenarios: self.scenarios.clone(),
            profile: self.profile.clone(),
            stages_scale: self.stages_scale,
            summary_trend_stats: self.summary_trend_stats.clone(),
        })
    }
}

/// Output flags shared by `run` and `demo`.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Compare the run with this results file (`throng baseline save`) and judge the
    /// `--fail-if` gates: a failed gate makes the run exit 99.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub gates: crate::compare::GateArgs,
    /// Write k6's --summary-export JSON here.
    #[arg(long, value_name = "FILE", env = "THRONG_SUMMARY_EXPORT")]
    pub summary_export: Option<PathBuf>,
    /// Write k6 v1's end-of-test summary data here (the `handleSummary` shape:
    /// `jq '.metrics.http_req_duration.values."p(95)"'` works).
    #[arg(long, value_name = "FILE", env = "THRONG_SUMMARY_JSON")]
    pub summary_json: Option<PathBuf>,
    /// Write throng's full results JSON here (`throng report` regenerates every report from it).
    #[arg(long, value_name = "FILE", env = "THRONG_RESULTS")]
    pub results: Option<PathBuf>,
    /// Write the self-contained HTML report here.
    #[arg(long, value_name = "FILE", env = "THRONG_HTML")]
    pub html: Option<PathBuf>,
    /// Write the results document in Markdown here.
    #[arg(long = "md", value_name = "FILE", env = "THRONG_MD")]
    pub md: Option<PathBuf>,
    /// Write Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv,
    /// PREFIX_failures.csv, PREFIX_exceptions.csv.
    #[arg(long, value_name = "PREFIX", env = "THRONG_CSV")]
    pub csv: Option<PathBuf>,
    /// With --csv: a row per request name each second in PREFIX_stats_history.csv too
    /// (Locust's --csv-full-history).
    #[arg(long, requires = "csv", env = "THRONG_CSV_FULL_HISTORY", value_parser = clap::builder::FalseyValueParser::new())]
    pub csv_full_history: bool,
    /// Write JUnit XML (one test case per threshold) here.
    #[arg(long, value_name = "FILE", env = "THRONG_JUNIT")]
    pub junit: Option<PathBuf>,
    /// Outputs: `json=FILE` (k6's NDJSON sample lines), `csv=FILE` (k6's CSV sample rows;
    /// both `FILE.gz` to compress) or `prometheus-rw=URL` (Prometheus remote write 1.0
    /// every 5 s). Repeatable.
    #[arg(long = "out", value_name = "TYPE=TARGET", env = "THRONG_OUT")]
    pub out: Vec<String>,
    /// Metric names for remote write: `k6` (`k6_http_reqs_total`, works with k6's Grafana
    /// dashboards) or `throng` (the default).
    #[arg(
        long,
        value_name = "k6|throng",
        default_value = "throng",
        env = "THRONG_METRIC_COMPAT"
    )]
    pub metric_compat: String,
    /// Print every request and response to stderr as it happens: headers, and with
    /// `=full` the bodies too (secrets redacted), like k6's --http-debug.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "headers", value_name = "full", env = "THRONG_HTTP_DEBUG")]
    pub http_debug: Option<HttpDebugArg>,
    /// Watch the system under test while the load runs: `prometheus=URL` (a /metrics
    /// endpoint), `process=PID` or `process=NAME`, `cgroup=PATH`, `log=FILE` (lines with
    /// `error`), `postgres=URL`, `redis=URL`; `KIND.NAME=...` names it. Series are
    /// `monitor:NAME.SERIES`. Repeatable.
    #[arg(long = "monitor", value_name = "KIND=TARGET")]
    pub monitor: Vec<String>,
    /// Don't evaluate thresholds.
    #[arg(long, env = "THRONG_NO_THRESHOLDS", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_thresholds: bool,
    /// Don't print the end-of-test summary.
    #[arg(long, env = "THRONG_NO_SUMMARY", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_summary: bool,
    /// No colours in the summary.
    #[arg(long, env = "THRONG_NO_COLOR", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_color: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// Use this base_url instead of the plan's.
    #[arg(long, value_name = "URL", env = "THRONG_BASE_URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
    #[command(flatten)]
    pub scale: crate::scale::ScaleArgs,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The plan file.
    pub plan: PathBuf,
    #[command(flatten)]
    pub env: EnvArgs,
    /// The load flags `run` would be given, checked against the plan as `run` applies them.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// `throng convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The k6 script.
    pub script: PathBuf,
    #[command(flatten)]
    pub env: EnvArgs,
}

/// Demo target behaviour flags.
#[derive(Args, Debug, Clone)]
pub struct DemoBehaviour {
    /// Added latency: `20ms` (fixed), `5ms..50ms` (uniform) or `lognormal:20ms,0.5`.
    #[arg(long, value_name = "SPEC")]
    pub latency: Option<Latency>,
    /// Share of API requests answered 500 (0..1).
    #[arg(long, value_name = "RATE", default_value = "0")]
    pub error_rate: ErrorRate,
    /// Hold all responses: `1s/10s` = for 1 s every 10 s.
    #[arg(long, value_name = "HOLD/EVERY")]
    pub stall: Option<Stall>,
    /// Token-bucket limit on ingest: `100/s` or `100/s,burst=20` (429 with Retry-After).
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<RateLimit>,
    /// A known capacity: API requests queue for one server of N/s (`200/s`); with
    /// `recover=3s` it falls over when overloaded and comes back 3 s after the overload.
    #[arg(long, value_name = "N/s[,recover=D]")]
    pub capacity: Option<throng_demo::Capacity>,
    /// The X-API-KEY ingest accepts.
    #[arg(long, default_value = "test-api-key")]
    pub api_key: String,
}

#[derive(Args, Debug)]
pub struct ServeDemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub behaviour: DemoBehaviour,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder for the result files.
    #[arg(long, default_value = "throng-results")]
    pub out_dir: PathBuf,
    /// No colours in the summary.
    #[arg(long)]
    pub no_color: bool,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

fn demo_config(b: &DemoBehaviour) -> DemoConfig {
    DemoConfig {
        api_key: b.api_key.clone(),
        latency: b.latency.unwrap_or_default(),
        error_rate: b.error_rate.0,
        stall: b.stall.map(|s| (s.hold, s.every)),
        rate_limit: b.rate_limit,
        capacity: b.capacity,
        ..DemoConfig::default()
    }
}

/// Where a run's plan comes from.
#[derive(Clone, Copy)]
pub enum PlanInput<'a> {
    /// The file named by `RunArgs::plan`.
    File,
    /// This text (named `RunArgs::plan` in errors).
    Text(&'a str),
    /// A plan built in code; errors name the origins of its values.
    Built(&'a RawPlan, &'a Origins),
}

/// Loads the plan (`input`), with env and base_url overrides.
pub(crate) fn resolve_plan(args: &RunArgs, input: PlanInput<'_>) -> Result<Plan, String> {
    let env = env::collect(&args.env).map_err(|e| format!("error: {e}"))?;
    let overrides = args.load.overrides().map_err(|e| format!("error: {e}"))?;
    let opts = LoadOptions {
        env,
        base_dir: None,
        open_file_limit: env::open_file_limit(),
        seed: args.env.seed,
        reshaped: !overrides.is_empty(),
    };
    let mut plan = match input {
        PlanInput::File => load_file(&args.plan, &opts),
        PlanInput::Text(t) => load_str(t, &args.plan, &opts),
        PlanInput::Built(raw, origins) => compile_raw(raw, origins, &opts, &DiskFiles),
    }
    .map_err(|e| e.to_string())?;
    if let Some(d) = &args.env.dns {
        plan.http.dns = throng_plan::parse_dns(d).map_err(|e| format!("error: --dns: {e}"))?;
    }
    if let Some(b) = &args.base_url {
        if !throng_metrics::has_http_scheme(b) {
            return Err(format!(
                "error: --base-url `{b}` must start with http:// or https://"
            ));
        }
        check_url("--base-url", b).map_err(|e| format!("error: {e}"))?;
        plan.set_base_url(b);
    }
    for m in &args.out.monitor {
        let taken: Vec<String> = plan.monitors.iter().map(|m| m.name.clone()).collect();
        let spec = throng_run::parse_monitor_flag(m, &taken).map_err(|e| format!("error: {e}"))?;
        plan.monitors.push(spec);
    }
    if !overrides.is_empty() {
        throng_plan::apply_overrides(&mut plan, &overrides).map_err(|e| format!("error: {e}"))?;
    }
    Ok(plan)
}

/// `throng run`: returns the exit code.
pub async fn run_plan(args: RunArgs, text: Option<&str>) -> i32 {
    let input = text.map_or(PlanInput::File, PlanInput::Text);
    run_plan_then(args, input, |_| String::new()).await
}

/// Runs a plan; `extra` may append to the summary (quick mode's histogram).
pub async fn run_plan_then(
    args: RunArgs,
    input: PlanInput<'_>,
    extra: impl FnOnce(&throng_report::Results) -> String,
) -> i32 {
    run_plan_host(args, input, extra, None).await
}

/// Runs a plan whose VUs run `host` (a script) when given, else the plan's flows.
pub async fn run_plan_host(
    args: RunArgs,
    input: PlanInput<'_>,
    extra: impl FnOnce(&throng_report::Results) -> String,
    host: Option<std::sync::Arc<dyn throng_run::ScriptHost>>,
) -> i32 {
    let plan = match resolve_plan(&args, input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    if let Some(n) = args.scale.local_segments {
        return crate::local::run(&args, n, &plan_digest(&args, input)).await;
    }
    let mut instance = if args.scale.is_segmented() {
        match args.scale.instance(&plan_digest(&args, input)) {
            Ok(i) => Some(i),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::InvalidPlan.code();
            }
        }
    } else {
        None
    };
    let files = match args.out.files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let interrupt = CancellationToken::new();
    crate::signals::install(interrupt.clone());
    if let Some(inst) = instance.as_mut() {
        if let Err(e) = meet_at_barrier(&args, inst, &interrupt).await {
            eprintln!("error: {e}");
            return if interrupt.is_cancelled() {
                ExitCode::Interrupted.code()
            } else {
                ExitCode::RuntimeError.code()
            };
        }
    }
    let color = !args.out.no_color && std::io::stdout().is_terminal();
    let dash_addr = args.progress.dashboard.or_else(|| {
        std::env::var("THRONG_DASHBOARD")
            .ok()
            .filter(|v| v == "true" || v == "1")
            .map(|_| SocketAddr::from(([127, 0, 0, 1], 5665)))
    });
    let live = throng_run::servers::LiveArgs {
        dashboard: dash_addr,
        prometheus: args.progress.prometheus,
        control: args.progress.address,
    };
    let servers = match throng_run::servers::start(&live, &mut |l| eprintln!("{l}")).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    let control = throng_run::EngineControl::new();
    servers.attach(&control);
    let dashboard = servers.dashboard;
    let req = RunRequest {
        plan,
        plan_file: args.plan.display().to_string(),
        files,
        no_thresholds: args.out.no_thresholds,
        interrupt: interrupt.clone(),
        color,
        live: args.progress.sink(),
        command: Some(redacted_command_line()),
        dashboard: dashboard.clone(),
        prometheus: servers.prometheus,
        http_debug: args.out.http_debug.map(|d| match d {
            HttpDebugArg::Headers => throng_run::HttpDebugMode::Headers,
            HttpDebugArg::Full => throng_run::HttpDebugMode::Full,
        }),
        control: Some(control),
        instance,
    };
    // the control API stays up until the run has ended
    let _control_api = servers.control;
    let mut code = run_and_print(req, &args, extra, host).await;
    if args.scale.thresholds_advisory && code == ExitCode::ThresholdsFailed.code() {
        code = 0;
    }
    if let Some(d) = dashboard {
        if args.progress.dashboard_linger && !interrupt.is_cancelled() {
            eprintln!("dashboard stays up at http://{} — Ctrl-C to exit", d.addr());
            interrupt.cancelled().await;
        }
    }
    code
}

/// Waits at `--barrier-dir` (when given) until every instance is ready, and moves this
/// instance's start to the time the barrier gives (or keeps `--start-at` if later).
async fn meet_at_barrier(
    args: &RunArgs,
    inst: &mut throng_run::Instance,
    interrupt: &CancellationToken,
) -> Result<(), String> {
    let Some(barrier) = args.scale.barrier(&inst.segment)? else {
        return Ok(());
    };
    let at = barrier
        .wait(
            &inst.info.run_id,
            &inst.info.instance_id,
            &inst.info.segment,
            interrupt,
        )
        .await
        .map_err(|e| e.to_string())?;
    let start = inst.start_at.map_or(at, |s| s.max(at));
    inst.start_at = Some(start);
    inst.info.start_at = Some(start.to_string());
    Ok(())
}

/// Identifies the plan and the load flags, so `throng merge` can tell results of the same
/// run from others: the plan's text (or built plan), the load overrides and the base URL.
fn plan_digest(args: &RunArgs, input: PlanInput<'_>) -> String {
    let text = match input {
        PlanInput::File => std::fs::read(&args.plan).unwrap_or_default(),
        PlanInput::Text(t) => t.as_bytes().to_vec(),
        PlanInput::Built(raw, _) => serde_json::to_vec(raw).unwrap_or_default(),
    };
    let mut all = text;
    all.extend(format!("|{:?}|{:?}", args.load, args.base_url).bytes());
    format!("{:016x}", crate::scale::fnv1a(&all))
}

async fn run_and_print(
    req: RunRequest,
    args: &RunArgs,
    extra: impl FnOnce(&throng_report::Results) -> String,
    host: Option<std::sync::Arc<dyn throng_run::ScriptHost>>,
) -> i32 {
    let outcome = match host.clone() {
        Some(h) => throng_run::run_script(req, h).await,
        None => throng_run::run(req).await,
    };
    match outcome {
        Ok(out) => {
            // a script's handleSummary(data) replaces the summary (k6: not with --no-summary)
            let custom = match (&host, args.out.no_summary) {
                (Some(h), false) if h.handles_summary() => Some(
                    h.handle_summary(throng_report::summary_json(&out.results))
                        .await,
                ),
                _ => None,
            };
            match custom {
                Some(Ok(text)) => print!("{text}"),
                Some(Err(e)) => {
                    // as k6: the error, then the default summary; the exit code stays
                    eprintln!("error: handleSummary: {e}");
                    print!("{}", out.summary);
                }
                None if !args.out.no_summary => {
                    print!("{}", out.summary);
                    print!("{}", extra(&out.results));
                }
                None => {}
            }
            for e in &out.write_errors {
                eprintln!("error: {e}");
            }
            let code = if out.write_errors.is_empty() {
                out.exit_code.code()
            } else {
                ExitCode::RuntimeError.code()
            };
            match &args.out.baseline {
                Some(b) => crate::compare::gate_run(b, &args.out.gates.fail_if, &out.results, code),
                None => code,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code().code()
        }
    }
}

/// Hides the value of anything that looks like a secret (`throng_metrics::redact::arg`):
/// `-H 'Authorization: Bearer x'` becomes `-H Authorization:***`, `-e API_TOKEN=x` becomes
/// `-e API_TOKEN=***`, `-H 'Cookie: a=b'` becomes `-H Cookie:***`.
pub fn redact(arg: &str) -> String {
    throng_metrics::redact::arg(arg)
}

fn redacted_command_line() -> String {
    std::env::args()
        .map(|a| {
            let r = redact(&a);
            if r.contains(' ') {
                format!("'{r}'")
            } else {
                r
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `throng serve-demo`.
pub async fn serve_demo(args: ServeDemoArgs) -> i32 {
    let server = match DemoServer::start(args.addr, demo_config(&args.behaviour)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.addr);
            return ExitCode::RuntimeError.code();
        }
    };
    eprintln!("demo target listening on {} (Ctrl-C to stop)", server.url());
    let stop = server.stop_token();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    server.wait().await;
    0
}

/// The demo plan, built into the binary so `throng demo` works from any folder.
pub use throng_demo::DEMO_PLAN;

/// `throng demo`.
pub async fn demo(args: DemoArgs) -> i32 {
    let cfg = DemoConfig {
        latency: Latency::Uniform(Duration::from_millis(2), Duration::from_millis(15)),
        rate_limit: Some(RateLimit {
            per_second: 150.0,
            burst: 30.0,
        }),
        ..DemoConfig::default()
    };
    let server = match DemoServer::start(([127, 0, 0, 1], 0).into(), cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the demo target: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    eprintln!("demo target started at {}", server.url());
    eprintln!("running examples/demo.yaml (about 25 s)...");
    let dir = &args.out_dir;
    let run = RunArgs {
        plan: Path::new("examples/demo.yaml").to_path_buf(),
        base_url: Some(server.url()),
        env: EnvArgs::default(),
        load: LoadArgs::default(),
        out: OutputArgs {
            summary_export: Some(dir.join("summary.json")),
            results: Some(dir.join("results.json")),
            html: Some(dir.join("report.html")),
            md: Some(dir.join("report.md")),
            csv: Some(dir.join("locust")),
            junit: Some(dir.join("junit.xml")),
            no_color: args.no_color,
            ..OutputArgs::default()
        },
        progress: args.progress.clone(),
        scale: crate::scale::ScaleArgs::default(),
    };
    let code = run_plan(run, Some(DEMO_PLAN)).await;
    let served = server.requests();
    server.stop().await;
    println!("\n  demo target counted {served} requests");
    println!(
        "  results written to {}/ (report.html, report.md, summary.json, results.json, locust_*.csv, junit.xml)",
        dir.display()
    );
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact("Authorization: Bearer abc"), "Authorization:***");
        assert_eq!(redact("X-API-KEY: k"), "X-API-KEY:***");
        assert_eq!(redact("API_TOKEN=xyz"), "API_TOKEN=***");
        assert_eq!(redact("--summary-export"), "--summary-export");
        assert_eq!(redact("http://127.0.0.1/x"), "http://127.0.0.1/x");
    }
}
