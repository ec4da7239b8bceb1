//! throng-report: the final [`Results`] of a run and what is written from them — the
//! k6-style end-of-test summary, k6's `--summary-export` JSON and throng's own results JSON.
#![warn(missing_docs)]

mod export;
mod format;
mod results;
pub mod series;
mod summary;

pub use export::summary_export;
pub use format::{format_bytes, format_ms, format_value};
pub use results::{
    describe_executor, CheckResult, GeneratorInfo, HistogramBin, MetricResult, Results, RunInfo,
    ScenarioOutcome, SeriesDump, ThresholdResult, TimelinePoint,
};
pub use summary::{render_distribution, render_summary};
