//! throng-metrics: the metric registry, per-thread recording shards, HDR trends, snapshots
//! and k6's threshold grammar.
//!
//! Recording is the hot path of a load test: [`Recorder::add`] resolves the calling thread's
//! shard (a thread-local lookup), takes that shard's uncontended lock and updates a
//! pre-existing aggregate in place. Nothing allocates once a series exists. Samples always
//! recorded together (one HTTP response's eleven) go through a [`Bundle`]
//! ([`Registry::add_bundle`]): one lookup finds all their series. A trend sample only
//! counts a bucket (`tally.rs`); the HDR histograms are filled once a second. An aggregator
//! ([`Registry::collect`]) folds every shard into the cumulative [`Snapshot`] about once a
//! second.
#![warn(missing_docs)]

mod action;
mod agg;
mod builtin;
mod bundle;
pub mod duration;
mod kind;
pub mod monitor;
pub mod names;
mod phase;
pub mod redact;
mod registry;
mod sampled;
mod shard;
mod snapshot;
mod tags;
mod tally;
pub mod threshold;
mod url_scheme;
pub mod window;

pub use action::ActionRecord;
pub use agg::{Agg, TrendAgg, TREND_SCALE};
pub use builtin::Builtin;
pub use bundle::Bundle;
pub use kind::{MetricKind, ValueType};
pub use phase::PhaseProgress;
pub use registry::{MetricDef, MetricId, Recorder, Registry};
pub use sampled::SampledStats;
pub use shard::RawSample;
pub use snapshot::{MetricRef, SeriesKey, Snapshot};
pub use tags::{scenario_tags, TagSet, TagSetId};
pub use threshold::{Threshold, ThresholdError, ThresholdSet};
pub use url_scheme::has_http_scheme;
pub use window::WindowedThresholds;
