//! The metric registry: definitions, tag sets, shards and the cumulative aggregates.
use crate::agg::Agg;
use crate::builtin::Builtin;
use crate::bundle::Bundle;
use crate::sampled::SampledStats;
use crate::shard::{with_shard, RawSample, Shard, ShardData, Slot, NO_SLOT};
use crate::snapshot::{SeriesKey, Snapshot};
use crate::tags::{Interner, TagSet, TagSetId};
use crate::tally::Tally;
use crate::{MetricKind, ValueType};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

/// The id of a registered metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricId(pub u32);

/// A metric's name, kind and value type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDef {
    /// Name, e.g. `http_req_duration`.
    pub name: String,
    /// Counter, gauge, rate or trend.
    pub kind: MetricKind,
    /// What the values measure.
    pub contains: ValueType,
}

static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

struct Inner {
    id: u64,
    metrics: RwLock<Vec<MetricDef>>,
    tags: RwLock<Interner>,
    shards: Mutex<Vec<Arc<Shard>>>,
    /// Shared with the latest snapshot; copied only if that snapshot is still alive.
    cumulative: Mutex<Arc<BTreeMap<SeriesKey, Agg>>>,
    /// First and last sample times of failure series (ns since `epoch`), shared with the
    /// latest snapshot like `cumulative`.
    seen: Mutex<Arc<BTreeMap<SeriesKey, (u64, u64)>>>,
    /// Where the clock of sample times starts.
    epoch: Instant,
    gauges: Mutex<HashMap<SeriesKey, Agg>>,
    builtin: Builtin,
    /// The number of the next [`Bundle`].
    next_bundle: AtomicU32,
    /// Keep every sample for a raw output (NDJSON); off unless asked for.
    raw: AtomicBool,
    raw_taken: Mutex<Vec<RawSample>>,
    /// Sampled series by name (`monitor:api.cpu`), shared with the latest snapshot.
    sampled: Mutex<Arc<BTreeMap<String, SampledStats>>>,
}

/// The registry of one run. Cheap to clone; every clone records into the same metrics.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

