//! The throng command line: parses flags into a run request and hands it to throng-run.
mod cli;
mod compare;
mod control;
mod env;
mod fixtures;
mod js;
mod k6env;
mod k8s;
mod limit;
mod local;
mod merge;
mod quick;
mod runtime;
mod scale;
mod signals;
mod suite;
mod tools;

use clap::Parser;
use cli::{Cli, Command};
use throng_run::ExitCode;

fn main() {
    let mut cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => std::process::exit(cli::clap_error(&e)),
    };
    // k6's environment switches, as aliases of the flags they match
    let get = |k: &str| std::env::var(k).ok();
    // K6_DNS is k6's name for --dns (THRONG_DNS)
    if let Command::Run(a) = &mut cli.command {
        a.env.dns = a.env.dns.take().or_else(|| get("K6_DNS"));
    }
    if let Command::Quick(a) = &mut cli.command {
        a.env.dns = a.env.dns.take().or_else(|| get("K6_DNS"));
    }
    let aliased = match &mut cli.command {
        Command::Run(a) => k6env::apply(&get, &mut a.out, &mut a.progress),
        Command::Quick(a) => k6env::apply(&get, &mut a.out, &mut a.progress),
        _ => Ok(()),
    };
    if let Err(e) = aliased {
        eprintln!("error: {e}");
        std::process::exit(ExitCode::InvalidPlan.code());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("THRONG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,console=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match runtime::build(&cli) {
        Ok(rt) => rt,
        Err(e) => {
            let (message, code) = e.report();
            eprintln!("error: {message}");
            std::process::exit(code.code());
        }
    };
    let code = rt.block_on(dispatch(cli));
    std::process::exit(code);
}

async fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(args) if throng_js::is_script(&args.plan) => js::run(*args).await,
        Command::Run(args) => cli::run_plan(*args, None).await,
        Command::Validate(args) => validate(&args),
        Command::Convert(args) => js::convert(&args),
        Command::ServeDemo(args) => cli::serve_demo(args).await,
        Command::Demo(args) => cli::demo(args).await,
        Command::Quick(args) => quick::run(*args).await,
        Command::Report(args) => cli::report(args),
        Command::Merge(args) => merge::run(args),
        Command::K8s(args) => k8s::run(args),
        Command::Compare(args) => compare::compare(args),
        Command::FindLimit(args) => limit::run(*args).await,
        Command::Suite(args) => suite::run(args).await,
        Command::Baseline(args) => compare::baseline(args),
        Command::Init(args) => tools::init(args),
        Command::Completions(args) => tools::completions(args),
        Command::Man => tools::man(),
        Command::Version => tools::version(),
        Command::Fixtures(args) => fixtures::run(args),
        Command::Pause(args) => control::pause(&args, true).await,
        Command::Resume(args) => control::pause(&args, false).await,
        Command::Scale(args) => control::scale(&args).await,
        Command::Status(args) => control::send(&args, None).await,
    }
}

fn validate(args: &cli::ValidateArgs) -> i32 {
    let (plan, env_args) = (&args.plan, &args.env);
    let env = match env::collect(env_args) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    let o = match args.load.overrides() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    // a script's plan is the one its options make
    let script = if throng_js::is_script(plan) {
        match js::load(plan, env.clone()) {
            Ok(l) => Some(l.plan.text),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::RuntimeError.code();
            }
        }
    } else {
        None
    };
    let opts = throng_plan::LoadOptions {
        env,
        base_dir: None,
        open_file_limit: env::open_file_limit(),
        seed: env_args.seed,
        reshaped: !o.is_empty(),
    };
    let checked = match &script {
        Some(t) => throng_plan::load_str(t, plan, &opts),
        None => throng_plan::load_file(plan, &opts),
    }
    .map_err(|e| e.to_string())
    .and_then(|mut p| {
        if let Some(d) = &env_args.dns {
            throng_plan::parse_dns(d).map_err(|e| format!("error: --dns: {e}"))?;
        }
        if !o.is_empty() {
            throng_plan::apply_overrides(&mut p, &o).map_err(|e| format!("error: {e}"))?;
        }
        Ok(p)
    });
    match checked {
        Ok(p) => {
            println!(
                "{}: ok — {} scenario{}, {} threshold{}",
                plan.display(),
                p.scenarios.len(),
                if p.scenarios.len() == 1 { "" } else { "s" },
                p.thresholds.items.len(),
                if p.thresholds.items.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            0
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::InvalidPlan.code()
        }
    }
}
