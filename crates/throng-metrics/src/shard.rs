//! Per-thread recording shards.
//!
//! Each thread that records into a registry gets its own shard, found through a
//! thread-local list. Only that thread and the once-a-second aggregator ever take the
//! shard's lock, so it is uncontended on the hot path.
use crate::snapshot::SeriesKey;
use crate::tags::TagSetId;
use crate::tally::Tally;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

/// A hasher for the packed `u64` series key: one multiply, no SipHash rounds.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// One raw sample, kept only when a raw output (NDJSON) is enabled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawSample {
    /// Unix time, nanoseconds.
    pub time_ns: u128,
    /// The series.
    pub key: SeriesKey,
    /// The value.
    pub value: f64,
}

/// One thread's aggregates (and raw samples, if enabled) since the last collection.
#[derive(Default)]
pub(crate) struct Shard {
    pub(crate) series: Mutex<ShardData>,
}

/// One series in a shard: its aggregate and, for a failure series (see
/// [`crate::TagSet::marks_failure`]), when its first and last sample since the last
/// collection arrived.
pub(crate) struct Slot {
    pub(crate) key: SeriesKey,
    pub(crate) agg: Tally,
    /// Whether first/last times are kept (decided once, when the slot is made).
    pub(crate) timed: bool,
    /// Nanoseconds since the registry's epoch of the first sample since the last
    /// collection; 0 when none.
    pub(crate) first_ns: u64,
    /// Same, of the last sample.
    pub(crate) last_ns: u64,
}

impl Slot {
    /// Notes a sample at `now_ns` (nanoseconds since the epoch, at least 1).
    #[inline]
    pub(crate) fn seen_at(&mut self, now_ns: u64) {
        if self.first_ns == 0 {
            self.first_ns = now_ns;
        }
        self.last_ns = now_ns;
    }
}

/// Marks a bundle position whose slot is not made yet.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// What a shard holds. Slots live in one `Vec` and never move to another index, so an
/// index found once (through `index`, or cached per bundle in `bundle_slots`) stays valid:
/// a collection empties the aggregates in place and keeps the slots.
#[derive(Default)]
pub(crate) struct ShardData {
    /// Every series this thread has recorded into.
    pub(crate) slots: Vec<Slot>,
    /// Series key ([`SeriesKey::packed`]) → index into `slots`.
    index: KeyMap<u32>,
    /// (bundle id, tag set) → where its slot indices start in `bundle_slots`.
    bundles: KeyMap<u32>,
    /// The slot index of each metric of each (bundle, tag set) seen, [`NO_SLOT`] until
    /// the first sample of that metric.
    pub(crate) bundle_slots: Vec<u32>,
    /// The last (bundle, tag set) key looked up and its start in `bundle_slots`: a thread
    /// mostly records the same request's outcome again.
    last_bundle: Option<(u64, u32)>,
    pub(crate) raw: Vec<RawSample>,
}

impl ShardData {
    /// The slot of series `key`, made by `make` on its first sample on this thread.
    #[inline]
    pub(crate) fn slot_index(&mut self, key: SeriesKey, make: impl FnOnce() -> Slot) -> u32 {
        let slots = &mut self.slots;
        *self.index.entry(key.packed()).or_insert_with(|| {
            slots.push(make());
            slots.len() as u32 - 1
        })
    }

    /// Where the slot indices of (bundle `id`, `tags`) start in `bundle_slots`, reserving
    /// `len` of them (all [`NO_SLOT`]) on first use.
    #[inline]
    pub(crate) fn bundle_start(&mut self, id: u32, tags: TagSetId, len: usize) -> usize {
        let key = ((id as u64) << 32) | tags.0 as u64;
        if let Some((k, start)) = self.last_bundle {
            if k == key {
                return start as usize;
            }
        }
        let all = &mut self.bundle_slots;
        let start = *self.bundles.entry(key).or_insert_with(|| {
            let start = all.len() as u32;
            all.resize(all.len() + len, NO_SLOT);
            start
        });
        self.last_bundle = Some((key, start));
        start as usize
    }
}

thread_local! {
    static SHARDS: RefCell<Vec<(u64, Arc<Shard>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the calling thread's shard of registry `reg_id`, creating it with
/// `make` on the first use from this thread.
#[inline]
pub(crate) fn with_shard<R>(
    reg_id: u64,
    make: impl FnOnce() -> Arc<Shard>,
    f: impl FnOnce(&Shard) -> R,
) -> R {
    SHARDS.with(|cell| {
        let mut list = cell.borrow_mut();
        if let Some((_, s)) = list.iter().find(|(id, _)| *id == reg_id) {
            return f(s);
        }
        // Forget shards of registries that are gone (only this list still holds them).
        list.retain(|(_, s)| Arc::strong_count(s) > 1);
        let s = make();
        list.push((reg_id, s.clone()));
        f(&s)
    })
}
