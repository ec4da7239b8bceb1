//! Bounded time series: full 1 s resolution for a recent window, older seconds rolled up into
//! coarser buckets, so a series holds at most [`MAX_POINTS`] points however long the run.
//!
//! Every tier is fed with each second as it arrives (not built from the finer tier), so a
//! rolled-up bucket is exact: its counts are the sums of its seconds and its latency
//! percentiles come from the merge of its seconds' HDR histograms. Only the histogram of
//! the one bucket still filling in each tier is kept, as sparse `(value, count)` pairs.
//!
//! | tier | bucket | kept | reaches back |
//! |---|---|---|---|
//! | 0 | 1 s | the last 900–960 points | 15 min |
//! | 1 | 10 s | the last 540 | 90 min |
//! | 2 | 60 s | the last 1,440 | 24 h |
//! | 3 | 1 h, then wider | 720 | the whole run |
//!
//! The series drawn is stitched from the coarsest tier to the finest, each tier taking only
//! the time the finer ones no longer hold, so it covers the whole run without overlap. When
//! tier 3 fills (after 30 days) its two adjacent buckets of the smallest joint width are
//! merged: their counts still add exactly, but without their histograms their percentiles
//! become the larger of the two (an upper bound of the merged percentile).
use std::collections::VecDeque;
use throng_metrics::TrendAgg;

/// Tiers: (bucket width in seconds, buckets kept).
pub const TIERS: [(u64, usize); 4] = [(1, 900), (10, 540), (60, 1440), (3600, 720)];

/// Tier 0 drops its oldest seconds in chunks of this many (so its points stay one slice).
const CHUNK: usize = 60;

/// The most points a series holds: tier 0 just before it drops a chunk (959), every other
/// tier full plus the bucket still filling (541 + 1,441 + 721). What is drawn is fewer.
pub const MAX_POINTS: usize = (900 + CHUNK - 1) + (540 + 1) + (1440 + 1) + (720 + 1);

/// A latency distribution in a form that merges exactly and costs memory only per distinct
/// HDR bucket: `(value at the top of its bucket, count)` sorted by value, with the exact
/// count, sum, min and max.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Dist {
    bins: Vec<(u64, u64)>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Dist {
    /// The distribution of a trend.
    pub(crate) fn of(t: Option<&TrendAgg>) -> Dist {
        match t {
            Some(t) if t.count > 0 => Dist {
                bins: t
                    .hist
                    .iter_recorded()
                    .map(|v| (v.value_iterated_to(), v.count_at_value()))
                    .collect(),
                count: t.count,
                sum: t.sum,
                min: t.min,
                max: t.max,
            },
            _ => Dist::default(),
        }
    }

    /// Folds `o` in.
    pub(crate) fn merge(&mut self, o: &Dist) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o.clone();
            return;
        }
        let mut out = Vec::with_capacity(self.bins.len().max(o.bins.len()));
        let (mut i, mut j) = (0, 0);
        while i < self.bins.len() || j < o.bins.len() {
            match (self.bins.get(i), o.bins.get(j)) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    out.push((a.0, a.1 + b.1));
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    out.push(*a);
                    i += 1;
                }
                (Some(a), None) => {
                    out.push(*a);
                    i += 1;
                }
                (_, Some(b)) => {
                    out.push(*b);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        self.bins = out;
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Loads the distribution into `t` (reset first) to read percentiles; `None` when empty.
    pub(crate) fn load<'a>(&self, t: &'a mut TrendAgg) -> Option<&'a TrendAgg> {
        t.reset();
        if self.count == 0 {
            return None;
        }
        for (v, n) in &self.bins {
            // auto-resizing: recording cannot fail for any u64
            let _ = t.hist.record_n(*v, *n);
        }
        t.count = self.count;
        t.sum = self.sum;
        t.min = self.min;
        t.max = self.max;
        Some(t)
    }
}

/// A point of a series that can be rolled up.
pub(crate) trait Roll: Clone {
    /// Folds a later point of the same series in: counts add, "so far" and "at the end"
    /// figures come from `later`, spans add.
    fn absorb(&mut self, later: &Self);
    /// Sets the latency figures from the bucket's merged distribution.
    fn set_latency(&mut self, d: Option<&TrendAgg>);
    /// Latency figures of two merged buckets without their histograms: the larger of each
    /// (an upper bound).
    fn bound_latency(&mut self, other: &Self);
}

struct Done<P> {
    from: u64,
    to: u64,
    p: P,
}

struct Open<P> {
    id: u64,
    p: P,
    dist: Dist,
}

struct Level<P> {
    width: u64,
    keep: usize,
    done: VecDeque<Done<P>>,
    dropped: bool,
    open: Option<Open<P>>,
}

/// One series kept in tiers.
pub(crate) struct Tiers<P> {
    /// Tier 0: the recent seconds, and the second each belongs to.
    recent: Vec<P>,
    recent_at: Vec<u64>,
    recent_dropped: bool,
    levels: Vec<Level<P>>,
}

