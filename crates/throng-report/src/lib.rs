//! throng-report: the final [`Results`] of a run and what is written from them — the
//! k6-style end-of-test summary, k6's `--summary-export` JSON and throng's own results JSON.
#![warn(missing_docs)]

pub mod compare;
mod export;
mod file;
mod format;
mod html;
mod junit;
mod k6csv;
mod k6json;
pub mod limit;
mod locust_csv;
mod markdown;
pub mod merge;
mod ndjson;
pub mod protocols;
mod results;
mod rollup;
pub mod series;
mod summary;
mod sut;
mod svg;
mod validate;

pub use export::{summary_export, summary_json};
pub use file::{create_file, create_parent_dir, write_file, FileError};
pub use format::{escape_xml, format_bytes, format_ms, format_percent, format_value};
pub use html::html;
pub use junit::junit_xml;
pub use k6csv::CsvSampleWriter;
pub use locust_csv::write_locust_csv;
pub use markdown::markdown;
pub use ndjson::{NdjsonWriter, SampleWriter};
pub use results::{
    CheckResult, ClockInfo, FailureRow, GeneratorInfo, HistogramBin, InstanceInfo, MetricResult,
    RateLimitedRow, RequestStats, Results, RunInfo, ScenarioOutcome, SeriesDump, ThresholdResult,
    TimelinePoint, LOCUST_PERCENTILES,
};
pub use summary::{render_distribution, render_summary, render_summary_with, DEFAULT_TREND_STATS};
pub use validate::{decode_hdr, encode_hdr, ResultsFileError, RESULTS_VERSION};
