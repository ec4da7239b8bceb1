//! What to monitor: the validated monitor specs a plan's `monitors:` block and the
//! `--monitor` flag compile to.
use regex::Regex;
use std::path::PathBuf;
use std::time::Duration;

/// One monitor: its name (the `monitor:<name>.` prefix of its series), how often it
/// samples, and what.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    /// The monitor's name.
    pub name: String,
    /// Sampling interval (`every:`, default 1 s).
    pub every: Duration,
    /// What it samples.
    pub kind: MonitorKind,
}

/// The kinds of monitor.
#[derive(Debug, Clone)]
pub enum MonitorKind {
    /// Scrape a Prometheus text exposition endpoint (`prometheus: {url, select}`).
    Prometheus {
        /// The endpoint (`http://host:port/metrics`).
        url: String,
        /// Metric names (or `name{label="v"}`) to keep; empty keeps every family.
        select: Vec<String>,
    },
    /// A process or a cgroup (`process: {pid | name | cgroup}`).
    Process(ProcessTarget),
    /// A log file followed as it grows (`log: {file, patterns}`).
    Log {
        /// The file.
        file: PathBuf,
        /// Named patterns.
        patterns: Vec<LogPattern>,
    },
    /// An artefact fetched and saved next to the results (`http: {get, save_as}`).
    Http {
        /// The URL to GET.
        url: String,
        /// The file name; `{{elapsed}}` becomes the run's elapsed time (`heap-60s.pb.gz`).
        save_as: String,
    },
}

impl MonitorKind {
    /// The kind's name as written in a plan (`prometheus`, `process`, `log`, `http`).
    pub fn name(&self) -> &'static str {
        match self {
            MonitorKind::Prometheus { .. } => "prometheus",
            MonitorKind::Process(_) => "process",
            MonitorKind::Log { .. } => "log",
            MonitorKind::Http { .. } => "http",
        }
    }
}

/// Which process a process monitor watches.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessTarget {
    /// A process id.
    Pid(u32),
    /// The oldest process (other than throng's own) whose name is this or whose command
    /// line contains it; looked up again when it goes away.
    Name(String),
    /// A cgroup v2 folder (`/sys/fs/cgroup/system.slice/app.service`).
    Cgroup(PathBuf),
}

/// A named pattern of a log monitor.
#[derive(Debug, Clone)]
pub struct LogPattern {
    /// The series name.
    pub name: String,
    /// What a line must match.
    pub regex: Regex,
}

/// Parses a `--monitor` flag: `KIND[.NAME]=VALUE` — `prometheus=URL`, `process=PID`,
/// `process=NAME`, `cgroup=PATH`, `log=FILE` (counts lines matching `error`, any case).
/// The name defaults to the kind; `taken` are names already in use (`-2`, `-3` is added).
pub fn parse_flag(flag: &str, taken: &[String]) -> Result<MonitorSpec, String> {
    let (key, value) = flag
        .split_once('=')
        .ok_or_else(|| format!("--monitor {flag:?}: expected KIND=VALUE, e.g. prometheus=http://127.0.0.1:8080/metrics or process=1234"))?;
    let (kind, name) = match key.split_once('.') {
        Some((k, n)) if !n.is_empty() => (k, Some(n.to_string())),
        _ => (key, None),
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("--monitor {flag:?}: the value is empty"));
    }
    let kind = match kind {
        "prometheus" => {
            if !value.starts_with("http://") {
                return Err(format!(
                    "--monitor {flag:?}: expected an http:// URL of a /metrics endpoint"
                ));
            }
            MonitorKind::Prometheus {
                url: value.to_string(),
                select: Vec::new(),
            }
        }
        "process" => MonitorKind::Process(match value.parse::<u32>() {
            Ok(pid) => ProcessTarget::Pid(pid),
            Err(_) => ProcessTarget::Name(value.to_string()),
        }),
        "cgroup" => MonitorKind::Process(ProcessTarget::Cgroup(PathBuf::from(value))),
        "log" => MonitorKind::Log {
            file: PathBuf::from(value),
            patterns: vec![LogPattern {
                name: "errors".into(),
                regex: Regex::new("(?i)error").map_err(|e| e.to_string())?,
            }],
        },
        other => {
            return Err(format!(
                "--monitor {flag:?}: unknown kind `{other}`: expected prometheus, process, cgroup or log"
            ))
        }
    };
    let base = name.unwrap_or_else(|| match &kind {
        MonitorKind::Process(ProcessTarget::Cgroup(_)) => "cgroup".into(),
        k => k.name().into(),
    });
    let mut name = base.clone();
    let mut i = 2;
    while taken.contains(&name) {
        name = format!("{base}-{i}");
        i += 1;
    }
    Ok(MonitorSpec {
        name,
        every: Duration::from_secs(1),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let p = parse_flag("prometheus=http://127.0.0.1:8080/metrics", &[]).expect("ok");
        assert_eq!(p.name, "prometheus");
        let q = parse_flag("process=1234", &["process".into()]).expect("ok");
        assert_eq!(q.name, "process-2");
        assert!(matches!(
            q.kind,
            MonitorKind::Process(ProcessTarget::Pid(1234))
        ));
        let n = parse_flag("process.api=serve-demo", &[]).expect("ok");
        assert_eq!(n.name, "api");
        assert!(
            matches!(n.kind, MonitorKind::Process(ProcessTarget::Name(ref s)) if s == "serve-demo")
        );
        assert!(parse_flag("nope=1", &[]).is_err());
        assert!(parse_flag("prometheus", &[]).is_err());
        assert!(parse_flag("prometheus=ftp://x", &[]).is_err());
    }
}
