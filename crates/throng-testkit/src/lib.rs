//! Test helpers shared by throng's crates: an in-process HTTP server on 127.0.0.1 that
//! counts exactly what it receives, so tests can compare throng's figures with the server's.
//!
//! Routes:
//! - `/delay/{ms}`: answers 200 after `ms` milliseconds.
//! - `/status/{code}`: answers with that status.
//! - `/bytes/{n}`: answers `n` bytes 0, 1, …, 255, 0, … (binary, not UTF-8).
//! - `/redirect/{n}`: 302 to `/redirect/{n-1}`; `/redirect/0` answers 200.
//! - `/set-cookie/{name}/{value}`: sets a cookie; `/cookies`: echoes the `Cookie` header.
//! - `/echo`: echoes method, path, headers and body as JSON.
//! - `/json`: `{"items":[{"id":42},{"id":7}],"status":"ok"}` with `ETag: "v1"`, 304 on a
//!   matching `If-None-Match`.
//! - `/reset`: drops the connection without answering.
//! - anything else: 200 `ok`.
//!
//! [`services`] starts private PostgreSQL, Redis and Prometheus servers for tests.
#![allow(missing_docs)]

pub mod cdp;
mod grpc;
mod h2c;
mod raw;
pub mod services;
mod ws;
pub use grpc::{GrpcServer, EVENTS_PROTO};
pub use h2c::{H2Options, H2Server};
pub use raw::{hostile, RawConn, RawRequest, RawServer};
pub use ws::WsEchoServer;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The body's bytes.
    pub raw: Bytes,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    total: AtomicU64,
    seen: Mutex<Vec<Seen>>,
    connections: AtomicU64,
    first: std::sync::OnceLock<Instant>,
}

/// A TLS acceptor with a fresh self-signed certificate for `localhost`/127.0.0.1, offering
/// `alpn`; returns it with the certificate's PEM.
pub fn tls_acceptor(alpn: &[&[u8]]) -> (tokio_rustls::TlsAcceptor, String) {
    tls_acceptor_for(&["localhost", "127.0.0.1"], alpn)
}

/// [`tls_acceptor`] with a certificate for `names` only.
pub fn tls_acceptor_for(names: &[&str], alpn: &[&[u8]]) -> (tokio_rustls::TlsAcceptor, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names).expect("self-signed cert");
    let cert_pem = ck.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::try_from(ck.key_pair.serialize_der()).expect("key");
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .expect("server config");
    cfg.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    (tokio_rustls::TlsAcceptor::from(Arc::new(cfg)), cert_pem)
}

