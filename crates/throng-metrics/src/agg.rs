//! Aggregates: what a series accumulates. All of them merge exactly.
use crate::MetricKind;
use hdrhistogram::Histogram;

/// Trend values are stored in the histogram as integers of this many units per value unit
/// (so milliseconds are kept to the microsecond).
pub const TREND_SCALE: f64 = 1000.0;

/// A distribution: an HDR histogram (3 significant digits) plus exact count, sum, min and max.
#[derive(Clone, Debug)]
pub struct TrendAgg {
    /// Values scaled by [`TREND_SCALE`].
    pub hist: Histogram<u64>,
    /// Number of samples.
    pub count: u64,
    /// Exact sum of the samples.
    pub sum: f64,
    /// Exact smallest sample (`+inf` when empty).
    pub min: f64,
    /// Exact largest sample (`-inf` when empty).
    pub max: f64,
}

impl Default for TrendAgg {
    fn default() -> Self {
        Self::new()
    }
}

impl TrendAgg {
    /// An empty trend.
    pub fn new() -> Self {
        // 3 significant digits, auto-resizing so any value fits.
        let mut hist = match Histogram::new(3) {
            Ok(h) => h,
            Err(_) => unreachable_histogram(),
        };
        hist.auto(true);
        TrendAgg {
            hist,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one sample.
    #[inline]
    pub fn record(&mut self, v: f64) {
        let v = if v.is_finite() && v > 0.0 { v } else { 0.0 };
        let scaled = round_half_up(v * TREND_SCALE);
        // auto-resize makes this infallible for any u64 value
        let _ = self.hist.record(scaled);
        self.count += 1;
        self.sum += v;
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
    }

    /// Folds another trend into this one, exactly.
    pub fn merge(&mut self, o: &TrendAgg) {
        if o.count == 0 {
            return;
        }
        let _ = self.hist.add(&o.hist);
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Empties the trend, keeping its allocation.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.sum = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
    }

    /// Mean, or 0 when empty.
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    /// The `p`-th percentile (0–100); the exact min and max at the ends, 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        if p <= 0.0 {
            return self.min;
        }
        if p >= 100.0 {
            return self.max;
        }
        let v = self.hist.value_at_quantile(p / 100.0) as f64 / TREND_SCALE;
        v.clamp(self.min, self.max)
    }

    /// Smallest sample, or 0 when empty.
    pub fn min_or_zero(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.min
        }
    }

    /// Largest sample, or 0 when empty.
    pub fn max_or_zero(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.max
        }
    }
}

/// `x.round() as u64` for a finite `x >= 0`, without a call into libm: the integer part
/// by truncation, plus one when the fraction (exact: `x - trunc(x)` always is) is at least
/// one half. Beyond 2^53 every float is an integer; beyond `u64::MAX` both saturate.
#[inline]
pub(crate) fn round_half_up(x: f64) -> u64 {
    let i = x as u64;
    if x - i as f64 >= 0.5 {
        i.saturating_add(1)
    } else {
        i
    }
}

fn unreachable_histogram() -> Histogram<u64> {
    // Histogram::new(3) only fails for sigfig > 5; fall back to the lowest valid precision.
    match Histogram::new(2) {
        Ok(h) => h,
        Err(_) => std::process::abort(),
    }
}

/// One series' aggregate.
#[derive(Clone, Debug)]
pub enum Agg {
    /// A counter's sum.
    Counter {
        /// Sum of added values.
        sum: f64,
    },
    /// A gauge's last, smallest and largest value.
    Gauge {
        /// Latest value.
        value: f64,
        /// Smallest value set.
        min: f64,
        /// Largest value set.
        max: f64,
    },
    /// A rate: how many samples were non-zero out of all.
    Rate {
        /// Non-zero samples.
        trues: u64,
        /// All samples.
        total: u64,
    },
    /// A distribution.
    Trend(Box<TrendAgg>),
}

impl Agg {
    /// An empty aggregate of the given kind.
    pub fn new(kind: MetricKind) -> Agg {
        match kind {
            MetricKind::Counter => Agg::Counter { sum: 0.0 },
            MetricKind::Gauge => Agg::Gauge {
                value: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            },
            MetricKind::Rate => Agg::Rate { trues: 0, total: 0 },
            MetricKind::Trend => Agg::Trend(Box::default()),
        }
    }

    /// The kind of this aggregate.
    pub fn kind(&self) -> MetricKind {
        match self {
            Agg::Counter { .. } => MetricKind::Counter,
            Agg::Gauge { .. } => MetricKind::Gauge,
            Agg::Rate { .. } => MetricKind::Rate,
            Agg::Trend(_) => MetricKind::Trend,
        }
    }

