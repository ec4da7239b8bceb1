//! What monitors watch and what they saw: the types a plan's `monitors:` and `slos:` compile
//! to, the monitors' reports and the SLOs' results. They live here, with the metrics, so
//! that plans and reports read them without depending on throng-monitor, which samples and
//! judges (it re-exports them at its old paths).
use crate::threshold::{is_sampled, parse_key, Expr};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// A PostgreSQL server (`postgres: {url, top, reset_statements}`).
    Postgres {
        /// `postgres://user:password@host:port/db`.
        url: String,
        /// How many top queries (by mean time, from `pg_stat_statements`) to report; 0: none.
        top: usize,
        /// Whether to reset `pg_stat_statements` at the first sample.
        reset_statements: bool,
    },
    /// A Redis server (`redis: {url, keys}`).
    Redis {
        /// `redis://[:password@]host:port[/db]`.
        url: String,
        /// Custom commands whose numeric answer is a series (`queue` = `LLEN mutt:queue`).
        keys: Vec<(String, String)>,
    },
    /// Instant PromQL queries against a Prometheus server (`promql: {url, queries}`).
    Promql {
        /// The server (`http://prometheus:9090`).
        url: String,
        /// Series name → query.
        queries: Vec<(String, String)>,
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
            MonitorKind::Postgres { .. } => "postgres",
            MonitorKind::Redis { .. } => "redis",
            MonitorKind::Promql { .. } => "promql",
        }
    }

    /// The default sampling interval: 5 s for PostgreSQL (its statistics views are not
    /// free to read), 1 s for the others.
    pub fn default_every(&self) -> Duration {
        match self {
            MonitorKind::Postgres { .. } => Duration::from_secs(5),
            _ => Duration::from_secs(1),
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

/// Every monitor's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorResults {
    /// One per monitor, in plan order.
    pub monitors: Vec<MonitorReport>,
}

/// What one monitor saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorReport {
    /// The monitor's name.
    pub name: String,
    /// Its kind (`prometheus`, `process`, `log`, `http`).
    pub kind: String,
    /// What it watched (a URL, `pid 1234`, `name serve-demo`, a file).
    pub target: String,
    /// Sampling interval, seconds.
    pub every_s: f64,
    /// Samples taken.
    pub samples: u64,
    /// Samples that failed.
    pub errors: u64,
    /// The last failure's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the first failure happened, seconds into the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error_s: Option<f64>,
    /// Each series as `[seconds since the run started, value]` points.
    pub series: BTreeMap<String, Vec<(f64, f64)>>,
    /// Further facts (`pid`, first match times, saved files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<(String, String)>,
}

/// Summary statistics of a series between two times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Mean.
    pub avg: f64,
    /// Largest value.
    pub max: f64,
    /// Smallest value.
    pub min: f64,
    /// Points.
    pub n: usize,
}

impl MonitorReport {
    /// The statistics of `series` over points with `from <= t <= to` (`None` without any).
    pub fn window(&self, series: &str, from: f64, to: f64) -> Option<Window> {
        let pts: Vec<f64> = self
            .series
            .get(series)?
            .iter()
            .filter(|(t, _)| *t >= from && *t <= to)
            .map(|(_, v)| *v)
            .collect();
        if pts.is_empty() {
            return None;
        }
        Some(Window {
            avg: pts.iter().sum::<f64>() / pts.len() as f64,
            max: pts.iter().cloned().fold(f64::MIN, f64::max),
            min: pts.iter().cloned().fold(f64::MAX, f64::min),
            n: pts.len(),
        })
    }

    /// The least-squares growth of `series` per hour.
    pub fn growth_per_hour(&self, series: &str) -> Option<f64> {
        let pts = self.series.get(series)?;
        let mut s = crate::SampledStats::default();
        for (t, v) in pts {
            s.add(*t, *v);
        }
        (s.n >= 2).then(|| s.growth_per_hour())
    }
}

/// What an objective reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A stat of a k6 metric (or sub-metric) over the window's samples.
    Metric {
        /// The metric name.
        metric: String,
        /// Its tag filter.
        filter: Vec<(String, String)>,
    },
    /// A monitor series (`monitor:api.cpu`); without a stat every sample must pass.
    Monitor {
        /// The full series name.
        series: String,
        /// Whether a stat was written (`max(monitor:api.cpu)`) or each sample is judged.
        each: bool,
    },
}

