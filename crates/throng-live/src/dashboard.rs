//! The live web dashboard: throng serves its own page (HTML, CSS and JS written here, no
//! CDN, no third-party library) and pushes a frame a second over server-sent events. It also
//! serves the control API (`/v1/status`, [`crate::control`]) its pause/resume buttons and VU
//! count input call.
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;

const PAGE: &str = include_str!("../assets/dashboard.html");

/// The most points kept per chart; older ones are thinned (every other one dropped) so an
/// hour-long run costs the page no more than a short one.
pub const MAX_POINTS: usize = 1200;

/// One second on the charts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DashPoint {
    /// Seconds since the start.
    pub t: f64,
    /// Requests per second.
    pub rps: f64,
    /// Failures per second.
    pub fps: f64,
    /// Latency p50, ms.
    pub p50: f64,
    /// p95, ms.
    pub p95: f64,
    /// p99, ms.
    pub p99: f64,
    /// Active VUs.
    pub vus: u64,
}

/// A scenario's line in the dashboard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DashScenario {
    /// Name.
    pub name: String,
    /// Active VUs.
    pub vus: u64,
    /// Progress 0..1.
    pub progress: f64,
    /// Requests per second.
    pub rps: f64,
    /// p95 so far, ms.
    pub p95: f64,
}

/// A threshold's state so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DashThreshold {
    /// `http_req_duration{name:x}`.
    pub metric: String,
    /// `p(95)<500`.
    pub expression: String,
    /// Passing so far.
    pub ok: bool,
    /// Observed value.
    pub observed: f64,
}

/// A timeline action so far, drawn as a marker on the live charts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DashAction {
    /// Its name.
    pub name: String,
    /// `http`, `exec` or `wait_for`.
    pub kind: String,
    /// When the plan put it, seconds from the start (`None` for `after:`).
    #[serde(default)]
    pub planned: Option<f64>,
    /// When it started, seconds from the start (`None`: not yet, or never).
    #[serde(default)]
    pub t: Option<f64>,
    /// How long it took, ms.
    pub took_ms: f64,
    /// It did what it should.
    pub ok: bool,
    /// What happened, in a few words.
    pub outcome: String,
}

impl From<&throng_metrics::ActionRecord> for DashAction {
    fn from(a: &throng_metrics::ActionRecord) -> Self {
        DashAction {
            name: a.name.clone(),
            kind: a.kind.clone(),
            planned: a.planned_s,
            t: a.started_s,
            took_ms: a.took_ms,
            ok: a.ok,
            outcome: a.outcome.clone(),
        }
    }
}

/// Everything the page shows, sent once a second.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DashFrame {
    /// `running` or `finished`.
    pub status: String,
    /// Plan name.
    pub plan: String,
    /// Seconds since the start.
    pub elapsed: f64,
    /// Planned length, seconds.
    pub planned: f64,
    /// The newest chart point.
    pub point: DashPoint,
    /// Scenarios.
    pub scenarios: Vec<DashScenario>,
    /// Thresholds.
    pub thresholds: Vec<DashThreshold>,
    /// Checks: name → (passes, fails).
    pub checks: BTreeMap<String, (u64, u64)>,
    /// Status codes.
    pub statuses: BTreeMap<String, u64>,
    /// Failures by kind.
    pub errors: BTreeMap<String, u64>,
    /// Phases so far (each written as `[scenario, phase, requests, p95]`).
    pub phases: Vec<throng_metrics::PhaseProgress>,
    /// Requests so far.
    pub total_reqs: u64,
    /// Failed requests so far.
    pub total_failed: u64,
    /// p95 so far, ms.
    pub total_p95: f64,
    /// The timeline's actions so far (left out of the frame when the plan has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<DashAction>,
    /// The monitors' series so far: `monitor:api.cpu` → `[latest, min, max]` (left out of
    /// the frame when the plan has no monitors).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub monitors: BTreeMap<String, (f64, f64, f64)>,
}

#[derive(Default)]
struct Inner {
    history: Vec<DashPoint>,
    latest: Option<DashFrame>,
}

/// Shared state and the broadcast of new frames.
#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    tx: broadcast::Sender<String>,
}

/// A running dashboard.
pub struct Dashboard {
    shared: Shared,
    control: crate::control::ControlSlot,
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The initial state a page gets: every point so far and the latest frame.
#[derive(Serialize)]
struct StateDoc<'a> {
    history: &'a [DashPoint],
    latest: &'a Option<DashFrame>,
}

