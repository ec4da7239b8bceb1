//! Bundles: a fixed list of metrics always recorded together under one tag set (one HTTP
//! response's eleven samples). A shard finds the slots of a whole bundle with one lookup
//! per (bundle, tag set) instead of one per sample; see [`crate::Registry::add_bundle`].
use crate::registry::MetricId;
use crate::MetricKind;
use std::sync::Arc;

/// A fixed list of metrics of one registry, made by [`crate::Registry::bundle`]. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The registry that made it (a bundle only speeds up recording into that one).
    pub(crate) registry: u64,
    /// Its number within that registry.
    pub(crate) id: u32,
    /// The metrics, in the order values are given, with their kinds.
    pub(crate) metrics: Arc<[(MetricId, MetricKind)]>,
}

impl Bundle {
    /// How many metrics it holds.
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// The metrics, in the order [`crate::Registry::add_bundle`] takes their values.
    pub fn metrics(&self) -> impl Iterator<Item = MetricId> + '_ {
        self.metrics.iter().map(|(m, _)| *m)
    }
}
