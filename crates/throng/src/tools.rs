//! The commands around a test: `init` (a commented starter plan, like `k6 new`),
//! `completions` (shell completion scripts), `man` (a man page) and `version`.
use crate::cli::Cli;
use clap::{Args, CommandFactory, ValueEnum};
use std::path::PathBuf;
use throng_run::ExitCode;

/// Starter plans.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Template {
    /// Ramping VUs over a flow with checks and think time.
    Http,
    /// A constant arrival rate (open model) with thresholds on latency and drops.
    Arrival,
    /// Background load, a timeline action and a measured wait.
    Experiment,
}

impl Template {
    fn text(self) -> &'static str {
        match self {
            Template::Http => include_str!("templates/http.yaml"),
            Template::Arrival => include_str!("templates/arrival.yaml"),
            Template::Experiment => include_str!("templates/experiment.yaml"),
        }
    }
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The plan's name: writes NAME.yaml (default: plan.yaml).
    pub name: Option<String>,
    /// Which starter plan.
    #[arg(long, value_enum, default_value = "http")]
    pub template: Template,
    /// Write into this folder.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `throng init`: writes a starter plan, never over an existing file unless `--force`.
pub fn init(args: InitArgs) -> i32 {
    let name = args.name.as_deref().unwrap_or("plan");
    let name = name.strip_suffix(".yaml").unwrap_or(name);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c))
    {
        eprintln!("error: `{name}` is not a plan name: use letters, digits, `-`, `_` and `.`");
        return ExitCode::InvalidPlan.code();
    }
    let path = args.dir.join(format!("{name}.yaml"));
    if path.exists() && !args.force {
        eprintln!(
            "error: {} exists: choose another name or pass --force",
            path.display()
        );
        return ExitCode::InvalidPlan.code();
    }
    let text = args.template.text().replace("NAME", name);
    match throng_report::write_file(&path, text) {
        Ok(()) => {
            println!(
                "wrote {p}: check it with `throng validate {p}`, run it with `throng run {p}`",
                p = path.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::RuntimeError.code()
        }
    }
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `throng completions SHELL`: the completion script on stdout.
pub fn completions(args: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "throng", &mut std::io::stdout());
    0
}

/// `throng man`: the man page (roff) on stdout (`throng man > throng.1`).
pub fn man() -> i32 {
    let page = clap_mangen::Man::new(Cli::command());
    match page.render(&mut std::io::stdout()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            ExitCode::RuntimeError.code()
        }
    }
}

/// `throng version`: the version and what this build speaks and writes.
pub fn version() -> i32 {
    println!("throng {}", env!("CARGO_PKG_VERSION"));
    println!("protocols: HTTP/1.1, HTTP/2 (h2, h2c), TLS 1.2/1.3 (rustls, ring)");
    println!("plans: YAML (k6 executors, thresholds and metric names)");
    println!(
        "outputs: summary, --summary-export, --summary-json, --results, --html, --md, --csv (Locust), --junit, --out json=|csv=|prometheus-rw=, dashboard, Prometheus /metrics"
    );
    println!(
        "built for {}-{}",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    0
}
