//! throng-monitor: watches the system under test while the load runs.
//!
//! A [`Monitor`] takes one sample and returns named values. The [`runner`] samples every
//! monitor every `every` (1 s by default) on its own thread, off the load's threads, from
//! the first to the last second of the run, and records each value into the run's
//! [`throng_metrics::Registry`] as a sampled series named `monitor:<monitor>.<series>`
//! (`monitor:api.cpu`), which thresholds read (`"monitor:api.cpu": ["max<80"]`). A monitor
//! that fails is counted (errors, last error) and tried again at its next tick; it never
//! stops the load.
//!
//! One module per monitor kind: [`prometheus`], [`promql`], [`process`], [`postgres`],
//! [`mod@redis`], [`log`], [`artefact`]. A new kind is one more module implementing
//! [`Monitor`], one [`MonitorKind`] variant and one arm in [`build`]. [`slo`] judges
//! objectives per window.
#![warn(missing_docs)]

pub mod artefact;
pub mod expo;
pub mod http;
pub mod log;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod promql;
pub mod redis;
pub mod runner;
pub mod slo;
mod spec;

pub use runner::{MonitorReport, MonitorResults, Runner};
pub use spec::{parse_flag, redact_url, LogPattern, MonitorKind, MonitorSpec, ProcessTarget};

use std::path::PathBuf;

/// One named value of a sample (`cpu` = 97.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The series' name within its monitor (`cpu`, `demo_requests_total:rate`).
    pub series: String,
    /// The value.
    pub value: f64,
}

impl Value {
    /// A value of a series.
    pub fn new(series: impl Into<String>, value: f64) -> Value {
        Value {
            series: series.into(),
            value,
        }
    }
}

/// What a monitor knows while it samples.
#[derive(Debug, Clone)]
pub struct SampleCx {
    /// Seconds since the run started.
    pub elapsed: f64,
    /// Where artefacts are saved (next to the results).
    pub out_dir: PathBuf,
}

/// A sample that could not be taken: the monitor's error, as shown in the summary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct MonitorError(pub String);

impl MonitorError {
    /// An error from any displayable cause.
    pub fn new(e: impl std::fmt::Display) -> MonitorError {
        MonitorError(e.to_string())
    }
}

/// A sampler of the system under test.
pub trait Monitor: Send {
    /// Takes one sample: every series' value now (or over the interval since the last
    /// sample). An `Err` is counted as the monitor's error and the next tick tries again.
    fn sample(&mut self, cx: &SampleCx) -> Result<Vec<Value>, MonitorError>;

    /// Facts to report at the end beyond the series (first match times, saved files).
    fn facts(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// The monitor for a spec.
pub fn build(spec: &MonitorSpec) -> Box<dyn Monitor> {
    match &spec.kind {
        MonitorKind::Prometheus { url, select } => {
            Box::new(prometheus::PromMonitor::new(url, select))
        }
        MonitorKind::Process(t) => Box::new(process::ProcessMonitor::new(t.clone())),
        MonitorKind::Log { file, patterns } => {
            Box::new(log::LogMonitor::new(file.clone(), patterns.clone()))
        }
        MonitorKind::Http { url, save_as } => {
            Box::new(artefact::ArtefactMonitor::new(url, save_as))
        }
        MonitorKind::Postgres {
            url,
            top,
            reset_statements,
        } => Box::new(postgres::PostgresMonitor::new(url, *top, *reset_statements)),
        MonitorKind::Redis { url, keys } => Box::new(crate::redis::RedisMonitor::new(url, keys)),
        MonitorKind::Promql { url, queries } => Box::new(promql::PromqlMonitor::new(url, queries)),
    }
}
