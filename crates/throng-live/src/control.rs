//! The control API of a running test, in k6's REST shape: `GET /v1/status` and
//! `PATCH /v1/status` with `{"data":{"attributes":{"paused":true,"vus":N,"vus-max":M}}}`
//! (JSON:API documents, as k6's `k6 pause|resume|scale|status` send and read). It is served
//! on its own address (`throng run --address 127.0.0.1:6565`) and by the dashboard, whose
//! buttons call it. What it controls comes through [`RunControl`], so this crate needs no
//! engine; [`client`] is the other end, used by the CLI.
//!
//! Requests whose `Host` is a name other than `localhost` are refused (a web page that
//! rebinds its own name to 127.0.0.1 cannot reach it), and `PATCH` is never a "simple"
//! cross-origin request, so another site's page cannot change the load either.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// k6's default address for the API.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:6565";

/// The status attributes (k6's `/v1/status`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct StatusAttrs {
    /// The run is paused.
    pub paused: bool,
    /// Active VUs.
    pub vus: u64,
    /// Most VUs.
    #[serde(rename = "vus-max")]
    pub vus_max: u64,
    /// The run was stopped or has ended.
    pub stopped: bool,
    /// The run is going.
    pub running: bool,
    /// A threshold has failed.
    pub tainted: bool,
}

/// What a `PATCH /v1/status` may change; absent fields stay as they are.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    /// Pause (`true`) or resume (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// New active VU count (externally-controlled executor only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vus: Option<u64>,
    /// New maxVUs (externally-controlled executor only).
    #[serde(default, rename = "vus-max", skip_serializing_if = "Option::is_none")]
    pub vus_max: Option<u64>,
    /// `true` stops the run (it ends as an interrupted run does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<bool>,
    /// Read-only attributes k6 clients echo back; ignored.
    #[serde(default, skip_serializing)]
    pub running: Option<bool>,
    /// Read-only; ignored.
    #[serde(default, skip_serializing)]
    pub tainted: Option<bool>,
}

/// What the API controls: a running test.
pub trait RunControl: Send + Sync {
    /// The current status.
    fn status(&self) -> StatusAttrs;
    /// Applies a change; `Err` carries a message for the user (e.g. a VU count above
    /// maxVUs), and nothing is changed then.
    fn apply(&self, patch: &StatusPatch) -> Result<StatusAttrs, String>;
}

/// Where a server finds the run to control (set once the run exists).
pub type ControlSlot = Arc<Mutex<Option<Arc<dyn RunControl>>>>;

/// An empty slot.
pub fn slot() -> ControlSlot {
    Arc::new(Mutex::new(None))
}

#[derive(Serialize, Deserialize)]
struct Doc<A> {
    data: Data<A>,
}

#[derive(Serialize, Deserialize)]
struct Data<A> {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    attributes: A,
}

fn status_doc(a: StatusAttrs) -> Doc<StatusAttrs> {
    Doc {
        data: Data {
            kind: Some("status".into()),
            id: Some("default".into()),
            attributes: a,
        },
    }
}

/// A JSON:API error document (k6's shape).
fn error(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "status": status.as_u16().to_string(), "title": status.canonical_reason().unwrap_or(""), "detail": detail }]
    });
    (status, Json(body)).into_response()
}

