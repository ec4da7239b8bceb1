//! A downstream dependency the demo can lose at runtime, behind a circuit breaker — the
//! failure an experiment injects (`POST /admin/dependency {"up": false}`) and then watches
//! for (`demo_circuit_breaker_state{name="dependency"}` on `/metrics`, `/health`).
//!
//! The breaker shows the dependency as it was `breaker_delay` ago: it opens that long after
//! the dependency goes down and closes that long after it comes back, so detection and
//! recovery take a known time — the truth an experiment's `wait_for` measurements are
//! checked against (`GET /admin/dependency` lists every change with when the breaker
//! follows it).
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Changes kept for the admin view.
const HISTORY: usize = 100;

/// What the dependency and its breaker are doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BreakerView {
    /// The dependency answers.
    pub up: bool,
    /// The breaker is open: calls that need the dependency fail fast.
    pub open: bool,
}

/// One change of the dependency.
#[derive(Debug, Clone, Copy)]
struct Change {
    up: bool,
    at: Instant,
    at_unix_ms: i64,
}

/// The dependency's changes; the breaker is derived from them and the clock.
pub(crate) struct Dependency {
    delay: Duration,
    changes: Mutex<Vec<Change>>,
}

impl Dependency {
    pub fn new(delay: Duration) -> Dependency {
        Dependency {
            delay,
            changes: Mutex::new(Vec::new()),
        }
    }

    /// Sets the dependency up or down (no change if it already is).
    pub fn set_up(&self, up: bool) {
        let mut c = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if c.last().is_none_or(|l| l.up) != up {
            if c.len() >= HISTORY {
                c.remove(0);
            }
            c.push(Change {
                up,
                at: Instant::now(),
                at_unix_ms: jiff::Timestamp::now().as_millisecond(),
            });
        }
    }

    /// The state now.
    pub fn view(&self) -> BreakerView {
        self.view_at(Instant::now())
    }

    fn view_at(&self, now: Instant) -> BreakerView {
        let c = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let up_at = |t: Option<Instant>| -> bool {
            match t {
                None => true,
                Some(t) => c.iter().rev().find(|ch| ch.at <= t).is_none_or(|ch| ch.up),
            }
        };
        BreakerView {
            up: c.last().is_none_or(|l| l.up),
            open: !up_at(now.checked_sub(self.delay)),
        }
    }

    /// The admin view: the state, and every change with when the breaker follows it (unix
    /// ms).
    pub fn json(&self) -> serde_json::Value {
        let v = self.view();
        let c = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let delay = self.delay.as_millis() as i64;
        let changes: Vec<serde_json::Value> = c
            .iter()
            .map(|ch| {
                serde_json::json!({
                    "up": ch.up,
                    "at_ms": ch.at_unix_ms,
                    "breaker_follows_at_ms": ch.at_unix_ms + delay,
                })
            })
            .collect();
        serde_json::json!({
            "up": v.up,
            "breaker_open": v.open,
            "breaker_delay_ms": delay,
            "changes": changes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_change(d: &Dependency) -> Instant {
        d.changes
            .lock()
            .ok()
            .and_then(|c| c.last().map(|c| c.at))
            .expect("a change")
    }

    #[test]
    fn the_breaker_shows_the_dependency_as_it_was_one_delay_ago() {
        let d = Dependency::new(Duration::from_millis(500));
        assert_eq!(
            d.view(),
            BreakerView {
                up: true,
                open: false
            }
        );
        d.set_up(false);
        let down = last_change(&d);
        assert!(!d.view_at(down + Duration::from_millis(499)).open);
        assert!(d.view_at(down + Duration::from_millis(500)).open);
        d.set_up(true);
        let up = last_change(&d);
        assert!(!d.view_at(up + Duration::from_millis(500)).open);
        assert_eq!(d.json()["changes"].as_array().map(|a| a.len()), Some(2));
    }

    #[test]
    fn a_blip_shorter_than_the_delay_still_opens_the_breaker_for_its_length() {
        let d = Dependency::new(Duration::from_millis(500));
        d.set_up(false);
        let down = last_change(&d);
        d.set_up(true);
        let up = last_change(&d);
        // open exactly while the dependency was down, one delay later
        let mid = down + (up - down) / 2 + Duration::from_millis(500);
        if up > down {
            assert!(d.view_at(mid).open);
        }
        assert!(!d.view_at(up + Duration::from_millis(500)).open);
    }
}
