//! throng-campaign: many runs as one answer. [`limit`] searches for the breaking point of a
//! scenario (max sustainable load, the criterion that failed, recovery time); [`suite`]
//! runs plans, commands and searches in order with a cool-down and writes one combined
//! report.
#![warn(missing_docs)]

pub mod limit;
pub mod suite;
