//! throng-demo: the built-in demo target — a small event-ingest API shaped like the services
//! load tests are written for, with configurable latency, errors, stalls and rate limiting,
//! Prometheus metrics, and an exact count of every request it receives.
//!
//! Routes: `GET /health`, `POST /api/v1/ingest` (needs `X-API-KEY`), `POST /api/v1/login`
//! (returns a JWT), `GET /api/v1/items/{id}` and `GET /api/v1/items?page=N` (need
//! `Authorization: Bearer`), `GET /api/v1/verify` (checks a bearer JWT's HS256 signature
//! and `exp`), `GET /metrics`, and `GET|POST /admin/dependency` (take a
//! downstream dependency down at runtime: its circuit breaker opens after `breaker_delay`,
//! `/health` and ingest answer 503 while it is open), `GET|POST /admin/config` (a runtime
//! configuration an experiment changes), `GET|POST /admin/capacity` (with `--capacity`: the
//! queue's state; posting `{"per_second": N}` changes the capacity at runtime).
#![warn(missing_docs)]

mod behaviour;
mod capacity;
mod config;
mod dependency;
mod jwt;
mod metrics;
mod protocols;
mod routes;
mod verify;

pub use capacity::Capacity;
pub use config::{DemoConfig, ErrorRate, Latency, RateLimit, SettingError, Stall};

/// The plan `throng demo` runs against this target (the same text as `examples/demo.yaml`,
/// which a test keeps identical).
pub const DEMO_PLAN: &str = include_str!("demo.yaml");

use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A running demo target. Dropping it stops the server.
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<routes::AppState>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DemoServer {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn start(addr: SocketAddr, cfg: DemoConfig) -> std::io::Result<DemoServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(routes::AppState::new(cfg));
        let app = routes::router(state.clone());
        let stop = CancellationToken::new();
        let s2 = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { s2.cancelled().await })
                .await;
        });
        Ok(DemoServer {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far (all routes, `/metrics` scrapes excluded).
    pub fn requests(&self) -> u64 {
        self.state.metrics.total()
    }

    /// Requests received for one route pattern (e.g. `/api/v1/ingest`).
    pub fn requests_for(&self, route: &str) -> u64 {
        self.state.metrics.total_for(route)
    }

    /// Responses with this status so far.
    pub fn responses_with_status(&self, status: u16) -> u64 {
        self.state.metrics.total_status(status)
    }

    /// The admin view of the dependency and its breaker (as `GET /admin/dependency`).
    pub fn dependency(&self) -> serde_json::Value {
        self.state.dependency.json()
    }

    /// The runtime configuration last posted to `/admin/config`.
    pub fn runtime_config(&self) -> serde_json::Value {
        self.state
            .config
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The capacity queue's state (as `GET /admin/capacity`), `None` without `--capacity`.
    pub fn capacity(&self) -> Option<serde_json::Value> {
        self.state.capacity.as_ref().map(|q| q.json())
    }

    /// Stops accepting connections and waits for the server task.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Waits until the server ends (e.g. after a Ctrl-C that cancels `stop_token`).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Waits for the server task to finish.
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod demo_plan_tests {
    #[test]
    fn examples_demo_yaml_is_the_demo_plan() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
        let on_disk = std::fs::read_to_string(path).expect("examples/demo.yaml");
        assert_eq!(
            on_disk,
            super::DEMO_PLAN,
            "keep examples/demo.yaml and crates/throng-demo/src/demo.yaml identical"
        );
    }
}
