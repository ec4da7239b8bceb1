//! `throng suite suite.yaml --out-dir results/`.
use crate::cli::EnvArgs;
use clap::Args;
use std::path::PathBuf;
use throng_campaign::suite::{load_suite, run_suite, SuiteOptions};
use throng_run::ExitCode;
use tokio_util::sync::CancellationToken;

/// `throng suite`.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// The suite file (`name`, `cooldown`, `stop_on_failure`, `steps`).
    pub suite: PathBuf,
    /// Where each step's reports and the combined index.html and report.md go.
    #[arg(long, default_value = "throng-suite")]
    pub out_dir: PathBuf,
    /// Use this base_url for every plan instead of theirs.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub env: EnvArgs,
}

/// Runs a suite: exit 0, 99 when a step failed, 104 for a bad suite, 105 on Ctrl-C.
pub async fn run(args: SuiteArgs) -> i32 {
    let env = match crate::env::collect(&args.env) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let opts = SuiteOptions {
        env,
        open_file_limit: crate::env::open_file_limit(),
        seed: args.env.seed,
        base_url: args.base_url.clone(),
    };
    let suite = match load_suite(&args.suite, &opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let interrupt = CancellationToken::new();
    crate::signals::install(interrupt.clone());
    let total = suite.steps.len();
    let mut n = 0;
    let report = run_suite(&suite, &args.out_dir, interrupt, &mut |s| {
        n += 1;
        eprintln!(
            "step {n}/{total} {}: {:?} — {}",
            s.label, s.verdict, s.figures
        );
    })
    .await;
    print!("{}", report.text());
    let errs = report.write(&args.out_dir);
    for e in &errs {
        eprintln!("error: {e}");
    }
    eprintln!(
        "combined report: {}",
        args.out_dir.join("index.html").display()
    );
    if errs.is_empty() {
        report.exit_code()
    } else {
        ExitCode::RuntimeError.code()
    }
}
