//! `throng run plan.yaml --local-segments N`: the plan's N execution segments run as N child
//! processes of this binary (throng-campaign's [`throng_campaign::local`]), meeting at a
//! barrier and starting together, then merged exactly — the same path as N pods on
//! Kubernetes.
use crate::cli::RunArgs;
use crate::scale::{fnv1a, parse_start_at};
use throng_campaign::local::LocalSegments;
use throng_run::ExitCode;

/// Runs the plan of `args` as `n` local segments and merges them; `digest` identifies the
/// plan and load flags.
pub async fn run(args: &RunArgs, n: u64, digest: &str) -> i32 {
    if args.out.out.iter().any(|o| !o.starts_with("prometheus-rw")) {
        eprintln!("error: --local-segments: --out json=/csv= (every sample) are per process; use --results and the reports of the merged run, or --out prometheus-rw");
        return ExitCode::InvalidPlan.code();
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find the throng binary to start segments: {e}");
            return ExitCode::RuntimeError.code();
        }
    };
    // the children start together once all have compiled the plan and met at a barrier
    // in the run's folder (and not before --start-at, if given)
    let start_at = match &args.scale.start_at {
        Some(s) => match parse_start_at(s, std::env::var("THRONG_RUN_EPOCH").ok()) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::InvalidPlan.code();
            }
        },
        None => None,
    };
    let run_id = args.scale.run_id.clone().unwrap_or_else(|| {
        let when = start_at.unwrap_or_else(jiff::Timestamp::now);
        format!("{:016x}", fnv1a(format!("{digest}|{when}|{n}").as_bytes()))
    });
    let mut remote_write: Vec<String> = args
        .out
        .out
        .iter()
        .filter(|o| o.starts_with("prometheus-rw"))
        .cloned()
        .collect();
    remote_write.dedup();
    let segments = LocalSegments {
        exe,
        args: std::env::args().skip(1).collect(),
        n,
        dir: std::env::temp_dir().join(format!("throng-segments-{run_id}-{}", std::process::id())),
        run_id,
        start_at,
        remote_write,
    };
    match start_at {
        Some(t) => eprintln!(
            "running {n} local segments (run {}), starting at {t}",
            segments.run_id
        ),
        None => eprintln!(
            "running {n} local segments (run {}), starting when all are ready",
            segments.run_id
        ),
    }
    let interrupt = tokio_util::sync::CancellationToken::new();
    crate::signals::install(interrupt.clone());
    let outcomes = match segments.run(&interrupt).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            segments.clean_up();
            return match e {
                throng_campaign::local::LocalError::Count(_) => ExitCode::InvalidPlan.code(),
                _ => ExitCode::RuntimeError.code(),
            };
        }
    };
    for (i, o) in outcomes.iter().enumerate() {
        if ![0, 99].contains(&o.exit_code) {
            eprintln!("segment {}/{n} exited {}", i + 1, o.exit_code);
        }
    }
    let present: Vec<_> = outcomes
        .iter()
        .map(|o| o.results.clone())
        .filter(|p| p.exists())
        .collect();
    let code = match crate::merge::merge_files(&present) {
        Ok(m) => crate::merge::report(&m, &args.out, false, true),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::RuntimeError.code()
        }
    };
    if std::env::var_os("THRONG_KEEP_SEGMENTS").is_some() {
        eprintln!("segment results kept in {}", segments.dir().display());
    } else {
        segments.clean_up();
    }
    if interrupt.is_cancelled() {
        return ExitCode::Interrupted.code();
    }
    code
}
