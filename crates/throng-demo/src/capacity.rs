//! A known capacity (`--capacity 200/s`): every request (but `/metrics` and `/admin/*`) passes through one FIFO server
//! whose service time averages `1/N` seconds (uniform in 0.5..1.5 × `1/N`), so latency grows
//! as the offered rate nears N and requests beyond it queue — the true knee is N.
//!
//! With `recover=3s` the service also falls over when overloaded: once a request would wait
//! longer than `queue` (250 ms by default) it answers 503 to everything until `recover` has
//! passed since the last moment arrivals exceeded the capacity, then serves again with an
//! empty queue. So the recovery time after the load drops below N is `recover`.
use crate::config::SettingError;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A capacity setting: `200/s`, `200/s,recover=3s` or `200/s,recover=3s,queue=100ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// Requests per second the service completes.
    pub per_second: f64,
    /// With a value: the service falls over when overloaded and comes back this long after
    /// the overload ended.
    pub recover: Option<Duration>,
    /// The longest queue wait before an overloaded service with `recover` falls over.
    pub queue: Duration,
}

impl FromStr for Capacity {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, SettingError> {
        let mut parts = s.split(',');
        let rate = parts.next().unwrap_or("");
        let n = rate.strip_suffix("/s").ok_or_else(|| {
            format!("capacity `{s}`: expected e.g. `200/s` or `200/s,recover=3s`")
        })?;
        let per_second: f64 = n
            .trim()
            .parse()
            .map_err(|_| format!("capacity `{s}`: `{n}` is not a number"))?;
        if !(per_second > 0.0 && per_second.is_finite()) {
            return Err(format!("capacity `{s}`: the rate must be above 0").into());
        }
        let mut c = Capacity {
            per_second,
            recover: None,
            queue: Duration::from_millis(250),
        };
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("capacity `{s}`: `{p}` is not KEY=VALUE"))?;
            let d = throng_metrics::duration::parse_duration(v)?;
            match k.trim() {
                "recover" => c.recover = Some(d),
                "queue" => c.queue = d,
                other => {
                    return Err(format!(
                        "capacity `{s}`: unknown option `{other}` (use recover or queue)"
                    )
                    .into())
                }
            }
        }
        Ok(c)
    }
}

/// What the queue decided for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Admit {
    /// Served: respond after this long (queue wait plus service time).
    After(Duration),
    /// The service is down (overloaded, recovering): answer 503 now.
    Down,
}

struct State {
    cap: Capacity,
    /// When the server is next free.
    free_at: Instant,
    /// Down until this instant (recover mode).
    down_until: Option<Instant>,
    /// Arrivals in the current 100 ms slot while down, and the slot's start.
    slot: (Instant, u64),
    trips: u64,
    rng: fastrand::Rng,
}

/// The single-server queue.
pub(crate) struct CapacityQueue {
    state: Mutex<State>,
}

/// How finely arrival rates are judged while down.
const SLOT: Duration = Duration::from_millis(100);

impl CapacityQueue {
    pub fn new(cap: Capacity) -> CapacityQueue {
        let now = Instant::now();
        CapacityQueue {
            state: Mutex::new(State {
                cap,
                free_at: now,
                down_until: None,
                slot: (now, 0),
                trips: 0,
                rng: fastrand::Rng::with_seed(0x7468_726f_6e67),
            }),
        }
    }

    /// Admits one request arriving at `now`.
    pub fn admit(&self, now: Instant) -> Admit {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let per_second = s.cap.per_second;
        if let Some(until) = s.down_until {
            // arrivals faster than the capacity keep it down
            if now.duration_since(s.slot.0) >= SLOT {
                s.slot = (now, 0);
            }
            s.slot.1 += 1;
            if s.slot.1 as f64 > per_second * SLOT.as_secs_f64() {
                if let Some(r) = s.cap.recover {
                    s.down_until = Some(now + r);
                }
            }
            if now < until || s.down_until.is_some_and(|u| now < u) {
                return Admit::Down;
            }
            s.down_until = None;
            s.free_at = now;
        }
        let service = Duration::from_secs_f64((0.5 + s.rng.f64()) / per_second);
        let start = s.free_at.max(now);
        let wait = start - now;
        if let Some(r) = s.cap.recover {
            if wait > s.cap.queue {
                s.down_until = Some(now + r);
                s.slot = (now, 1);
                s.trips += 1;
                s.free_at = now;
                return Admit::Down;
            }
        }
        s.free_at = start + service;
        Admit::After(wait + service)
    }

    /// Changes the rate (the queue keeps its backlog).
    pub fn set_rate(&self, per_second: f64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.cap.per_second = per_second;
    }

    /// The admin view: the capacity, whether the service is down, how often it fell over,
    /// the current queue wait.
    pub fn json(&self) -> serde_json::Value {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        serde_json::json!({
            "per_second": s.cap.per_second,
            "recover_ms": s.cap.recover.map(|d| d.as_millis() as u64),
            "queue_ms": s.cap.queue.as_millis() as u64,
            "down": s.down_until.is_some_and(|u| now < u),
            "trips": s.trips,
            "queue_wait_ms": s.free_at.saturating_duration_since(now).as_secs_f64() * 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn capacity_specs() {
        let c: Capacity = "200/s".parse().expect("capacity");
        assert_eq!((c.per_second, c.recover, c.queue), (200.0, None, ms(250)));
        let c: Capacity = "50/s,recover=3s,queue=100ms".parse().expect("capacity");
        assert_eq!(
            (c.per_second, c.recover, c.queue),
            (50.0, Some(ms(3000)), ms(100))
        );
        for bad in [
            "200",
            "x/s",
            "0/s",
            "200/s,recover",
            "200/s,foo=1s",
            "200/s,recover=3",
        ] {
            assert!(bad.parse::<Capacity>().is_err(), "{bad}");
        }
        assert_eq!(
            "200/s,foo=1s"
                .parse::<Capacity>()
                .expect_err("rejected")
                .to_string(),
            "capacity `200/s,foo=1s`: unknown option `foo` (use recover or queue)"
        );
    }

    #[test]
    fn arrivals_below_capacity_wait_only_their_service() {
        let q = CapacityQueue::new("100/s".parse().expect("capacity"));
        let t0 = Instant::now();
        // one arrival every 20 ms at a 10 ms mean (at most 15 ms) service: never a queue
        for i in 0..50 {
            match q.admit(t0 + ms(20 * i)) {
                Admit::After(d) => assert!(d >= ms(5) && d <= ms(15), "{d:?}"),
                Admit::Down => panic!("down"),
            }
        }
    }

    #[test]
    fn arrivals_beyond_capacity_queue() {
        let q = CapacityQueue::new("100/s".parse().expect("capacity"));
        let t0 = Instant::now();
        // 100 arrivals at once: the last waits for the 99 before it (about 1 s)
        let mut last = Duration::ZERO;
        for _ in 0..100 {
            if let Admit::After(d) = q.admit(t0) {
                assert!(d > last);
                last = d;
            }
        }
        assert!(last > ms(800) && last < ms(1200), "{last:?}");
    }

    #[test]
    fn an_overloaded_service_falls_over_and_recovers_after_the_overload() {
        let q = CapacityQueue::new("100/s,recover=2s,queue=50ms".parse().expect("capacity"));
        let t0 = Instant::now();
        // 20 at once: the queue passes 50 ms and the service falls over
        let verdicts: Vec<Admit> = (0..20).map(|_| q.admit(t0)).collect();
        assert!(verdicts.contains(&Admit::Down));
        // overload goes on for 1 s (one arrival per ms), then a trickle (one per 50 ms)
        for i in 0..1000 {
            assert_eq!(q.admit(t0 + ms(i)), Admit::Down);
        }
        let mut first_ok = None;
        for i in 0..100 {
            let at = ms(1000 + 50 * i);
            if let Admit::After(_) = q.admit(t0 + at) {
                first_ok.get_or_insert(at);
            }
        }
        // up again 2 s after the last overloaded slot (which ended by 1 s)
        let up = first_ok.expect("recovers");
        assert!(up >= ms(2900) && up <= ms(3100), "{up:?}");
    }
}
