//! Injected behaviour: latency, stalls, errors and the ingest rate limiter.
use crate::config::{DemoConfig, RateLimit};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket.
pub(crate) struct Bucket {
    limit: RateLimit,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    pub fn new(limit: RateLimit) -> Bucket {
        Bucket {
            limit,
            state: Mutex::new((limit.burst, Instant::now())),
        }
    }

    /// Takes a token, or says how long until one is free.
    pub fn take(&self) -> Result<(), Duration> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let refill = (now - s.1).as_secs_f64() * self.limit.per_second;
        s.0 = (s.0 + refill).min(self.limit.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - s.0) / self.limit.per_second.max(1e-9);
            Err(Duration::from_secs_f64(wait))
        }
    }
}

/// How long to hold a response because of the stall window, if inside one.
pub(crate) fn stall_wait(cfg: &DemoConfig, started: Instant, now: Instant) -> Duration {
    let Some((hold, every)) = cfg.stall else {
        return Duration::ZERO;
    };
    if every.is_zero() {
        return Duration::ZERO;
    }
    let into = (now - started).as_nanos() % every.as_nanos();
    let into = Duration::from_nanos(into as u64);
    // the stall is at the end of each period: the first period runs normally
    let stall_start = every.saturating_sub(hold);
    if into >= stall_start {
        every - into
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_limits() {
        let b = Bucket::new(RateLimit {
            per_second: 1.0,
            burst: 3.0,
        });
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        let w = b.take().expect_err("empty");
        assert!(w > Duration::from_millis(900));
    }

    #[test]
    fn stall_window_is_at_the_end_of_each_period() {
        let cfg = DemoConfig {
            stall: Some((Duration::from_secs(1), Duration::from_secs(10))),
            ..DemoConfig::default()
        };
        let t0 = Instant::now();
        assert_eq!(
            stall_wait(&cfg, t0, t0 + Duration::from_secs(3)),
            Duration::ZERO
        );
        assert_eq!(
            stall_wait(&cfg, t0, t0 + Duration::from_millis(9_400)),
            Duration::from_millis(600)
        );
    }
}
