//! `throng run plan.yaml --local-segments N`: the plan's N execution segments run as N child
//! processes of this binary (`run --segment I/N --results FILE`), started together at one
//! `--start-at`, then merged exactly — the same path as N pods on Kubernetes.
use crate::cli::RunArgs;
use crate::scale::{fnv1a, parse_start_at};
use std::path::PathBuf;
use std::process::Stdio;
use throng_run::ExitCode;

/// Most local segments (child processes).
pub const MAX_LOCAL_SEGMENTS: u64 = 256;

/// Flags of the parent that take a value and that the children must not get: outputs the
/// parent writes from the merged results, and the live servers (one per machine).
const PARENT_VALUE_FLAGS: [&str; 15] = [
    "--summary-export",
    "--summary-json",
    "--results",
    "--html",
    "--md",
    "--csv",
    "--junit",
    "--out",
    "--prometheus",
    "--local-segments",
    "--start-at",
    "--run-id",
    "--barrier-dir",
    "--barrier-timeout",
    "--barrier-margin",
];

/// Flags of the parent without a value (or with an optional one) the children must not get.
const PARENT_SWITCHES: [&str; 7] = [
    "--csv-full-history",
    "--dashboard",
    "--dashboard-linger",
    "--address",
    "--quiet",
    "--no-summary",
    "--http-debug",
];

/// Environment variables that would make every child write the parent's outputs.
const PARENT_ENV: [&str; 19] = [
    "THRONG_SUMMARY_EXPORT",
    "THRONG_SUMMARY_JSON",
    "THRONG_RESULTS",
    "THRONG_HTML",
    "THRONG_MD",
    "THRONG_CSV",
    "THRONG_CSV_FULL_HISTORY",
    "THRONG_JUNIT",
    "THRONG_OUT",
    "THRONG_PROMETHEUS",
    "THRONG_DASHBOARD",
    "THRONG_START_AT",
    "THRONG_RUN_ID",
    "THRONG_BARRIER_DIR",
    "THRONG_BARRIER_TIMEOUT",
    "THRONG_BARRIER_MARGIN",
    "K6_OUT",
    "K6_SUMMARY_EXPORT",
    "K6_WEB_DASHBOARD",
];

/// The parent's command line (after the program name) without the flags only the parent
/// acts on.
pub fn child_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let name = a.split('=').next().unwrap_or(a);
        if PARENT_VALUE_FLAGS.contains(&name) {
            // `--flag value` skips the value too; `--flag=value` is one word
            i += if a.contains('=') { 1 } else { 2 };
            continue;
        }
        if PARENT_SWITCHES.contains(&name) {
            i += 1;
            // `--dashboard 127.0.0.1:5665`, `--address ADDR`: an optional address
            if !a.contains('=')
                && matches!(name, "--dashboard" | "--address")
                && args
                    .get(i)
                    .is_some_and(|v| v.parse::<std::net::SocketAddr>().is_ok())
            {
                i += 1;
            }
            continue;
        }
        out.push(a.clone());
        i += 1;
    }
    out
}

/// Runs the plan of `args` as `n` local segments and merges them; `digest` identifies the
/// plan and load flags.
pub async fn run(args: &RunArgs, n: u64, digest: &str) -> i32 {
    if n == 0 || n > MAX_LOCAL_SEGMENTS {
        eprintln!("error: --local-segments {n}: give 1 to {MAX_LOCAL_SEGMENTS}");
        return ExitCode::InvalidPlan.code();
    }
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
    let dir = std::env::temp_dir().join(format!("throng-segments-{run_id}-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::RuntimeError.code();
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let base = child_args(&argv);
    let mut remote: Vec<String> = args
        .out
        .out
        .iter()
        .filter(|o| o.starts_with("prometheus-rw"))
        .cloned()
        .collect();
    remote.dedup();
    let mut children = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for i in 1..=n {
        let path = dir.join(format!("segment-{i}-of-{n}.json"));
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args(&base)
            .args(["--segment", &format!("{i}/{n}")])
            .arg("--results")
            .arg(&path)
            .args(["--no-summary", "--quiet", "--run-id", &run_id])
            .args(
                start_at
                    .iter()
                    .flat_map(|t| ["--start-at".to_string(), t.to_string()]),
            )
            .arg("--barrier-dir")
            .arg(dir.join("barrier"))
            .args(["--barrier-margin", "300ms", "--barrier-timeout", "2m"])
            .args(remote.iter().flat_map(|r| ["--out".to_string(), r.clone()]))
            .env("THRONG_INSTANCE_ID", (i - 1).to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for k in PARENT_ENV {
            cmd.env_remove(k);
        }
        match cmd.spawn() {
            Ok(c) => children.push(c),
            Err(e) => {
                eprintln!("error: cannot start segment {i}/{n}: {e}");
                return ExitCode::RuntimeError.code();
            }
        }
        paths.push(path);
    }
    match start_at {
        Some(t) => eprintln!("running {n} local segments (run {run_id}), starting at {t}"),
        None => eprintln!("running {n} local segments (run {run_id}), starting when all are ready"),
    }
    let interrupt = tokio_util::sync::CancellationToken::new();
    crate::signals::install(interrupt.clone());
    let pids: Vec<u32> = children.iter().filter_map(|c| c.id()).collect();
    let mut signalled = false;
    for (i, c) in children.iter_mut().enumerate() {
        let status = loop {
            tokio::select! {
                s = c.wait() => break s,
                _ = interrupt.cancelled(), if !signalled => {
                    // Ctrl-C / SIGTERM: every child stops gracefully and still writes its
                    // results, which are merged as usual
                    signalled = true;
                    for pid in &pids {
                        let _ = std::process::Command::new("kill")
                            .args(["-INT", &pid.to_string()])
                            .status();
                    }
                }
            }
        };
        let code = status.ok().and_then(|s| s.code()).unwrap_or(-1);
        if ![0, 99].contains(&code) {
            eprintln!("segment {}/{n} exited {code}", i + 1);
        }
    }
    let present: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    let code = match crate::merge::merge_files(&present) {
        Ok(m) => crate::merge::report(&m, &args.out, false, true),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::RuntimeError.code()
        }
    };
    if std::env::var_os("THRONG_KEEP_SEGMENTS").is_some() {
        eprintln!("segment results kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if interrupt.is_cancelled() {
        return ExitCode::Interrupted.code();
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn children_get_the_load_flags_not_the_parents_outputs() {
        let args = v("run plan.yaml --vus 4 --local-segments 4 --html r.html --results=x.json --dashboard --quiet --out prometheus-rw=http://p --address 127.0.0.1:1 -e A=1");
        assert_eq!(child_args(&args), v("run plan.yaml --vus 4 -e A=1"));
    }
}