/// A running counting server; it stops when dropped.
pub struct CountingServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
    /// PEM of the self-signed certificate (TLS servers only).
    pub cert_pem: Option<String>,
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingServer {
    /// Starts a plain HTTP server (HTTP/1.1 and h2c) on 127.0.0.1.
    pub async fn start() -> CountingServer {
        Self::start_inner(None).await
    }

    /// Starts an HTTPS server with a self-signed certificate for `localhost`/127.0.0.1,
    /// offering h2 and http/1.1 by ALPN.
    pub async fn start_tls() -> CountingServer {
        let (acceptor, cert_pem) = tls_acceptor(&[b"h2", b"http/1.1"]);
        let mut s = Self::start_inner(Some(acceptor)).await;
        s.cert_pem = Some(cert_pem);
        s
    }

    /// [`CountingServer::start_tls`] offering http/1.1 only by ALPN.
    pub async fn start_tls_http1() -> CountingServer {
        let (acceptor, cert_pem) = tls_acceptor(&[b"http/1.1"]);
        let mut s = Self::start_inner(Some(acceptor)).await;
        s.cert_pem = Some(cert_pem);
        s
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>) -> CountingServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                st.connections.fetch_add(1, Ordering::Relaxed);
                let st = st.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acc) => {
                            if let Ok(s) = acc.accept(tcp).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                        }
                    }
                });
            }
        });
        CountingServer {
            addr,
            state,
            task,
            cert_pem: None,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received (complete heads), all paths.
    pub fn count(&self) -> u64 {
        self.state.total.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Requests received whose path (without query) starts with `prefix`.
    pub fn count_prefix(&self, prefix: &str) -> u64 {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .count() as u64
    }

    /// Every request received, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Requests per status path etc.: counts by path.
    pub fn by_path(&self) -> HashMap<String, u64> {
        let mut m = HashMap::new();
        for s in self.seen() {
            *m.entry(s.path).or_insert(0) += 1;
        }
        m
    }
}

fn resp(status: u16, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r
}

async fn handle(
    st: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or(path.clone()),
        version: format!("{:?}", parts.version),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        raw: body.clone(),
        at: Instant::now(),
    };
    if let Ok(mut s) = st.seen.lock() {
        s.push(seen.clone());
    }
    st.total.fetch_add(1, Ordering::SeqCst);
    let since_first = st.first.get_or_init(Instant::now).elapsed();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Ok(match segs.as_slice() {
        ["delay", ms] => {
            let ms: u64 = ms.parse().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp(200, "ok")
        }
        ["status", code] => resp(code.parse().unwrap_or(500), "status"),
        // N bytes 0, 1, …, 255, 0, … (not UTF-8 text)
        ["bytes", n] => {
            let n: usize = n.parse().unwrap_or(0);
            resp(200, (0..n).map(|i| (i % 256) as u8).collect::<Vec<u8>>())
        }
        // 503 from FROM ms to TO ms after the server's first request, 200 otherwise
        ["fail-between", from, to] => {
            let ms = since_first.as_millis() as u64;
            let (f, t): (u64, u64) = (from.parse().unwrap_or(0), to.parse().unwrap_or(0));
            if (f..t).contains(&ms) {
                resp(503, "failing")
            } else {
                resp(200, "ok")
            }
        }
        // a Prometheus exposition with a malformed second line
        ["bad-metrics"] => resp(200, "# TYPE ok gauge\nok 1\nbroken{le=\"1\" 2\n"),
        ["redirect", n] => {
            let n: u32 = n.parse().unwrap_or(0);
            if n == 0 {
                resp(200, "landed")
            } else {
                let mut r = resp(302, "");
                r.headers_mut().insert(
                    "location",
                    format!("/redirect/{}", n - 1).parse().expect("header"),
                );
                r
            }
        }
        ["set-cookie", name, value] => {
            let mut r = resp(200, "set");
            r.headers_mut().insert(
                "set-cookie",
                format!("{name}={value}; Path=/").parse().expect("header"),
            );
            r
        }
        ["cookies"] => {
            let c = parts
                .headers
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            resp(200, c)
        }
        ["echo"] => {
            let headers: serde_json::Map<String, serde_json::Value> = seen
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let v = serde_json::json!({
                "method": seen.method, "path": seen.path, "version": seen.version,
                "headers": headers, "body": seen.body,
            });
            let mut r = resp(200, v.to_string());
            r.headers_mut()
                .insert("content-type", "application/json".parse().expect("header"));
            r
        }
        ["json"] => {
            if parts
                .headers
                .get("if-none-match")
                .and_then(|v| v.to_str().ok())
                == Some("\"v1\"")
            {
                resp(304, "")
            } else {
                let mut r = resp(200, r#"{"items":[{"id":42},{"id":7}],"status":"ok"}"#);
                r.headers_mut()
                    .insert("etag", "\"v1\"".parse().expect("header"));
                r.headers_mut()
                    .insert("content-type", "application/json".parse().expect("header"));
                r
            }
        }
        ["reset"] => return Err(std::io::Error::other("reset on purpose")),
        _ => resp(200, "ok"),
    })
}

/// Headless Chromium with the flags this machine needs (no sandbox as root, no background
/// networking), a fresh profile in `profile`; `None` when Chromium is not installed, in
/// which case a test should skip — or fail under CI, where .ci/run installs it.
pub fn chromium(profile: &std::path::Path) -> Option<std::process::Command> {
    let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(bin) = bin else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed: .ci/run installs it");
        }
        eprintln!(
            "skipping the browser check: chromium is not installed (apt-get install chromium)"
        );
        return None;
    };
    let mut c = std::process::Command::new("timeout");
    c.arg("60").arg(bin).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    Some(c)
}
