//! What a shard accumulates between two collections: counters, gauges and rates as their
//! [`Agg`], trends as a [`TrendTally`] — a flat array of bucket counts laid out as the HDR
//! histogram of a [`TrendAgg`] (3 significant digits), indexed with a few shifts instead
//! of a call into `hdrhistogram` per sample. A collection replays the touched buckets into
//! the cumulative and per-interval histograms, which come out exactly as if every sample
//! had been recorded into them directly (same counts, same min and max equivalents).
use crate::agg::{round_half_up, Agg, TrendAgg, TREND_SCALE};
use crate::MetricKind;

/// Sub-buckets in each bucket (2^11: 3 significant digits, as `Histogram::new(3)`).
const SUB_BUCKET_MAGNITUDE: u32 = 11;
/// Half of them: every bucket past the first uses only its upper half.
const HALF_MAGNITUDE: u32 = SUB_BUCKET_MAGNITUDE - 1;
const HALF_COUNT: u64 = 1 << HALF_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = (1 << SUB_BUCKET_MAGNITUDE) - 1;

/// The bucket-count index of `v` in a `Histogram::new(3)` (lowest discernible value 1).
#[inline]
pub(crate) fn index_of(v: u64) -> usize {
    let bucket = (64 - SUB_BUCKET_MAGNITUDE) - (v | SUB_BUCKET_MASK).leading_zeros();
    let sub = v >> bucket;
    (((bucket as u64 + 1) << HALF_MAGNITUDE) + sub - HALF_COUNT) as usize
}

/// The lowest value counted at index `i` (the inverse of [`index_of`]).
pub(crate) fn value_of(i: usize) -> u64 {
    let i = i as u64;
    let bucket = (i >> HALF_MAGNITUDE) as i64 - 1;
    let sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        sub - HALF_COUNT
    } else {
        sub << bucket
    }
}

/// `round_half_up(v * TREND_SCALE)` for a finite `v >= 0`, through a signed conversion
/// (one instruction) when the product fits in an `i64` — every latency does.
#[inline(always)]
fn scale(v: f64) -> u64 {
    let x = v * TREND_SCALE;
    if x < 9.0e18 {
        let i = x as i64;
        (i + (x - i as f64 >= 0.5) as i64) as u64
    } else {
        round_half_up(x)
    }
}

