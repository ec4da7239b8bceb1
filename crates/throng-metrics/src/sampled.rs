//! Sampled series: values read from outside the load (a server's CPU, a queue's depth) at
//! known times, kept as running statistics so thresholds can ask for their `max`, `avg`,
//! `delta` (last − first) or `growth_per_hour` (least-squares slope) in constant memory.
use serde::{Deserialize, Serialize};

/// Running statistics of one sampled series (times in seconds since the run started).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SampledStats {
    /// Samples taken.
    pub n: u64,
    /// Time and value of the first sample.
    pub first: (f64, f64),
    /// Time and value of the latest sample.
    pub last: (f64, f64),
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    sum: f64,
    st: f64,
    stt: f64,
    stv: f64,
}

impl SampledStats {
    /// Adds a sample taken `t` seconds into the run. Non-finite values are ignored.
    pub fn add(&mut self, t: f64, v: f64) {
        if !v.is_finite() || !t.is_finite() {
            return;
        }
        if self.n == 0 {
            self.first = (t, v);
            self.min = v;
            self.max = v;
        }
        self.n += 1;
        self.last = (t, v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.st += t;
        self.stt += t * t;
        self.stv += t * v;
    }

    /// Mean of the values (0 without samples).
    pub fn avg(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// Last value minus first value.
    pub fn delta(&self) -> f64 {
        self.last.1 - self.first.1
    }

    /// The least-squares slope of value over time, per hour (0 with fewer than two
    /// samples at different times).
    pub fn growth_per_hour(&self) -> f64 {
        let n = self.n as f64;
        let den = n * self.stt - self.st * self.st;
        if self.n < 2 || den.abs() < 1e-12 {
            return 0.0;
        }
        (n * self.stv - self.st * self.sum) / den * 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_line() {
        let mut s = SampledStats::default();
        for i in 0..11 {
            // 2 units a second = 7200 an hour
            s.add(i as f64, 100.0 + 2.0 * i as f64);
        }
        assert_eq!(s.n, 11);
        assert_eq!((s.min, s.max), (100.0, 120.0));
        assert_eq!(s.avg(), 110.0);
        assert_eq!(s.delta(), 20.0);
        assert!((s.growth_per_hour() - 7200.0).abs() < 1e-6);
        s.add(11.0, f64::NAN);
        assert_eq!(s.n, 11);
        assert_eq!(SampledStats::default().growth_per_hour(), 0.0);
    }
}