impl<P: Roll> Default for Tiers<P> {
    fn default() -> Self {
        Tiers {
            recent: Vec::new(),
            recent_at: Vec::new(),
            recent_dropped: false,
            levels: TIERS[1..]
                .iter()
                .map(|(width, keep)| Level {
                    width: *width,
                    keep: *keep,
                    done: VecDeque::new(),
                    dropped: false,
                    open: None,
                })
                .collect(),
        }
    }
}

impl<P: Roll> Tiers<P> {
    /// The recent 1 s points, oldest first.
    pub(crate) fn recent(&self) -> &[P] {
        &self.recent
    }

    /// Points held now, in every tier (what memory holds).
    pub(crate) fn held(&self) -> usize {
        self.recent.len()
            + self
                .levels
                .iter()
                .map(|l| l.done.len() + usize::from(l.open.is_some()))
                .sum::<usize>()
    }

    /// Adds the point of second `sec` (counted from the start) with its latency
    /// distribution. `scratch` is reused to read percentiles of closing buckets.
    pub(crate) fn push(&mut self, sec: u64, p: P, dist: &Dist, scratch: &mut TrendAgg) {
        let last = self.levels.len().saturating_sub(1);
        for (k, lvl) in self.levels.iter_mut().enumerate() {
            let id = sec / lvl.width;
            if let Some(o) = lvl.open.as_mut().filter(|o| o.id == id) {
                o.p.absorb(&p);
                o.dist.merge(dist);
                continue;
            }
            if let Some(o) = lvl.open.take() {
                let mut done = o.p;
                done.set_latency(o.dist.load(scratch));
                lvl.done.push_back(Done {
                    from: o.id * lvl.width,
                    to: (o.id + 1) * lvl.width,
                    p: done,
                });
                if lvl.done.len() > lvl.keep {
                    if k == last {
                        merge_narrowest(&mut lvl.done);
                    } else {
                        lvl.done.pop_front();
                        lvl.dropped = true;
                    }
                }
            }
            lvl.open = Some(Open {
                id,
                p: p.clone(),
                dist: dist.clone(),
            });
        }
        self.recent.push(p);
        self.recent_at.push(sec);
        if self.recent.len() >= TIERS[0].1 + CHUNK {
            self.recent.drain(..CHUNK);
            self.recent_at.drain(..CHUNK);
            self.recent_dropped = true;
        }
    }

    /// The whole run, coarse where old and fine where recent, without overlap.
    pub(crate) fn stitched(&self) -> Vec<P> {
        let mut parts: Vec<Vec<P>> = Vec::new();
        let next_width = self.levels.first().map(|l| l.width).unwrap_or(1);
        let start = if self.recent_dropped {
            align_up(self.recent_at.first().copied().unwrap_or(0), next_width)
        } else {
            0
        };
        parts.push(
            self.recent
                .iter()
                .zip(&self.recent_at)
                .filter(|(_, s)| **s >= start)
                .map(|(p, _)| p.clone())
                .collect(),
        );
        let mut boundary = start;
        let mut needed = self.recent_dropped;
        for (k, lvl) in self.levels.iter().enumerate() {
            if !needed {
                break;
            }
            let start = match (lvl.dropped, self.levels.get(k + 1)) {
                (true, Some(coarser)) => {
                    align_up(lvl.done.front().map(|d| d.from).unwrap_or(0), coarser.width)
                }
                _ => 0,
            };
            parts.push(
                lvl.done
                    .iter()
                    .filter(|d| d.from >= start && d.to <= boundary)
                    .map(|d| d.p.clone())
                    .collect(),
            );
            boundary = start;
            needed = lvl.dropped;
        }
        parts.into_iter().rev().flatten().collect()
    }
}

fn align_up(v: u64, w: u64) -> u64 {
    v.div_ceil(w.max(1)) * w.max(1)
}

