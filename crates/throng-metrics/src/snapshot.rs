//! A point-in-time copy of every series: what live sinks, thresholds and reports read.
use crate::agg::Agg;
use crate::registry::{MetricDef, MetricId};
use crate::tags::{TagSet, TagSetId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A series: one metric with one tag set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    /// The metric.
    pub metric: MetricId,
    /// Its tags.
    pub tags: TagSetId,
}

impl SeriesKey {
    /// Both ids in one word, for hashing.
    #[inline]
    pub fn packed(self) -> u64 {
        ((self.metric.0 as u64) << 32) | self.tags.0 as u64
    }
}

/// Cumulative aggregates of every series at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    metrics: Vec<MetricDef>,
    tag_sets: Vec<Arc<TagSet>>,
    series: Arc<BTreeMap<SeriesKey, Agg>>,
    interval: Arc<BTreeMap<SeriesKey, Agg>>,
}

impl Snapshot {
    pub(crate) fn new(
        metrics: Vec<MetricDef>,
        tag_sets: Vec<Arc<TagSet>>,
        series: Arc<BTreeMap<SeriesKey, Agg>>,
        interval: Arc<BTreeMap<SeriesKey, Agg>>,
    ) -> Self {
        Snapshot {
            metrics,
            tag_sets,
            series,
            interval,
        }
    }

    /// Every metric definition (also those without samples).
    pub fn metrics(&self) -> &[MetricDef] {
        &self.metrics
    }

    /// The definition of a metric by name.
    pub fn metric(&self, name: &str) -> Option<(MetricId, &MetricDef)> {
        self.metrics
            .iter()
            .position(|d| d.name == name)
            .map(|i| (MetricId(i as u32), &self.metrics[i]))
    }

    /// The tags of a series.
    pub fn tags(&self, id: TagSetId) -> &TagSet {
        static EMPTY: TagSet = TagSet::empty();
        self.tag_sets
            .get(id.0 as usize)
            .map(|t| t.as_ref())
            .unwrap_or(&EMPTY)
    }

    /// Every series with samples.
    pub fn series(&self) -> impl Iterator<Item = (&SeriesKey, &Agg)> {
        self.series.iter()
    }

    /// All series of `name` whose tags include every `(key, value)` in `filter`, merged.
    /// `None` when the metric is unknown or has no matching samples.
    pub fn aggregate(&self, name: &str, filter: &[(String, String)]) -> Option<Agg> {
        self.merge_from(&self.series, name, filter)
    }

    /// Like [`Snapshot::aggregate`], over only what arrived since the previous collection.
    pub fn aggregate_interval(&self, name: &str, filter: &[(String, String)]) -> Option<Agg> {
        self.merge_from(&self.interval, name, filter)
    }

    /// The series that received samples since the previous collection.
    pub fn interval_series(&self) -> impl Iterator<Item = (&SeriesKey, &Agg)> {
        self.interval.iter()
    }

    fn merge_from(
        &self,
        map: &BTreeMap<SeriesKey, Agg>,
        name: &str,
        filter: &[(String, String)],
    ) -> Option<Agg> {
        let (id, def) = self.metric(name)?;
        let mut out: Option<Agg> = None;
        let from = SeriesKey {
            metric: id,
            tags: TagSetId(0),
        };
        for (k, agg) in map.range(from..) {
            if k.metric != id {
                break;
            }
            if !self.tags(k.tags).matches(filter) {
                continue;
            }
            out.get_or_insert_with(|| Agg::new(def.kind)).merge(agg);
        }
        out
    }

    /// Distinct values of tag `key` among the series of metric `name`.
    pub fn tag_values(&self, name: &str, key: &str) -> Vec<String> {
        let Some((id, _)) = self.metric(name) else {
            return Vec::new();
        };
        let mut v: Vec<String> = self
            .series
            .keys()
            .filter(|k| k.metric == id)
            .filter_map(|k| self.tags(k.tags).get(key).map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl TagSet {
    /// The empty tag set, usable in statics.
    pub const fn empty() -> TagSet {
        TagSet::from_sorted(Vec::new())
    }
}
