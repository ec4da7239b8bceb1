//! `--local-segments N`: a plan's N execution segments as N child processes of the throng
//! binary (`run --segment I/N --results FILE`), meeting at a readiness barrier in the run's
//! folder and starting together — the same path as N pods on Kubernetes. The caller merges
//! the results files they leave.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio_util::sync::CancellationToken;

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

/// How to start the segments of one run.
#[derive(Debug, Clone)]
pub struct LocalSegments {
    /// The throng binary.
    pub exe: PathBuf,
    /// The parent's command line after the program name (parent-only flags are removed).
    pub args: Vec<String>,
    /// Segments (child processes).
    pub n: u64,
    /// The run's id, shared by the children.
    pub run_id: String,
    /// The agreed start (`--start-at`), if the user gave one; the children start when all
    /// are ready and not before it.
    pub start_at: Option<jiff::Timestamp>,
    /// `--out prometheus-rw=…` outputs each child sends to.
    pub remote_write: Vec<String>,
    /// The run's folder: the children's results files and the barrier.
    pub dir: PathBuf,
}

/// What one segment left.
#[derive(Debug, Clone)]
pub struct SegmentOutcome {
    /// Its results file (it may be missing if the child failed early).
    pub results: PathBuf,
    /// Its exit code (-1: killed by a signal).
    pub exit_code: i32,
}

/// Why the segments could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// `n` is out of range.
    #[error("--local-segments {0}: give 1 to {MAX_LOCAL_SEGMENTS}")]
    Count(u64),
    /// The run's folder could not be made.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The folder.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// A child could not be started.
    #[error("cannot start segment {i}/{n}: {source}")]
    Spawn {
        /// Its index (1-based).
        i: u64,
        /// Segments.
        n: u64,
        /// The system's error.
        source: std::io::Error,
    },
}

impl LocalSegments {
    /// The results file of segment `i` (1-based).
    pub fn results_file(&self, i: u64) -> PathBuf {
        self.dir.join(format!("segment-{i}-of-{}.json", self.n))
    }

    fn barrier_dir(&self) -> PathBuf {
        self.dir.join("barrier")
    }

    /// Starts the children, forwards Ctrl-C (`interrupt`) to them as SIGINT so each stops
    /// gracefully and still writes its results, and waits for all.
    pub async fn run(
        &self,
        interrupt: &CancellationToken,
    ) -> Result<Vec<SegmentOutcome>, LocalError> {
        let n = self.n;
        if n == 0 || n > MAX_LOCAL_SEGMENTS {
            return Err(LocalError::Count(n));
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| LocalError::Dir {
            path: self.dir.display().to_string(),
            source,
        })?;
        let base = child_args(&self.args);
        let mut children = Vec::new();
        for i in 1..=n {
            let mut cmd = tokio::process::Command::new(&self.exe);
            cmd.args(&base)
                .args(["--segment", &format!("{i}/{n}")])
                .arg("--results")
                .arg(self.results_file(i))
                .args(["--no-summary", "--quiet", "--run-id", &self.run_id])
                .args(
                    self.start_at
                        .iter()
                        .flat_map(|t| ["--start-at".to_string(), t.to_string()]),
                )
                .arg("--barrier-dir")
                .arg(self.barrier_dir())
                .args(["--barrier-margin", "300ms", "--barrier-timeout", "2m"])
                .args(
                    self.remote_write
                        .iter()
                        .flat_map(|r| ["--out".to_string(), r.clone()]),
                )
                .env("THRONG_INSTANCE_ID", (i - 1).to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .kill_on_drop(true);
            for k in PARENT_ENV {
                cmd.env_remove(k);
            }
            children.push(
                cmd.spawn()
                    .map_err(|source| LocalError::Spawn { i, n, source })?,
            );
        }
        let pids: Vec<u32> = children.iter().filter_map(|c| c.id()).collect();
        let mut signalled = false;
        let mut out = Vec::new();
        for (i, c) in (1..=n).zip(children.iter_mut()) {
            let status = loop {
                tokio::select! {
                    s = c.wait() => break s,
                    _ = interrupt.cancelled(), if !signalled => {
                        // Ctrl-C / SIGTERM: every child stops gracefully and still writes
                        // its results, which are merged as usual
                        signalled = true;
                        for pid in &pids {
                            let _ = std::process::Command::new("kill")
                                .args(["-INT", &pid.to_string()])
                                .status();
                        }
                    }
                }
            };
            out.push(SegmentOutcome {
                results: self.results_file(i),
                exit_code: status.ok().and_then(|s| s.code()).unwrap_or(-1),
            });
        }
        Ok(out)
    }

    /// Removes the run's folder.
    pub fn clean_up(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
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
