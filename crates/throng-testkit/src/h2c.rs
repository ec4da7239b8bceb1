//! An h2c (HTTP/2 with prior knowledge) server on 127.0.0.1 that counts requests and
//! connections and measures the most streams in flight at once on any one connection; it can
//! advertise a `SETTINGS_MAX_CONCURRENT_STREAMS` and send GOAWAY after K requests on a
//! connection (a graceful shutdown: the requests it took are answered, later ones refused),
//! or drop the connection after K requests with its streams unanswered. Each response says
//! which connection carried it (`x-connection: N`, N counting accepted connections from 1).
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct H2Options {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (none: hyper's default, unlimited).
    pub max_concurrent_streams: Option<u32>,
    /// GOAWAY once a connection has taken this many requests.
    pub goaway_after: Option<u64>,
    /// With `goaway_after`: drop the connection at once instead (no GOAWAY, the requests in
    /// flight unanswered), as a server that crashes or resets.
    pub reset_instead: bool,
    /// How long each request takes to answer (so streams overlap).
    pub delay: Duration,
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    connections: AtomicU64,
    max_in_flight: AtomicU64,
    goaways: AtomicU64,
}

#[derive(Default)]
struct ConnCounts {
    /// Which connection this is (1 for the first accepted).
    id: u64,
    taken: AtomicU64,
    in_flight: AtomicU64,
    goaway: Notify,
}

/// A running h2c server; it stops when dropped.
pub struct H2Server {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for H2Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl H2Server {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start(opts: H2Options) -> H2Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let id = c.connections.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve(tcp, id, c.clone(), opts.clone()));
            }
        });
        H2Server { addr, counts, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests taken (each one is answered 200 `ok`).
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::SeqCst)
    }

    /// The most requests in flight at once on one connection.
    pub fn max_in_flight(&self) -> u64 {
        self.counts.max_in_flight.load(Ordering::SeqCst)
    }

    /// GOAWAYs sent.
    pub fn goaways(&self) -> u64 {
        self.counts.goaways.load(Ordering::SeqCst)
    }
}

async fn serve(tcp: tokio::net::TcpStream, id: u64, counts: Arc<Counts>, opts: H2Options) {
    let conn_counts = Arc::new(ConnCounts {
        id,
        ..ConnCounts::default()
    });
    let cc = conn_counts.clone();
    let c = counts.clone();
    let o = opts.clone();
    let svc = hyper::service::service_fn(move |req| handle(req, c.clone(), cc.clone(), o.clone()));
    let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    if let Some(m) = opts.max_concurrent_streams {
        b.max_concurrent_streams(m);
    }
    let conn = b.serve_connection(TokioIo::new(tcp), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = conn_counts.goaway.notified() => {}
    }
    if opts.reset_instead {
        return;
    }
    counts.goaways.fetch_add(1, Ordering::SeqCst);
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

async fn handle(
    _req: Request<Incoming>,
    counts: Arc<Counts>,
    conn: Arc<ConnCounts>,
    opts: H2Options,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let taken = conn.taken.fetch_add(1, Ordering::SeqCst) + 1;
    counts.requests.fetch_add(1, Ordering::SeqCst);
    let now = conn.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counts.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if opts.goaway_after == Some(taken) {
        conn.goaway.notify_one();
    }
    if !opts.delay.is_zero() {
        tokio::time::sleep(opts.delay).await;
    }
    conn.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut resp = Response::new(Full::new(Bytes::from_static(b"ok")));
    resp.headers_mut()
        .insert("x-connection", hyper::header::HeaderValue::from(conn.id));
    Ok(resp)
}