/// Merges the two adjacent buckets whose joint span is smallest (the oldest such pair).
fn merge_narrowest<P: Roll>(done: &mut VecDeque<Done<P>>) {
    let Some(i) = (0..done.len().saturating_sub(1)).min_by_key(|i| done[i + 1].to - done[*i].from)
    else {
        return;
    };
    let Some(later) = done.remove(i + 1) else {
        return;
    };
    let d = &mut done[i];
    d.p.bound_latency(&later.p);
    d.p.absorb(&later.p);
    d.to = later.to;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct P {
        t: u64,
        n: u64,
        p99: f64,
    }

    impl Roll for P {
        fn absorb(&mut self, later: &Self) {
            self.t = later.t;
            self.n += later.n;
        }
        fn set_latency(&mut self, d: Option<&TrendAgg>) {
            self.p99 = d.map(|d| d.percentile(99.0)).unwrap_or(0.0);
        }
        fn bound_latency(&mut self, other: &Self) {
            self.p99 = self.p99.max(other.p99);
        }
    }

    #[test]
    fn short_series_are_kept_whole_at_one_second() {
        let mut tiers = Tiers::<P>::default();
        let mut scratch = TrendAgg::new();
        for s in 0..600 {
            let p = P {
                t: s + 1,
                n: s,
                p99: 1.0,
            };
            tiers.push(s, p, &Dist::default(), &mut scratch);
        }
        let all = tiers.stitched();
        assert_eq!(all.len(), 600);
        assert_eq!(all.iter().map(|p| p.n).sum::<u64>(), (0..600).sum::<u64>());
    }

    #[test]
    fn a_48_hour_run_is_bounded_and_its_buckets_exact() {
        // five kinds of second, each with its own latencies, fed for 48 hours
        let trends: Vec<TrendAgg> = (0..5u64)
            .map(|k| {
                let mut t = TrendAgg::new();
                for i in 0..=k * 3 {
                    t.record(1.0 + (k * 40 + i * 13) as f64 / 4.0);
                }
                t
            })
            .collect();
        let dists: Vec<Dist> = trends.iter().map(|t| Dist::of(Some(t))).collect();
        let mut tiers = Tiers::<P>::default();
        let mut scratch = TrendAgg::new();
        let secs = 48 * 3600u64;
        let mut total = 0;
        for s in 0..secs {
            let k = (s % 5) as usize;
            let p = P {
                t: s + 1,
                n: trends[k].count,
                p99: trends[k].percentile(99.0),
            };
            total += p.n;
            tiers.push(s, p, &dists[k], &mut scratch);
            if s % 3600 == 0 {
                assert!(tiers.held() <= MAX_POINTS, "{}", tiers.held());
            }
        }
        let out = tiers.stitched();
        // a day of hours, then 1,350 minutes, 450 × 10 s and the last 900 seconds
        assert_eq!(out.len(), 24 + 1350 + 450 + 900);
        assert!(out.len() <= MAX_POINTS && tiers.held() <= MAX_POINTS);
        assert_eq!(out.iter().map(|p| p.n).sum::<u64>(), total);
        assert_eq!(out.last().map(|p| p.t), Some(secs));
        assert!(out.windows(2).all(|w| w[0].t < w[1].t));
        // the first hour's p99 is that of its 3,600 seconds merged
        let mut hour = TrendAgg::new();
        for s in 0..3600 {
            hour.merge(&trends[s % 5]);
        }
        assert_eq!(out[0].t, 3600);
        assert_eq!(out[0].n, hour.count);
        assert_eq!(out[0].p99, hour.percentile(99.0));
    }

    #[test]
    fn a_32_day_run_stays_within_the_cap_and_adds_up() {
        let mut tiers = Tiers::<P>::default();
        let mut scratch = TrendAgg::new();
        let secs = 32 * 86_400u64;
        let empty = Dist::default();
        for s in 0..secs {
            let p = P {
                t: s + 1,
                n: 1 + s % 3,
                p99: (s % 1000) as f64,
            };
            tiers.push(s, p, &empty, &mut scratch);
            if s % 100_000 == 0 {
                assert!(tiers.held() <= MAX_POINTS, "{}", tiers.held());
            }
        }
        assert!(tiers.held() <= MAX_POINTS, "{}", tiers.held());
        let out = tiers.stitched();
        assert!(out.len() <= MAX_POINTS, "{}", out.len());
        // 32 days of 1–3 a second: 2 on average
        assert_eq!(out.iter().map(|p| p.n).sum::<u64>(), 2 * secs);
        assert_eq!(out.last().map(|p| p.t), Some(secs));
        assert!(out.windows(2).all(|w| w[0].t < w[1].t));
        // the hourly tier filled up (720 buckets) and merged its narrowest neighbours
        let hourly = &tiers.levels[2];
        assert_eq!(hourly.done.len(), 720);
        assert!(hourly.done.iter().any(|d| d.to - d.from == 7200));
        assert!(hourly.done.iter().all(|d| d.to - d.from <= 7200));
    }

    #[test]
    fn buckets_merge_histograms_exactly() {
        let mut tiers = Tiers::<P>::default();
        let mut scratch = TrendAgg::new();
        let mut all = TrendAgg::new();
        // 1,000 seconds, each with its own latencies: seconds 0..40 roll into 10 s buckets
        for s in 0..1000u64 {
            let mut t = TrendAgg::new();
            for i in 0..10 {
                let v = ((s * 37 + i * 101) % 997) as f64 + 0.25;
                t.record(v);
                if s < 10 {
                    all.record(v);
                }
            }
            let p = P {
                t: s + 1,
                n: 10,
                p99: t.percentile(99.0),
            };
            tiers.push(s, p, &Dist::of(Some(&t)), &mut scratch);
        }
        let out = tiers.stitched();
        // 60 seconds rolled into 6 buckets of 10 s, then 900 + 40 single seconds
        assert_eq!(out.len(), 6 + 940);
        assert_eq!(out[0].t, 10);
        assert_eq!(out[0].n, 100);
        assert_eq!(out[0].p99, all.percentile(99.0));
        assert_eq!(out.iter().map(|p| p.n).sum::<u64>(), 10_000);
    }
}