/// A parsed objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// What it reads.
    pub subject: Subject,
    /// The stat, comparison and bound (as a threshold expression).
    pub expr: Expr,
    /// The objective as written.
    pub source: String,
}

impl Objective {
    /// Parses an objective (see the module docs).
    pub fn parse(src: &str) -> Result<Objective, String> {
        let s = src.trim();
        let bad = || {
            format!("invalid objective {src:?}: expected `STAT(METRIC) OP NUMBER` (`rate(http_req_failed) < 0.001`, `p(95)(http_req_duration) < 600`) or `monitor:NAME.SERIES OP NUMBER`")
        };
        let op_at = s.find(['<', '>', '=', '!']).ok_or_else(bad)?;
        let (lhs, rhs) = (s[..op_at].trim(), &s[op_at..]);
        if is_sampled(lhs) {
            let expr = Expr::parse(&format!("value{rhs}")).map_err(|e| e.to_string())?;
            if expr.window.is_some() {
                return Err(format!(
                    "invalid objective {src:?}: an SLO's window is its `window:`, not `over`"
                ));
            }
            return Ok(Objective {
                subject: Subject::Monitor {
                    series: lhs.to_string(),
                    each: true,
                },
                expr,
                source: src.to_string(),
            });
        }
        let stat_end = if lhs.starts_with("p(") {
            lhs.find(')').map(|i| i + 1).ok_or_else(bad)?
        } else {
            lhs.find('(').ok_or_else(bad)?
        };
        let stat = lhs[..stat_end].trim();
        let inner = lhs[stat_end..]
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(bad)?
            .trim();
        let expr = Expr::parse(&format!("{stat}{rhs}")).map_err(|e| e.to_string())?;
        if expr.window.is_some() {
            return Err(format!(
                "invalid objective {src:?}: an SLO's window is its `window:`, not `over`"
            ));
        }
        if is_sampled(inner) {
            expr.stat.check_sampled().map_err(|valid| {
                format!("`{stat}` does not apply to a monitor series: use {valid}")
            })?;
            return Ok(Objective {
                subject: Subject::Monitor {
                    series: inner.to_string(),
                    each: false,
                },
                expr,
                source: src.to_string(),
            });
        }
        let (metric, filter) = parse_key(inner).map_err(|e| e.to_string())?;
        Ok(Objective {
            subject: Subject::Metric { metric, filter },
            expr,
            source: src.to_string(),
        })
    }
}

/// One SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Its name.
    pub name: String,
    /// What must hold.
    pub objective: Objective,
    /// The window length.
    pub window: Duration,
    /// The share of windows that must meet the objective (0–1).
    pub target: f64,
}

/// One window's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloWindow {
    /// Start, seconds since the run started.
    pub start_s: f64,
    /// The value judged (`None`: a monitor window without samples).
    pub value: Option<f64>,
    /// The objective held.
    pub met: bool,
}

/// An SLO's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// The SLO's name.
    pub name: String,
    /// The objective as written.
    pub objective: String,
    /// Window length, seconds.
    pub window_s: f64,
    /// Target share of windows (0–1).
    pub target: f64,
    /// Windows judged.
    pub windows: u64,
    /// Windows that met the objective.
    pub met: u64,
    /// `met / windows` (0–1).
    pub compliance: f64,
    /// The window with the worst value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst: Option<SloWindow>,
    /// Share of the error budget (the `1 - target` of windows allowed to miss) used; over 1
    /// is overspent. `None` when the target is 100 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_consumed: Option<f64>,
    /// The SLO passed (`compliance >= target`).
    pub ok: bool,
    /// Every window.
    pub per_window: Vec<SloWindow>,
}

/// Splits a command line into words; `"…"` and `'…'` quote a word with spaces.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("{line:?}: an unterminated quote"));
    }
    if in_word {
        out.push(cur);
    }
    if out.is_empty() {
        return Err("an empty command".into());
    }
    Ok(out)
}
