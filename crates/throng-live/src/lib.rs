//! throng-live: what a run shows while it goes. A [`LiveSink`] gets a [`LiveView`] about four
//! times a second; [`progress::Progress`] draws it as one bar per scenario on a terminal, or as
//! a plain status line every few seconds when stderr is not a terminal (CI logs).
#![warn(missing_docs)]

pub mod control;
pub mod dashboard;
pub mod progress;
pub mod prometheus;

use std::net::SocketAddr;
use std::time::Duration;

/// The warning for a server of `what` (the dashboard, Prometheus metrics) bound to `addr`
/// when that address is not loopback, so other machines can reach it:
/// `dashboard listening on 0.0.0.0:5665 — reachable from other machines`. `None` on
/// 127.0.0.0/8 and `::1`, the defaults.
pub fn exposure_warning(what: &str, addr: SocketAddr) -> Option<String> {
    let ip = match addr.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(std::net::IpAddr::V4)
            .unwrap_or(std::net::IpAddr::V6(v6)),
        ip => ip,
    };
    (!ip.is_loopback())
        .then(|| format!("{what} listening on {addr} — reachable from other machines"))
}

/// Says so (a `warn` log line, shown by default) when a server is bound beyond loopback.
pub(crate) fn warn_if_exposed(what: &str, addr: SocketAddr) {
    if let Some(w) = exposure_warning(what, addr) {
        tracing::warn!("{w}");
    }
}

/// One scenario's figures at a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioLive {
    /// Scenario name.
    pub name: String,
    /// Iterations done (completed, interrupted or failed) so far.
    pub done: u64,
    /// Iterations planned, when the executor has a total.
    pub total: Option<u64>,
    /// Time since the scenario started (zero before its `startTime`).
    pub elapsed: Duration,
    /// Planned length (excluding the graceful stop).
    pub duration: Duration,
    /// Whether the scenario has ended.
    pub finished: bool,
    /// Requests per second over the last second.
    pub rps: f64,
    /// Requests that succeeded so far.
    pub ok: u64,
    /// Requests that failed so far.
    pub failed: u64,
    /// p95 of `http_req_duration` so far, ms.
    pub p95_ms: f64,
    /// Active VUs.
    pub vus: u64,
    /// How long until the scenario starts (its `startTime`), while it waits.
    pub starts_in: Option<Duration>,
}

impl ScenarioLive {
    /// Share done, 0..=1: by iterations when there is a total, else by time.
    pub fn fraction(&self) -> f64 {
        if self.finished {
            return 1.0;
        }
        match self.total {
            Some(t) if t > 0 => (self.done as f64 / t as f64).min(1.0),
            _ if !self.duration.is_zero() => {
                (self.elapsed.as_secs_f64() / self.duration.as_secs_f64()).min(1.0)
            }
            _ => 0.0,
        }
    }

    /// Time left, if it can be told.
    pub fn eta(&self) -> Option<Duration> {
        if self.finished {
            return Some(Duration::ZERO);
        }
        match self.total {
            Some(t) if self.done > 0 => {
                let per = self.elapsed.as_secs_f64() / self.done as f64;
                let left_by_count = per * t.saturating_sub(self.done) as f64;
                let left_by_time = self.duration.saturating_sub(self.elapsed).as_secs_f64();
                Some(Duration::from_secs_f64(left_by_count.min(left_by_time)))
            }
            Some(_) => None,
            None => Some(self.duration.saturating_sub(self.elapsed)),
        }
    }
}

/// Every scenario at a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveView {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Scenarios in plan order.
    pub scenarios: Vec<ScenarioLive>,
}

/// Something that shows the run while it goes (progress, dashboard, ...).
pub trait LiveSink: Send {
    /// A new view, about four times a second.
    fn update(&mut self, view: &LiveView);
    /// The run ended; `view` is final.
    fn finish(&mut self, view: &LiveView);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_quiet_and_anything_else_warns() {
        for a in [
            "127.0.0.1:5665",
            "127.9.9.9:1",
            "[::1]:5665",
            "[::ffff:127.0.0.1]:80",
        ] {
            let addr: SocketAddr = a.parse().expect("addr");
            assert_eq!(exposure_warning("dashboard", addr), None, "{a}");
        }
        assert_eq!(
            exposure_warning("dashboard", "0.0.0.0:5665".parse().expect("addr")).as_deref(),
            Some("dashboard listening on 0.0.0.0:5665 — reachable from other machines")
        );
        for a in ["[::]:5665", "10.1.2.3:9", "192.168.0.5:9464"] {
            let addr: SocketAddr = a.parse().expect("addr");
            assert!(exposure_warning("x", addr).is_some(), "{a}");
        }
    }

    #[tokio::test]
    async fn the_dashboard_warns_when_bound_beyond_loopback() {
        let local = dashboard::Dashboard::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind");
        assert_eq!(local.exposure_warning(), None);
        let any = dashboard::Dashboard::start(([0, 0, 0, 0], 0).into())
            .await
            .expect("bind");
        assert_eq!(
            any.exposure_warning(),
            Some(format!(
                "dashboard listening on 0.0.0.0:{} — reachable from other machines",
                any.addr().port()
            ))
        );
    }
}