/// Whether `Host` is an IP literal or `localhost` (anything else is a rebound name).
fn host_ok(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get("host").and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let name = match host.rsplit_once(':') {
        Some((n, p)) if !n.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

fn current(slot: &ControlSlot) -> Option<Arc<dyn RunControl>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

async fn get_status(State(slot): State<ControlSlot>, headers: HeaderMap) -> Response {
    if !host_ok(&headers) {
        return error(
            StatusCode::FORBIDDEN,
            "Host must be an IP address or localhost",
        );
    }
    match current(&slot) {
        Some(c) => Json(status_doc(c.status())).into_response(),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the run has not started"),
    }
}

async fn patch_status(
    State(slot): State<ControlSlot>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !host_ok(&headers) {
        return error(
            StatusCode::FORBIDDEN,
            "Host must be an IP address or localhost",
        );
    }
    let Some(c) = current(&slot) else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the run has not started");
    };
    let doc: Doc<StatusPatch> = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"data\":{{\"attributes\":{{...}}}}}}: {e}"),
            )
        }
    };
    match c.apply(&doc.data.attributes) {
        Ok(a) => Json(status_doc(a)).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

/// The `/v1/status` routes over `slot`.
pub fn routes(slot: ControlSlot) -> Router {
    Router::new()
        .route("/v1/status", get(get_status).patch(patch_status))
        .with_state(slot)
}

/// The control API on its own address.
pub struct ControlApi {
    slot: ControlSlot,
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ControlApi {
    /// Serves the API on `addr` (port 0 picks one); any address beyond loopback logs a
    /// warning that others can change the load. It answers 503 until
    /// [`ControlApi::set_control`] is called.
    pub async fn start(addr: SocketAddr) -> std::io::Result<ControlApi> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        crate::warn_if_exposed("control API", addr);
        let slot = slot();
        let app = routes(slot.clone());
        let stop = CancellationToken::new();
        let s2 = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { s2.cancelled().await })
                .await;
        });
        Ok(ControlApi {
            slot,
            addr,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The run it controls.
    pub fn set_control(&self, c: Arc<dyn RunControl>) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
    }

    /// Stops serving.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ControlApi {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The client side (`throng pause|resume|scale|status`): one HTTP/1.1 request on
/// loopback, no dependencies.
pub mod client {
    use super::{Doc, StatusAttrs, StatusPatch};
    use std::net::SocketAddr;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// How long a request may take in all.
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// A failed control request.
    #[derive(Debug, thiserror::Error)]
    pub enum ClientError {
        /// No throng answers there.
        #[error("cannot reach a running throng at {addr}: {source} (start it with `throng run --address {addr}`)")]
        Connect {
            /// The address tried.
            addr: SocketAddr,
            /// Why.
            source: std::io::Error,
        },
        /// It answered with an error (the message is the API's).
        #[error("{0}")]
        Refused(String),
        /// The answer was not a status document.
        #[error("unexpected answer from {addr}: {detail}")]
        Garbled {
            /// The address asked.
            addr: SocketAddr,
            /// What was wrong.
            detail: String,
        },
    }

    async fn request(
        addr: SocketAddr,
        method: &str,
        body: Option<String>,
    ) -> Result<StatusAttrs, ClientError> {
        let go = async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            let body = body.unwrap_or_default();
            let req = format!(
                "{method} /v1/status HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await?;
            let mut out = Vec::new();
            s.read_to_end(&mut out).await?;
            Ok::<_, std::io::Error>(out)
        };
        let out = match tokio::time::timeout(TIMEOUT, go).await {
            Ok(Ok(o)) => o,
            Ok(Err(source)) => return Err(ClientError::Connect { addr, source }),
            Err(_) => {
                return Err(ClientError::Connect {
                    addr,
                    source: std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
                })
            }
        };
        let text = String::from_utf8_lossy(&out);
        let garbled = |detail: &str| ClientError::Garbled {
            addr,
            detail: detail.to_string(),
        };
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| garbled("no HTTP response"))?;
        let code: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| garbled("no status code"))?;
        if code != 200 {
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            let detail = v["errors"][0]["detail"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {code}"));
            return Err(ClientError::Refused(detail));
        }
        let doc: Doc<StatusAttrs> =
            serde_json::from_str(body).map_err(|e| garbled(&e.to_string()))?;
        Ok(doc.data.attributes)
    }

    /// `GET /v1/status`.
    pub async fn status(addr: SocketAddr) -> Result<StatusAttrs, ClientError> {
        request(addr, "GET", None).await
    }

    /// `PATCH /v1/status` with `patch`; returns the status after it.
    pub async fn patch(addr: SocketAddr, patch: StatusPatch) -> Result<StatusAttrs, ClientError> {
        let doc = serde_json::json!({ "data": { "type": "status", "id": "default", "attributes": patch } });
        request(addr, "PATCH", Some(doc.to_string())).await
    }

    /// The status as k6's `k6 status` prints it (YAML).
    pub fn render(s: &StatusAttrs) -> String {
        format!(
            "paused: {}\nrunning: {}\nstopped: {}\ntainted: {}\nvus: {}\nvus-max: {}\n",
            s.paused, s.running, s.stopped, s.tainted, s.vus, s.vus_max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Mutex<StatusAttrs>);

    impl RunControl for Fake {
        fn status(&self) -> StatusAttrs {
            *self.0.lock().expect("lock")
        }
        fn apply(&self, p: &StatusPatch) -> Result<StatusAttrs, String> {
            let mut s = self.0.lock().expect("lock");
            if let Some(v) = p.vus {
                if v > s.vus_max {
                    return Err(format!("above maxVUs ({})", s.vus_max));
                }
                s.vus = v;
            }
            if let Some(p) = p.paused {
                s.paused = p;
            }
            Ok(*s)
        }
    }

    #[tokio::test]
    async fn status_and_patch_in_k6_shape() {
        let api = ControlApi::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind");
        let addr = api.addr();
        let e = client::status(addr).await.expect_err("no run yet");
        assert!(e.to_string().contains("not started"), "{e}");
        api.set_control(Arc::new(Fake(Mutex::new(StatusAttrs {
            vus: 2,
            vus_max: 6,
            running: true,
            ..StatusAttrs::default()
        }))));
        let s = client::status(addr).await.expect("status");
        assert_eq!((s.vus, s.vus_max, s.paused), (2, 6, false));
        let s = client::patch(
            addr,
            StatusPatch {
                paused: Some(true),
                vus: Some(5),
                ..StatusPatch::default()
            },
        )
        .await
        .expect("patch");
        assert!(s.paused && s.vus == 5);
        let e = client::patch(
            addr,
            StatusPatch {
                vus: Some(7),
                ..StatusPatch::default()
            },
        )
        .await
        .expect_err("above max");
        assert_eq!(e.to_string(), "above maxVUs (6)");
        assert!(client::render(&s).contains("vus-max: 6\n"));
        api.stop().await;
    }

    #[test]
    fn rebound_host_names_are_refused() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert("host", v.parse().expect("header"));
            host_ok(&m)
        };
        assert!(h("127.0.0.1:6565") && h("localhost:6565") && h("[::1]:6565"));
        assert!(!h("evil.example:6565") && !h("evil.example"));
    }

    #[test]
    fn the_patch_document_is_k6s() {
        let d: Doc<StatusPatch> =
            serde_json::from_str(r#"{"data":{"attributes":{"paused":true,"vus":3,"vus-max":9}}}"#)
                .expect("k6 shape");
        assert_eq!(d.data.attributes.vus_max, Some(9));
        assert!(
            serde_json::from_str::<Doc<StatusPatch>>(r#"{"data":{"attributes":{"vus":"x"}}}"#)
                .is_err()
        );
    }
}
