//! Schedule arithmetic: how many VUs a ramp wants at a moment, and when each arrival of an
//! arrival-rate executor is due.
use crate::config::Stage;
use crate::segment::Segment;
use std::sync::Arc;
use std::time::Duration;

/// VUs wanted `t` into a `ramping-vus` scenario: linear between stage targets, rounded down
/// while rising and up while falling (a VU leaves only once the line has passed below it).
pub fn vus_at(start_vus: u64, stages: &[Stage], t: Duration) -> u64 {
    let mut from = start_vus as f64;
    let mut elapsed = Duration::ZERO;
    for s in stages {
        if t < elapsed + s.duration {
            let frac = if s.duration.is_zero() {
                1.0
            } else {
                (t - elapsed).as_secs_f64() / s.duration.as_secs_f64()
            };
            let v = from + (s.target - from) * frac;
            return if s.target >= from {
                (v + 1e-9).floor() as u64
            } else {
                (v - 1e-9).ceil() as u64
            };
        }
        elapsed += s.duration;
        from = s.target;
    }
    from.round() as u64
}

/// Arrival times of a (ramping) arrival-rate scenario, as offsets from its start.
///
/// The number of arrivals by time `t` is the integral of the rate; arrival `i` is due when
/// that integral reaches `i` (starting at `i = 0` when the rate at the start is above zero).
#[derive(Debug, Clone)]
pub struct Arrivals {
    /// (duration, rate per second at start, rate per second at end)
    segments: Vec<(Duration, f64, f64)>,
    next_index: u64,
    seg: usize,
    seg_start: f64,
    seg_integral_start: f64,
    /// Only the arrivals whose global number this execution segment owns.
    segment: Option<Arc<Segment>>,
    /// Global number of the next arrival of the whole schedule.
    global: u64,
}

impl Arrivals {
    /// A constant rate of `rate` per `time_unit` for `duration`.
    pub fn constant(rate: f64, time_unit: Duration, duration: Duration) -> Arrivals {
        let per_s = rate / time_unit.as_secs_f64().max(1e-9);
        Arrivals::new(vec![(duration, per_s, per_s)])
    }

    /// A ramping rate: `start_rate` then each stage's target (per `time_unit`).
    pub fn ramping(start_rate: f64, time_unit: Duration, stages: &[Stage]) -> Arrivals {
        let unit = time_unit.as_secs_f64().max(1e-9);
        let mut from = start_rate / unit;
        let mut segs = Vec::new();
        for s in stages {
            let to = s.target / unit;
            segs.push((s.duration, from, to));
            from = to;
        }
        Arrivals::new(segs)
    }

    fn new(segments: Vec<(Duration, f64, f64)>) -> Arrivals {
        let first_rate = segments.first().map(|s| s.1).unwrap_or(0.0);
        Arrivals {
            segments,
            next_index: if first_rate > 0.0 { 0 } else { 1 },
            seg: 0,
            seg_start: 0.0,
            seg_integral_start: 0.0,
            segment: None,
            global: 0,
        }
    }

    /// Only the arrivals `segment` owns (arrival `k` of the whole schedule, counted from 0):
    /// the instances of a segmented run together start every arrival exactly once, each at
    /// its unsegmented time.
    pub fn segmented(mut self, segment: Arc<Segment>) -> Arrivals {
        self.segment = (!segment.is_whole()).then_some(segment);
        self
    }

    /// Total length of the schedule.
    pub fn duration(&self) -> Duration {
        self.segments.iter().map(|s| s.0).sum()
    }
}

impl Iterator for Arrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        loop {
            let t = self.next_of_all()?;
            let k = self.global;
            self.global += 1;
            if self.segment.as_ref().is_none_or(|s| s.owns(k)) {
                return Some(t);
            }
        }
    }
}

impl Arrivals {
    /// The next arrival of the whole (unsegmented) schedule.
    fn next_of_all(&mut self) -> Option<Duration> {
        let target = self.next_index as f64;
        while self.seg < self.segments.len() {
            let (d, r0, r1) = self.segments[self.seg];
            let d = d.as_secs_f64();
            let seg_total = (r0 + r1) / 2.0 * d;
            let need = target - self.seg_integral_start;
            if need < seg_total - 1e-9 || (need <= 1e-12 && d > 0.0) {
                // solve r0*x + (r1-r0)/(2d) * x^2 = need for x in [0, d)
                let a = if d > 0.0 { (r1 - r0) / (2.0 * d) } else { 0.0 };
                let x = if a.abs() < 1e-12 {
                    if r0 > 0.0 {
                        need / r0
                    } else {
                        d
                    }
                } else {
                    let disc = (r0 * r0 + 4.0 * a * need).max(0.0);
                    (-r0 + disc.sqrt()) / (2.0 * a)
                };
                let x = x.clamp(0.0, d);
                if x < d {
                    self.next_index += 1;
                    return Some(Duration::from_secs_f64(self.seg_start + x));
                }
            }
            self.seg_start += d;
            self.seg_integral_start += seg_total;
            self.seg += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(secs: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn ramp_follows_stages() {
        let stages = [st(10, 50.0), st(30, 50.0), st(10, 0.0)];
        assert_eq!(vus_at(0, &stages, Duration::ZERO), 0);
        assert_eq!(vus_at(0, &stages, Duration::from_secs(5)), 25);
        assert_eq!(vus_at(0, &stages, Duration::from_secs(10)), 50);
        assert_eq!(vus_at(0, &stages, Duration::from_secs(30)), 50);
        assert_eq!(vus_at(0, &stages, Duration::from_secs(45)), 25);
        assert_eq!(vus_at(0, &stages, Duration::from_millis(49_990)), 1);
        assert_eq!(vus_at(0, &stages, Duration::from_secs(60)), 0);
        assert_eq!(vus_at(5, &[st(10, 5.0)], Duration::from_secs(3)), 5);
    }

    #[test]
    fn constant_rate_arrivals_are_evenly_spaced() {
        let a: Vec<_> =
            Arrivals::constant(10.0, Duration::from_secs(1), Duration::from_secs(2)).collect();
        assert_eq!(a.len(), 20);
        assert_eq!(a[0], Duration::ZERO);
        assert!((a[1].as_secs_f64() - 0.1).abs() < 1e-9);
        assert!((a[19].as_secs_f64() - 1.9).abs() < 1e-9);
        let per_min: Vec<_> =
            Arrivals::constant(120.0, Duration::from_secs(60), Duration::from_secs(10)).collect();
        assert_eq!(per_min.len(), 20);
    }

    #[test]
    fn ramping_arrivals_integrate_the_rate() {
        // 0 -> 10/s over 10s: 50 arrivals; then 10/s for 5s: 50 more
        let a: Vec<_> =
            Arrivals::ramping(0.0, Duration::from_secs(1), &[st(10, 10.0), st(5, 10.0)]).collect();
        assert!((a.len() as i64 - 99).abs() <= 1, "{}", a.len());
        // the first arrival is when the integral reaches 1: t^2/2 = 1 -> t = sqrt(2)
        assert!((a[0].as_secs_f64() - 2f64.sqrt()).abs() < 1e-6);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(a.last().expect("some") < &Duration::from_secs(15));
    }
}