impl Dashboard {
    /// Serves the dashboard on `addr` (port 0 picks one). Give a loopback address (the
    /// CLI's default is 127.0.0.1:5665) unless others should see it: any other address logs
    /// a warning that the dashboard is reachable from other machines.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Dashboard> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        crate::warn_if_exposed("dashboard", addr);
        let (tx, _) = broadcast::channel(64);
        let control = crate::control::slot();
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner::default())),
            tx,
        };
        let app = Router::new()
            .route("/", get(page))
            .route("/api/state", get(state))
            .route("/events", get(events))
            .with_state(shared.clone())
            .merge(crate::control::routes(control.clone()));
        let stop = CancellationToken::new();
        let s2 = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { s2.cancelled().await })
                .await;
        });
        Ok(Dashboard {
            shared,
            control,
            addr,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The warning to show when it is reachable from other machines (not bound to loopback).
    pub fn exposure_warning(&self) -> Option<String> {
        crate::exposure_warning("dashboard", self.addr)
    }

    /// Lets the page's buttons control the run (pause, resume, VU count) through the same
    /// `/v1/status` API as `throng pause|resume|scale` (see [`crate::control`]).
    pub fn set_control(&self, c: std::sync::Arc<dyn crate::control::RunControl>) {
        *self.control.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
    }

    /// Publishes a frame (about once a second).
    pub fn publish(&self, frame: DashFrame) {
        let json = {
            let mut inner = self.shared.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.history.push(frame.point.clone());
            if inner.history.len() > MAX_POINTS {
                // thin the older half: keep every other point
                let half = inner.history.len() / 2;
                let mut kept: Vec<DashPoint> =
                    inner.history[..half].iter().step_by(2).cloned().collect();
                kept.extend_from_slice(&inner.history[half..]);
                inner.history = kept;
            }
            let json = serde_json::to_string(&frame).unwrap_or_default();
            inner.latest = Some(frame);
            json
        };
        let _ = self.shared.tx.send(json);
    }

    /// Stops serving.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn state(State(s): State<Shared>) -> Response {
    let inner = s.inner.lock().unwrap_or_else(|e| e.into_inner());
    let doc = StateDoc {
        history: &inner.history,
        latest: &inner.latest,
    };
    Json(serde_json::to_value(&doc).unwrap_or_default()).into_response()
}

async fn events(State(s): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = BroadcastStream::new(s.tx.subscribe());
    let frames = rx
        .filter_map(|m| async move { m.ok().map(|j| Ok(Event::default().event("frame").data(j))) });
    Sse::new(stream::StreamExt::boxed(frames)).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out.split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn frames_without_actions_are_unchanged() {
        let json = serde_json::to_string(&DashFrame::default()).expect("json");
        assert!(
            !json.contains("actions") && !json.contains("monitors"),
            "{json}"
        );
        let back: DashFrame = serde_json::from_str(&json).expect("reads");
        assert!(back.actions.is_empty());
    }

    #[tokio::test]
    async fn timeline_actions_reach_the_page() {
        let d = Dashboard::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind");
        let record = throng_metrics::ActionRecord {
            name: "restart-db".into(),
            kind: "exec".into(),
            planned_s: Some(120.0),
            started_s: Some(120.5),
            took_ms: 4200.0,
            ok: false,
            outcome: "exit 1".into(),
            output: "long output stays out of the frame".into(),
            follows: None,
        };
        d.publish(DashFrame {
            status: "running".into(),
            actions: vec![DashAction::from(&record)],
            monitors: [("monitor:cache.queue".to_string(), (42.0, 40.0, 43.0))].into(),
            ..DashFrame::default()
        });
        let state: serde_json::Value =
            serde_json::from_str(&get(d.addr(), "/api/state").await).expect("json");
        let a = &state["latest"]["actions"][0];
        assert_eq!(a["name"], "restart-db", "{state}");
        assert_eq!(a["t"], 120.5);
        assert_eq!(a["planned"], 120.0);
        assert_eq!(a["ok"], false);
        assert_eq!(a["outcome"], "exit 1");
        assert!(a.get("output").is_none());
        assert_eq!(
            state["latest"]["monitors"]["monitor:cache.queue"],
            serde_json::json!([42.0, 40.0, 43.0])
        );
        let page = get(d.addr(), "/").await;
        assert!(page.contains(r#"id="monitors-section""#));
        assert!(page.contains(r#"id="timeline-section""#));
        assert!(page.contains("setLineDash"));
        d.stop().await;
    }
}