    /// Adds one sample.
    #[inline]
    pub fn add(&mut self, v: f64) {
        match self {
            Agg::Counter { sum } => *sum += v,
            Agg::Gauge { value, min, max } => {
                *value = v;
                *min = min.min(v);
                *max = max.max(v);
            }
            Agg::Rate { trues, total } => {
                *total += 1;
                if v != 0.0 {
                    *trues += 1;
                }
            }
            Agg::Trend(t) => t.record(v),
        }
    }

    /// Folds `o` (a later interval of the same series) into this aggregate.
    pub fn merge(&mut self, o: &Agg) {
        match (self, o) {
            (Agg::Counter { sum }, Agg::Counter { sum: s }) => *sum += s,
            (
                Agg::Gauge { value, min, max },
                Agg::Gauge {
                    value: v,
                    min: mi,
                    max: ma,
                },
            ) if mi.is_finite() => {
                *value = *v;
                *min = min.min(*mi);
                *max = max.max(*ma);
            }
            (Agg::Rate { trues, total }, Agg::Rate { trues: t, total: n }) => {
                *trues += t;
                *total += n;
            }
            (Agg::Trend(a), Agg::Trend(b)) => a.merge(b),
            _ => {}
        }
    }

    /// Empties the aggregate in place, keeping allocations.
    pub fn reset(&mut self) {
        match self {
            Agg::Counter { sum } => *sum = 0.0,
            Agg::Gauge { min, max, .. } => {
                *min = f64::INFINITY;
                *max = f64::NEG_INFINITY;
            }
            Agg::Rate { trues, total } => {
                *trues = 0;
                *total = 0;
            }
            Agg::Trend(t) => t.reset(),
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        match self {
            Agg::Counter { sum } => *sum == 0.0,
            Agg::Gauge { min, .. } => !min.is_finite(),
            Agg::Rate { total, .. } => *total == 0,
            Agg::Trend(t) => t.count == 0,
        }
    }

    /// The counter's sum (or a rate's non-zero count, a trend's sample count).
    pub fn count(&self) -> f64 {
        match self {
            Agg::Counter { sum } => *sum,
            Agg::Gauge { value, .. } => *value,
            Agg::Rate { trues, .. } => *trues as f64,
            Agg::Trend(t) => t.count as f64,
        }
    }

    /// The trend inside, if this is one.
    pub fn trend(&self) -> Option<&TrendAgg> {
        match self {
            Agg::Trend(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_percentiles_are_close_and_ends_exact() {
        let mut t = TrendAgg::new();
        for i in 1..=1000 {
            t.record(i as f64);
        }
        assert_eq!(t.count, 1000);
        assert_eq!(t.min, 1.0);
        assert_eq!(t.max, 1000.0);
        assert!((t.avg() - 500.5).abs() < 1e-9);
        let p95 = t.percentile(95.0);
        assert!((p95 - 950.0).abs() <= 1.0, "{p95}");
        assert_eq!(t.percentile(100.0), 1000.0);
    }

    #[test]
    fn merging_equals_recording_together() {
        let mut a = TrendAgg::new();
        let mut b = TrendAgg::new();
        let mut all = TrendAgg::new();
        for i in 0..500 {
            let v = (i * 7 % 311) as f64 + 0.5;
            if i % 2 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            all.record(v);
        }
        a.merge(&b);
        assert_eq!(a.count, all.count);
        assert_eq!(a.percentile(99.0), all.percentile(99.0));
        assert_eq!(a.percentile(50.0), all.percentile(50.0));
    }

    #[test]
    fn rounding_is_f64_round() {
        let mut cases = vec![
            0.0,
            0.4,
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            1e15 + 0.5,
            4503599627370495.5,
            9007199254740993.0,
            1.8446744073709552e19,
            1e30,
            f64::MAX,
        ];
        let mut x = 0.001f64;
        while x < 1e12 {
            cases.extend([x, x * 1.000_000_1, x + 0.5, (x * 997.0).fract() + x.floor()]);
            x *= 1.37;
        }
        for i in 0..100_000u64 {
            cases.push(i as f64 * 0.001 * TREND_SCALE);
            cases.push(i as f64 / 7.0 * TREND_SCALE);
        }
        for c in cases {
            assert_eq!(round_half_up(c), c.round() as u64, "{c}");
        }
    }

    #[test]
    fn rate_counts_non_zero() {
        let mut r = Agg::new(MetricKind::Rate);
        r.add(1.0);
        r.add(0.0);
        r.add(1.0);
        match r {
            Agg::Rate { trues, total } => assert_eq!((trues, total), (2, 3)),
            _ => unreachable!(),
        }
    }
}
