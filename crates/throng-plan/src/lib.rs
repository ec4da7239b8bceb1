//! throng-plan: the plan model, YAML loading with line/column errors, validation, durations,
//! the request template language ([`template`]) and test data generated from fixture specs
//! ([`fixtures`]), reproducible with a seed ([`seed`]).
#![warn(missing_docs)]

mod compile;
mod data;
mod dns;
mod duration;
mod error;
pub mod fixtures;
mod json_query;
pub mod limits;
mod model;
mod origins;
pub mod overrides;
mod protocols;
pub mod raw;
pub mod seed;
pub mod template;

pub use compile::{
    compile_raw, load_str, load_str_with, DiskFiles, LoadOptions, PlanFiles, RESPONSE_VARS,
};
pub use data::{segment_plan, DataCursor, DataSet, Pick};
pub use dns::{parse_dns, DnsPolicy, DnsSelect, DnsSettings};
pub use duration::{format_duration, parse_duration, parse_duration_range};
pub use error::{PlanError, PlanErrors, Source};
pub use json_query::JsonQuery;
pub use model::*;
pub use origins::Origins;
pub use overrides::{apply_overrides, Overrides, BUILTIN_PROFILES};
pub use protocols::*;
pub use seed::stream_rng;
pub use template::{RenderCtx, Template};

use std::path::Path;

/// Loads and validates a plan file.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Plan, PlanErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&text, path, opts),
        Err(e) => Err(PlanErrors(vec![PlanError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the plan: {e}"),
            snippet: None,
        }])),
    }
}
