//! A downstream dependency the demo can lose at runtime, behind a circuit breaker — the
//! failure an experiment injects (`POST /admin/dependency {"up": false}`) and then watches
//! for (`demo_circuit_breaker_state{name="dependency"}` on `/metrics`, `/health`).
//!
//! The breaker opens `breaker_delay` after the dependency goes down and closes
//! `breaker_delay` after it comes back, so detection and recovery take a known time: the
//! truth an experiment's `wait_for` measurements are checked against.
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the dependency and its breaker are doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BreakerView {
    /// The dependency answers.
    pub up: bool,
    /// The breaker is open: calls that need the dependency fail fast.
    pub open: bool,
}

struct State {
    up: bool,
    /// When `up` last changed.
    changed: Option<Instant>,
    /// When the breaker last opened / closed (unix ms, for the admin view).
    changed_unix_ms: Option<i64>,
}

/// The dependency's state; the breaker is derived from it and the clock.
pub(crate) struct Dependency {
    delay: Duration,
    state: Mutex<State>,
}

impl Dependency {
    pub fn new(delay: Duration) -> Dependency {
        Dependency {
            delay,
            state: Mutex::new(State {
                up: true,
                changed: None,
                changed_unix_ms: None,
            }),
        }
    }

    /// Sets the dependency up or down; a change restarts the breaker's delay.
    pub fn set_up(&self, up: bool) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.up != up {
            s.up = up;
            s.changed = Some(Instant::now());
            s.changed_unix_ms = Some(jiff::Timestamp::now().as_millisecond());
        }
    }

    /// The state now.
    pub fn view(&self) -> BreakerView {
        self.view_at(Instant::now())
    }

    fn view_at(&self, now: Instant) -> BreakerView {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let settled = s
            .changed
            .is_none_or(|c| now.saturating_duration_since(c) >= self.delay);
        // the breaker follows the dependency once the delay has passed
        let open = if settled { !s.up } else { s.up };
        BreakerView { up: s.up, open }
    }

    /// The admin view: state, when it last changed (unix ms) and when the breaker follows
    /// (or followed) that change.
    pub fn json(&self) -> serde_json::Value {
        let v = self.view();
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let follows = s
            .changed_unix_ms
            .map(|ms| ms + self.delay.as_millis() as i64);
        serde_json::json!({
            "up": v.up,
            "breaker_open": v.open,
            "changed_at_ms": s.changed_unix_ms,
            "breaker_follows_at_ms": follows,
            "breaker_delay_ms": self.delay.as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_follows_the_dependency_after_the_delay() {
        let d = Dependency::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert_eq!(
            d.view_at(t0),
            BreakerView {
                up: true,
                open: false
            }
        );
        d.set_up(false);
        let changed = d
            .state
            .lock()
            .map(|s| s.changed)
            .ok()
            .flatten()
            .expect("set");
        assert!(!d.view_at(changed + Duration::from_millis(499)).open);
        assert!(d.view_at(changed + Duration::from_millis(500)).open);
        d.set_up(true);
        let changed = d
            .state
            .lock()
            .map(|s| s.changed)
            .ok()
            .flatten()
            .expect("set");
        let v = d.view_at(changed + Duration::from_millis(100));
        assert_eq!(
            v,
            BreakerView {
                up: true,
                open: true
            }
        );
        assert!(!d.view_at(changed + Duration::from_millis(500)).open);
    }
}