/// The handle the hot path records through (a registry clone).
pub type Recorder = Registry;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a metrics lock leaves plain numbers behind; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with k6's built-in metrics already defined.
    pub fn new() -> Registry {
        let mut defs = Vec::new();
        let builtin = Builtin::define(&mut defs);
        let mut interner = Interner::default();
        interner.intern(TagSet::default());
        Registry {
            inner: Arc::new(Inner {
                id: NEXT_REGISTRY.fetch_add(1, Ordering::Relaxed),
                metrics: RwLock::new(defs),
                tags: RwLock::new(interner),
                shards: Mutex::new(Vec::new()),
                cumulative: Mutex::new(Arc::new(BTreeMap::new())),
                seen: Mutex::new(Arc::new(BTreeMap::new())),
                epoch: Instant::now(),
                gauges: Mutex::new(HashMap::new()),
                builtin,
                next_bundle: AtomicU32::new(0),
                raw: AtomicBool::new(false),
                raw_taken: Mutex::new(Vec::new()),
                sampled: Mutex::new(Arc::new(BTreeMap::new())),
            }),
        }
    }

    /// When the registry was made: [`Snapshot::elapsed`] and [`Snapshot::first_last`] count
    /// from here.
    pub fn epoch(&self) -> Instant {
        self.inner.epoch
    }

    /// Ids of k6's built-in metrics.
    pub fn builtin(&self) -> &Builtin {
        &self.inner.builtin
    }

    /// Defines a metric (or returns the existing one of that name, if the kind agrees).
    pub fn define(&self, name: &str, kind: MetricKind, contains: ValueType) -> Option<MetricId> {
        let mut m = self
            .inner
            .metrics
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(i) = m.iter().position(|d| d.name == name) {
            return (m[i].kind == kind).then_some(MetricId(i as u32));
        }
        m.push(MetricDef {
            name: name.to_string(),
            kind,
            contains,
        });
        Some(MetricId(m.len() as u32 - 1))
    }

    /// Looks a metric up by name.
    pub fn metric(&self, name: &str) -> Option<(MetricId, MetricDef)> {
        let m = self.inner.metrics.read().unwrap_or_else(|e| e.into_inner());
        m.iter()
            .position(|d| d.name == name)
            .map(|i| (MetricId(i as u32), m[i].clone()))
    }

    fn kind_of(&self, id: MetricId) -> MetricKind {
        let m = self.inner.metrics.read().unwrap_or_else(|e| e.into_inner());
        m.get(id.0 as usize)
            .map(|d| d.kind)
            .unwrap_or(MetricKind::Counter)
    }

    /// Interns a tag set. Call this once per distinct set and cache the id; it takes a lock.
    pub fn intern(&self, tags: TagSet) -> TagSetId {
        let mut t = self.inner.tags.write().unwrap_or_else(|e| e.into_inner());
        t.intern(tags)
    }

    /// The tag set behind an id.
    pub fn tags(&self, id: TagSetId) -> Arc<TagSet> {
        let t = self.inner.tags.read().unwrap_or_else(|e| e.into_inner());
        t.sets.get(id.0 as usize).cloned().unwrap_or_default()
    }

    /// Records one sample into the calling thread's shard. Allocation-free once the series
    /// exists on this thread.
    #[inline]
    pub fn add(&self, metric: MetricId, tags: TagSetId, value: f64) {
        self.add_many(tags, &[(metric, value)]);
    }

    /// Records several samples with the same tags under one shard lock (one request's
    /// eleven HTTP samples, say). A fixed list recorded again and again is cheaper as a
    /// [`Bundle`] ([`Registry::add_bundle`]).
    #[inline]
    pub fn add_many(&self, tags: TagSetId, samples: &[(MetricId, f64)]) {
        self.with_data(|data, clock| {
            for &(metric, value) in samples {
                let key = SeriesKey { metric, tags };
                let i = data.slot_index(key, || self.new_slot(key, self.kind_of(metric)));
                clock.put(data, i, value);
            }
        })
    }

    /// A bundle of `metrics`, recorded together by [`Registry::add_bundle`]. Make it once
    /// (at load) and keep it.
    pub fn bundle(&self, metrics: &[MetricId]) -> Bundle {
        Bundle {
            registry: self.inner.id,
            id: self.inner.next_bundle.fetch_add(1, Ordering::Relaxed),
            metrics: metrics.iter().map(|&m| (m, self.kind_of(m))).collect(),
        }
    }

    /// Records `values[i]` into the bundle's `i`-th metric, all with `tags`, under one
    /// shard lock; a shorter `values` records only the first metrics. The same aggregates,
    /// failure times and raw samples as [`Registry::add_many`] with the same pairs, but the
    /// shard finds every series with one lookup per call (the slots of a (bundle, tag set)
    /// are remembered per thread, across collections).
    #[inline]
    pub fn add_bundle(&self, bundle: &Bundle, tags: TagSetId, values: &[f64]) {
        if bundle.registry != self.inner.id {
            // another registry's bundle: its number means nothing here
            return self.with_data(|data, clock| {
                for (&(metric, kind), &value) in bundle.metrics.iter().zip(values) {
                    let key = SeriesKey { metric, tags };
                    let i = data.slot_index(key, || self.new_slot(key, kind));
                    clock.put(data, i, value);
                }
            });
        }
        self.with_data(|data, clock| {
            let start = data.bundle_start(bundle.id, tags, bundle.metrics.len());
            for (j, (&(metric, kind), &value)) in bundle.metrics.iter().zip(values).enumerate() {
                let mut i = data.bundle_slots[start + j];
                if i == NO_SLOT {
                    let key = SeriesKey { metric, tags };
                    i = data.slot_index(key, || self.new_slot(key, kind));
                    data.bundle_slots[start + j] = i;
                }
                clock.put(data, i, value);
            }
        })
    }

    /// An empty slot for series `key`, of a metric of `kind`.
    fn new_slot(&self, key: SeriesKey, kind: MetricKind) -> Slot {
        Slot {
            key,
            agg: Tally::new(kind),
            timed: self.tags(key.tags).marks_failure(),
            first_ns: 0,
            last_ns: 0,
        }
    }

    /// Runs `f` on the calling thread's shard data, under its lock, with the clock of this
    /// call's samples.
    #[inline]
    fn with_data(&self, f: impl FnOnce(&mut ShardData, &mut SampleClock)) {
        with_shard(
            self.inner.id,
            || {
                let s = Arc::new(Shard::default());
                lock(&self.inner.shards).push(s.clone());
                s
            },
            |shard| {
                let raw = self.inner.raw.load(Ordering::Relaxed);
                let mut clock = SampleClock {
                    epoch: self.inner.epoch,
                    raw,
                    unix_ns: if raw {
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_nanos())
                            .unwrap_or(0)
                    } else {
                        0
                    },
                    now_ns: 0,
                };
                let mut guard = lock(&shard.series);
                f(&mut guard, &mut clock)
            },
        )
    }

    /// Starts keeping every sample for a raw output (batched once a second by
    /// [`Registry::take_raw`]). Off by default: raw samples cost memory per request.
    pub fn enable_raw(&self) {
        self.inner.raw.store(true, Ordering::SeqCst);
    }

    /// The raw samples gathered by the collections since the last call, in no particular
    /// order across threads.
    pub fn take_raw(&self) -> Vec<RawSample> {
        std::mem::take(&mut *lock(&self.inner.raw_taken))
    }

    /// Sets a gauge's value (gauges are set rarely: VU counts, not per request).
    pub fn set_gauge(&self, metric: MetricId, tags: TagSetId, value: f64) {
        let mut g = lock(&self.inner.gauges);
        g.entry(SeriesKey { metric, tags })
            .or_insert_with(|| Agg::new(MetricKind::Gauge))
            .add(value);
    }

    /// Records a value read from outside the load (a monitor's sample) `t` seconds into
    /// the run, under `name` (e.g. `monitor:api.cpu`). Off the hot path: takes a lock.
    pub fn record_sampled(&self, name: &str, t: f64, value: f64) {
        let mut g = lock(&self.inner.sampled);
        let map = Arc::make_mut(&mut g);
        match map.get_mut(name) {
            Some(s) => s.add(t, value),
            None => {
                let mut s = SampledStats::default();
                s.add(t, value);
                map.insert(name.to_string(), s);
            }
        }
    }

    /// Folds every shard into the cumulative aggregates and returns a snapshot of them.
    /// Call about once a second (and at the end).
    pub fn collect(&self) -> Snapshot {
        let shards: Vec<Arc<Shard>> = lock(&self.inner.shards).clone();
        let mut guard = lock(&self.inner.cumulative);
        // copy-on-write: no copy when the previous snapshot has been dropped, so memory
        // does not churn once a second for the whole run
        let cum = Arc::make_mut(&mut guard);
        // what arrived since the last collection (for per-second series and phases)
        let mut interval: BTreeMap<SeriesKey, Agg> = BTreeMap::new();
        let mut seen_guard = lock(&self.inner.seen);
        let seen = Arc::make_mut(&mut seen_guard);
        let mut raw_taken = lock(&self.inner.raw_taken);
        for shard in shards {
            let mut data = lock(&shard.series);
            raw_taken.append(&mut data.raw);
            for slot in data.slots.iter_mut() {
                if slot.first_ns != 0 {
                    let e = seen
                        .entry(slot.key)
                        .or_insert((slot.first_ns, slot.last_ns));
                    e.0 = e.0.min(slot.first_ns);
                    e.1 = e.1.max(slot.last_ns);
                    slot.first_ns = 0;
                    slot.last_ns = 0;
                }
                let (key, tally) = (&slot.key, &mut slot.agg);
                if tally.is_empty() {
                    continue;
                }
                let kind = tally.kind();
                tally.drain_into(
                    cum.entry(*key).or_insert_with(|| Agg::new(kind)),
                    interval.entry(*key).or_insert_with(|| Agg::new(kind)),
                );
            }
        }
        for (k, g) in lock(&self.inner.gauges).iter() {
            cum.insert(*k, g.clone());
        }
        drop(raw_taken);
        let taken_ns = self.inner.epoch.elapsed().as_nanos() as u64;
        let seen = seen_guard.clone();
        drop(seen_guard);
        let series = guard.clone();
        drop(guard);
        let metrics = self
            .inner
            .metrics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let tag_sets = self
            .inner
            .tags
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .sets
            .clone();
        let sampled = lock(&self.inner.sampled).clone();
        Snapshot::new(metrics, tag_sets, series, Arc::new(interval))
            .with_times(seen, taken_ns)
            .with_sampled(sampled)
    }
}