/// A trend's samples since the last collection.
#[derive(Debug, Default)]
pub(crate) struct TrendTally {
    /// Samples per bucket, as the histogram's counts (grown on demand).
    counts: Vec<u64>,
    /// The lowest and highest index counted since the last collection.
    lo: usize,
    hi: usize,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl TrendTally {
    fn new() -> Self {
        TrendTally {
            counts: Vec::new(),
            lo: usize::MAX,
            hi: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one sample, as [`TrendAgg::record`] does.
    #[inline(always)]
    fn record(&mut self, v: f64) {
        // NaN, infinities and negative values count as 0 (`is_finite() && v > 0.0`)
        let v = if v > 0.0 && v < f64::INFINITY { v } else { 0.0 };
        let i = index_of(scale(v));
        match self.counts.get_mut(i) {
            Some(c) => *c += 1,
            None => self.grow(i),
        }
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
        self.count += 1;
        self.sum += v;
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
    }

    /// Counts a first sample at an index past the array.
    #[cold]
    fn grow(&mut self, i: usize) {
        self.counts.resize(i + 1, 0);
        self.counts[i] = 1;
    }

    /// Folds the samples into `cum` and `interval` and empties the tally (keeping its
    /// array).
    fn drain_into(&mut self, cum: &mut TrendAgg, interval: &mut TrendAgg) {
        if self.count == 0 {
            return;
        }
        let hi = self.hi.min(self.counts.len().saturating_sub(1));
        for i in self.lo..=hi {
            let n = std::mem::take(&mut self.counts[i]);
            if n != 0 {
                let v = value_of(i);
                // auto-resizing histograms take any u64
                let _ = cum.hist.record_n(v, n);
                let _ = interval.hist.record_n(v, n);
            }
        }
        for t in [cum, interval] {
            t.count += self.count;
            t.sum += self.sum;
            t.min = t.min.min(self.min);
            t.max = t.max.max(self.max);
        }
        let counts = std::mem::take(&mut self.counts);
        *self = TrendTally {
            counts,
            ..TrendTally::new()
        };
    }
}

/// One series' accumulation in a shard.
#[derive(Debug)]
pub(crate) enum Tally {
    /// A counter, gauge or rate: its aggregate.
    Plain(Agg),
    /// A trend (kept inline: one pointer less to follow per sample).
    Trend(TrendTally),
}

impl Tally {
    /// An empty tally of a metric of `kind`.
    pub(crate) fn new(kind: MetricKind) -> Tally {
        match kind {
            MetricKind::Trend => Tally::Trend(TrendTally::new()),
            k => Tally::Plain(Agg::new(k)),
        }
    }

    /// Adds one sample.
    #[inline(always)]
    pub(crate) fn add(&mut self, v: f64) {
        match self {
            Tally::Plain(a) => a.add(v),
            Tally::Trend(t) => t.record(v),
        }
    }

    /// Whether nothing was added since the last [`Tally::drain_into`].
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Tally::Plain(a) => a.is_empty(),
            Tally::Trend(t) => t.count == 0,
        }
    }

    /// The metric kind.
    pub(crate) fn kind(&self) -> MetricKind {
        match self {
            Tally::Plain(a) => a.kind(),
            Tally::Trend(_) => MetricKind::Trend,
        }
    }

    /// Folds what was added into the cumulative and per-interval aggregates (of the same
    /// kind) and empties the tally.
    pub(crate) fn drain_into(&mut self, cum: &mut Agg, interval: &mut Agg) {
        match (self, cum, interval) {
            (Tally::Trend(t), Agg::Trend(c), Agg::Trend(i)) => t.drain_into(c, i),
            (Tally::Plain(a), c, i) => {
                c.merge(a);
                i.merge(a);
                a.reset();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values across every bucket magnitude, with the edges of buckets.
    fn values() -> Vec<u64> {
        let mut v: Vec<u64> = (0..5000).collect();
        for shift in 0..64 {
            let p = 1u64 << shift;
            v.extend([p.saturating_sub(1), p, p.saturating_add(1), p | (p >> 1)]);
            v.extend((0..50).map(|k| p.saturating_add(k * 7919 % p.max(1))));
        }
        v.push(u64::MAX);
        v
    }

    #[test]
    fn scaling_rounds_as_the_histogram_recording_does() {
        let mut x = 1e-7f64;
        while x < 1e20 {
            for v in [
                x,
                x * 1.000_000_3,
                x + 0.0005,
                x - 0.0005,
                (x * 0.37).floor() + 0.0005,
            ] {
                if v >= 0.0 {
                    assert_eq!(scale(v), (v * TREND_SCALE).round() as u64, "{v}");
                }
            }
            x *= 1.09;
        }
        for i in 0..200_000u64 {
            let v = i as f64 * 0.0005;
            assert_eq!(scale(v), (v * TREND_SCALE).round() as u64, "{v}");
        }
        assert_eq!(scale(f64::MAX), u64::MAX);
    }

    #[test]
    fn indexes_are_the_histograms_own() {
        let h = TrendAgg::new().hist;
        for v in values() {
            let i = index_of(v);
            assert_eq!(value_of(i), h.lowest_equivalent(v), "{v}");
            assert_eq!(index_of(value_of(i)), i, "{v}");
        }
    }

    #[test]
    fn a_drained_tally_equals_recording_into_histograms() {
        // what a shard did before tallies: a TrendAgg per interval, merged
        let (mut old_cum, mut old_shard) = (TrendAgg::new(), TrendAgg::new());
        let mut cum = Agg::new(MetricKind::Trend);
        let mut tally = Tally::new(MetricKind::Trend);
        let mut seed = 99u64;
        for round in 0..3 {
            for k in 0..20_000u64 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let v = match k % 4 {
                    0 => 0.0,
                    1 => (seed >> 40) as f64 / 1000.0,
                    2 => (seed >> 20) as f64 * 1.7,
                    _ => -1.0 + (round as f64),
                };
                old_shard.record(v);
                tally.add(v);
            }
            let mut interval = Agg::new(MetricKind::Trend);
            tally.drain_into(&mut cum, &mut interval);
            assert!(tally.is_empty());
            let mut old_interval = TrendAgg::new();
            old_interval.merge(&old_shard);
            old_cum.merge(&old_shard);
            old_shard.reset();
            for (got, want) in [(&cum, &old_cum), (&interval, &old_interval)] {
                let got = got.trend().expect("trend");
                assert!(got.hist == want.hist, "round {round}");
                assert_eq!(got.hist.max(), want.hist.max());
                assert_eq!(got.hist.min_nz(), want.hist.min_nz());
                assert_eq!(got.hist.len(), want.hist.len());
                assert_eq!(
                    (got.count, got.sum.to_bits(), got.min, got.max),
                    (want.count, want.sum.to_bits(), want.min, want.max)
                );
                for p in [50.0, 90.0, 95.0, 99.0, 99.9] {
                    assert_eq!(got.percentile(p), want.percentile(p));
                }
            }
        }
    }
}
