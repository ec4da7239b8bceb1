//! A point-in-time copy of every series: what live sinks, thresholds and reports read.
use crate::agg::Agg;
use crate::builtin::Builtin;
use crate::names;
use crate::registry::{MetricDef, MetricId};
use crate::sampled::SampledStats;
use crate::tags::{TagSet, TagSetId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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

/// A metric as a snapshot is asked for it: by id (a [`Builtin`] field, or an id the
/// registry gave a custom metric) or by name (`&str`, `String`: user-defined metrics,
/// threshold keys).
pub trait MetricRef {
    /// The metric's id among `defs`, if it is defined there.
    fn resolve(&self, defs: &[MetricDef]) -> Option<MetricId>;
}

impl MetricRef for MetricId {
    fn resolve(&self, defs: &[MetricDef]) -> Option<MetricId> {
        ((self.0 as usize) < defs.len()).then_some(*self)
    }
}

impl MetricRef for str {
    fn resolve(&self, defs: &[MetricDef]) -> Option<MetricId> {
        defs.iter()
            .position(|d| d.name == self)
            .map(|i| MetricId(i as u32))
    }
}

impl MetricRef for String {
    fn resolve(&self, defs: &[MetricDef]) -> Option<MetricId> {
        self.as_str().resolve(defs)
    }
}

impl<T: MetricRef + ?Sized> MetricRef for &T {
    fn resolve(&self, defs: &[MetricDef]) -> Option<MetricId> {
        (**self).resolve(defs)
    }
}

/// Cumulative aggregates of every series at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    metrics: Vec<MetricDef>,
    tag_sets: Vec<Arc<TagSet>>,
    series: Arc<BTreeMap<SeriesKey, Agg>>,
    interval: Arc<BTreeMap<SeriesKey, Agg>>,
    seen: Arc<BTreeMap<SeriesKey, (u64, u64)>>,
    taken_ns: u64,
    sampled: Arc<BTreeMap<String, SampledStats>>,
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
            seen: Arc::default(),
            taken_ns: 0,
            sampled: Arc::default(),
        }
    }

    pub(crate) fn with_times(
        mut self,
        seen: Arc<BTreeMap<SeriesKey, (u64, u64)>>,
        taken_ns: u64,
    ) -> Self {
        self.seen = seen;
        self.taken_ns = taken_ns;
        self
    }

    pub(crate) fn with_sampled(mut self, sampled: Arc<BTreeMap<String, SampledStats>>) -> Self {
        self.sampled = sampled;
        self
    }

    /// A snapshot assembled outside a registry (`throng merge` adding results files
    /// together): `metrics` as a registry defines them (built-ins first, as
    /// [`crate::Registry::new`] does), each series by metric and tag set (the same pair
    /// twice is merged), `elapsed` the run's wall time.
    pub fn assemble(
        metrics: Vec<MetricDef>,
        series: Vec<(MetricId, TagSet, Agg)>,
        elapsed: Duration,
    ) -> Snapshot {
        let mut tag_sets: Vec<Arc<TagSet>> = vec![Arc::new(TagSet::default())];
        let mut ids: std::collections::HashMap<TagSet, TagSetId> = std::collections::HashMap::new();
        ids.insert(TagSet::default(), TagSetId(0));
        let mut map: BTreeMap<SeriesKey, Agg> = BTreeMap::new();
        for (metric, tags, agg) in series {
            let id = *ids.entry(tags.clone()).or_insert_with(|| {
                tag_sets.push(Arc::new(tags));
                TagSetId(tag_sets.len() as u32 - 1)
            });
            match map.entry(SeriesKey { metric, tags: id }) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&agg),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(agg);
                }
            }
        }
        Snapshot::new(metrics, tag_sets, Arc::new(map), Arc::default())
            .with_times(Arc::default(), elapsed.as_nanos() as u64)
    }

    /// A sampled series (a monitor's, `monitor:api.cpu`) by name.
    pub fn sampled(&self, name: &str) -> Option<&SampledStats> {
        self.sampled.get(name)
    }

    /// Every sampled series, by name.
    pub fn sampled_all(&self) -> impl Iterator<Item = (&String, &SampledStats)> {
        self.sampled.iter()
    }

    /// When this snapshot was taken, counted from [`crate::Registry::epoch`].
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.taken_ns)
    }

    /// For a failure series (tags with `expected_response:false` or an `error`, see
    /// [`TagSet::marks_failure`]): when its first and its last sample were recorded, counted
    /// from [`crate::Registry::epoch`]. `None` for other series.
    pub fn first_last(&self, key: &SeriesKey) -> Option<(Duration, Duration)> {
        self.seen
            .get(key)
            .map(|(f, l)| (Duration::from_nanos(*f), Duration::from_nanos(*l)))
    }

    /// Every metric definition (also those without samples).
    pub fn metrics(&self) -> &[MetricDef] {
        &self.metrics
    }

    /// Ids of k6's built-in metrics (the same in every registry, see [`Builtin::ids`]).
    pub fn builtin(&self) -> &'static Builtin {
        Builtin::ids()
    }

    /// The id and definition of a metric, by id or by name.
    pub fn metric(&self, metric: impl MetricRef) -> Option<(MetricId, &MetricDef)> {
        let id = metric.resolve(&self.metrics)?;
        Some((id, &self.metrics[id.0 as usize]))
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

    /// All series of `metric` (an id or a name) whose tags include every `(key, value)` in
    /// `filter`, merged. `None` when the metric is unknown or has no matching samples.
    pub fn aggregate(&self, metric: impl MetricRef, filter: &[(String, String)]) -> Option<Agg> {
        self.merge_from(&self.series, metric, |t| t.matches(filter))
    }

    /// Like [`Snapshot::aggregate`], for a threshold: samples of the run's lifecycle
    /// (tagged `phase`: setup, teardown, preflight, timeline) are left out unless `filter`
    /// names the `phase` tag, so a threshold judges the load.
    pub fn aggregate_load(
        &self,
        metric: impl MetricRef,
        filter: &[(String, String)],
    ) -> Option<Agg> {
        let by_phase = filter.iter().any(|(k, _)| k == names::PHASE_TAG);
        self.merge_from(&self.series, metric, |t| {
            t.matches(filter) && (by_phase || t.get(names::PHASE_TAG).is_none())
        })
    }

    /// Like [`Snapshot::aggregate`], over only what arrived since the previous collection.
    pub fn aggregate_interval(
        &self,
        metric: impl MetricRef,
        filter: &[(String, String)],
    ) -> Option<Agg> {
        self.merge_from(&self.interval, metric, |t| t.matches(filter))
    }

    /// Like [`Snapshot::aggregate`], but only the merged count (`0` when there is none):
    /// counter sum, rate trues, trend samples.
    pub fn count(&self, metric: impl MetricRef, filter: &[(String, String)]) -> f64 {
        self.aggregate(metric, filter)
            .map(|a| a.count())
            .unwrap_or(0.0)
    }

    /// Like [`Snapshot::count`], over only what arrived since the previous collection.
    pub fn count_interval(&self, metric: impl MetricRef, filter: &[(String, String)]) -> f64 {
        self.aggregate_interval(metric, filter)
            .map(|a| a.count())
            .unwrap_or(0.0)
    }

    /// The series that received samples since the previous collection.
    pub fn interval_series(&self) -> impl Iterator<Item = (&SeriesKey, &Agg)> {
        self.interval.iter()
    }

    fn merge_from(
        &self,
        map: &BTreeMap<SeriesKey, Agg>,
        metric: impl MetricRef,
        keep: impl Fn(&TagSet) -> bool,
    ) -> Option<Agg> {
        let (id, def) = self.metric(metric)?;
        let mut out: Option<Agg> = None;
        let from = SeriesKey {
            metric: id,
            tags: TagSetId(0),
        };
        for (k, agg) in map.range(from..) {
            if k.metric != id {
                break;
            }
            if !keep(self.tags(k.tags)) {
                continue;
            }
            out.get_or_insert_with(|| Agg::new(def.kind)).merge(agg);
        }
        out
    }

    /// Distinct values of tag `key` among the series of `metric` (an id or a name).
    pub fn tag_values(&self, metric: impl MetricRef, key: &str) -> Vec<String> {
        let Some((id, _)) = self.metric(metric) else {
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