/// The times of one call's samples: a failure series' time is read once per call, and
/// only when such a series is recorded; the Unix time only when raw output is on.
struct SampleClock {
    epoch: Instant,
    raw: bool,
    /// Unix time of the call, ns (0 when raw output is off).
    unix_ns: u128,
    /// Nanoseconds since `epoch`, read at the first failure sample (0 until then).
    now_ns: u64,
}

impl SampleClock {
    /// Adds `value` to slot `i` (and keeps its time or raw sample as needed).
    #[inline(always)]
    fn put(&mut self, data: &mut ShardData, i: u32, value: f64) {
        let Some(slot) = data.slots.get_mut(i as usize) else {
            return;
        };
        slot.agg.add(value);
        if slot.timed {
            if self.now_ns == 0 {
                self.now_ns = (self.epoch.elapsed().as_nanos() as u64).max(1);
            }
            slot.seen_at(self.now_ns);
        }
        if self.raw {
            let key = slot.key;
            data.raw.push(RawSample {
                time_ns: self.unix_ns,
                key,
                value,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_from_many_threads_merge_exactly() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::new([("name", "x")]));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let reg = reg.clone();
                std::thread::spawn(move || {
                    for j in 0..1000 {
                        reg.add(b.http_reqs, t, 1.0);
                        reg.add(b.http_req_duration, t, (i * 1000 + j) as f64);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let s = reg.collect();
        assert_eq!(
            s.aggregate("http_reqs", &[]).map(|a| a.count()),
            Some(4000.0)
        );
        let d = s.aggregate("http_req_duration", &[]).expect("trend");
        let t = d.trend().expect("trend");
        assert_eq!(t.count, 4000);
        assert_eq!(t.max, 3999.0);
        // collecting again changes nothing
        let s2 = reg.collect();
        assert_eq!(
            s2.aggregate("http_reqs", &[]).map(|a| a.count()),
            Some(4000.0)
        );
    }

    #[test]
    fn failure_series_keep_their_first_and_last_sample_times() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let ok = reg.intern(TagSet::new([("expected_response", "true")]));
        let bad = reg.intern(TagSet::new([("expected_response", "false")]));
        let key = SeriesKey {
            metric: b.http_reqs,
            tags: bad,
        };
        reg.add(b.http_reqs, ok, 1.0);
        let t0 = reg.epoch().elapsed();
        reg.add_many(bad, &[(b.http_reqs, 1.0), (b.http_req_failed, 1.0)]);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let t1 = reg.epoch().elapsed();
        reg.add(b.http_reqs, bad, 1.0);
        let t2 = reg.epoch().elapsed();
        let s = reg.collect();
        let (first, last) = s.first_last(&key).expect("times kept");
        assert!(t0 <= first && first <= t1 && t1 <= last && last <= t2);
        assert!(last - first >= std::time::Duration::from_millis(30));
        assert!(s.elapsed() >= t2);
        assert_eq!(
            s.first_last(&SeriesKey {
                metric: b.http_reqs,
                tags: ok
            }),
            None
        );
        // one clock read per call: the failed-rate sample shares the request's time
        let failed = SeriesKey {
            metric: b.http_req_failed,
            tags: bad,
        };
        assert_eq!(s.first_last(&failed).map(|x| x.0), Some(first));
        // cumulative across collections; a later sample moves only the last time
        assert_eq!(reg.collect().first_last(&key), Some((first, last)));
        std::thread::sleep(std::time::Duration::from_millis(5));
        reg.add(b.http_reqs, bad, 1.0);
        let (f2, l2) = reg.collect().first_last(&key).expect("times");
        assert_eq!(f2, first);
        assert!(l2 > last);
    }

    #[test]
    fn gauges_keep_last_min_max() {
        let reg = Registry::new();
        let vus = reg.builtin().vus;
        for v in [1.0, 5.0, 3.0] {
            reg.set_gauge(vus, TagSetId(0), v);
        }
        match reg.collect().aggregate("vus", &[]) {
            Some(Agg::Gauge { value, min, max }) => assert_eq!((value, min, max), (3.0, 1.0, 5.0)),
            other => panic!("{other:?}"),
        }
    }
}
