//! Suites (`throng suite suite.yaml --out-dir results/`): plans, commands and breaking-point
//! searches run in order with a cool-down, each writing its reports in a sub-folder, then
//! one combined report (index.html, report.md) with a row per step.
mod report;
mod run;
mod spec;

pub use report::{StepResult, SuiteReport, Verdict};
pub use run::run_suite;
pub use spec::{load_suite, StepKind, Suite, SuiteOptions, SuiteStep};
