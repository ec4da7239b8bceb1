//! A scriptable raw-TCP server for misbehaving peers: the test decides, byte by byte, what
//! each connection receives, and the server counts the requests it read in full — the
//! number throng's `http_reqs` must match.
//!
//! ```ignore
//! let srv = RawServer::start(|mut c: RawConn| async move {
//!     while let Some(req) = c.read_request().await {
//!         c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
//!     }
//! }).await;
//! ```
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request the raw server read: its head and the whole body its `Content-Length` named.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// A header's value (first match, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    connections: AtomicU64,
    heads: AtomicU64,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Stream {
    Plain(TcpStream),
    Other(Box<dyn Io>),
}

/// One accepted connection, handed to the test's script.
pub struct RawConn {
    stream: Stream,
    buf: Vec<u8>,
    counts: Arc<Counts>,
    /// 0-based index of this connection among all the server accepted.
    pub index: u64,
    /// Requests read on this connection so far.
    pub served: u64,
}

impl RawConn {
    fn io(&mut self) -> &mut (dyn Io + '_) {
        match &mut self.stream {
            Stream::Plain(s) => s,
            Stream::Other(s) => s.as_mut(),
        }
    }

    /// Reads one request (head and `Content-Length` body) and counts it. `None` at EOF,
    /// on an error, or on a head that does not parse.
    pub async fn read_request(&mut self) -> Option<RawRequest> {
        let (head_len, mut req, body_len) = loop {
            if let Some(parsed) = parse_head(&self.buf) {
                break parsed;
            }
            if !self.fill().await {
                return None;
            }
        };
        self.counts.heads.fetch_add(1, Ordering::SeqCst);
        self.buf.drain(..head_len);
        while self.buf.len() < body_len {
            if !self.fill().await {
                return None;
            }
        }
        req.body = self.buf.drain(..body_len).collect();
        self.served += 1;
        self.counts.requests.fetch_add(1, Ordering::SeqCst);
        Some(req)
    }

    /// Reads the head only (counted as a head, not a request); the body stays unread.
    pub async fn read_head_only(&mut self) -> Option<RawRequest> {
        loop {
            if let Some((n, req, _)) = parse_head(&self.buf) {
                self.counts.heads.fetch_add(1, Ordering::SeqCst);
                self.buf.drain(..n);
                return Some(req);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match self.io().read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Writes bytes as they are; errors (a peer that left) are ignored.
    pub async fn write(&mut self, bytes: &[u8]) {
        let io = self.io();
        let _ = io.write_all(bytes).await;
        let _ = io.flush().await;
    }

    /// A complete response with a `Content-Length` body.
    pub async fn respond(&mut self, status: u16, body: &str) {
        let r = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.write(r.as_bytes()).await;
    }

    /// Closes the connection with a TCP reset (SO_LINGER 0) instead of a FIN.
    pub fn reset(self) {
        if let Stream::Plain(s) = &self.stream {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
        drop(self);
    }

    /// Closes the connection with a FIN after writing everything (no TLS close_notify).
    pub async fn close(mut self) {
        if let Stream::Plain(s) = &mut self.stream {
            let _ = s.shutdown().await;
        }
    }

    /// Waits until the peer closes the connection or sends something; `true` if it sent data.
    pub async fn wait_peer(&mut self, limit: Duration) -> bool {
        matches!(tokio::time::timeout(limit, self.fill()).await, Ok(true))
    }
}

fn parse_head(buf: &[u8]) -> Option<(usize, RawRequest, usize)> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Request::new(&mut hs);
    let n = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let body_len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let req = RawRequest {
        method: r.method.unwrap_or("").to_string(),
        path: r.path.unwrap_or("").to_string(),
        headers,
        body: Vec::new(),
    };
    Some((n, req, body_len))
}

type Script = Arc<dyn Fn(RawConn) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A running raw server on 127.0.0.1; it stops when dropped.
pub struct RawServer {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
    /// PEM of the self-signed certificate (TLS servers only).
    pub cert_pem: Option<String>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Starts a plain-TCP server that runs `script` for every accepted connection.
    pub async fn start<F, Fut>(script: F) -> RawServer
    where
        F: Fn(RawConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start_inner(None, Arc::new(move |c| Box::pin(script(c)))).await
    }

    /// The same over TLS (self-signed for `localhost`/127.0.0.1, ALPN http/1.1 only).
    /// Dropping a [`RawConn`] closes without a TLS close_notify.
    pub async fn start_tls<F, Fut>(script: F) -> RawServer
    where
        F: Fn(RawConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start_tls_for(&["localhost", "127.0.0.1"], script).await
    }

    /// [`RawServer::start_tls`] with a certificate for `names` only.
    pub async fn start_tls_for<F, Fut>(names: &[&str], script: F) -> RawServer
    where
        F: Fn(RawConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (acceptor, pem) = crate::tls_acceptor_for(names, &[b"http/1.1"]);
        let mut s = Self::start_inner(Some(acceptor), Arc::new(move |c| Box::pin(script(c)))).await;
        s.cert_pem = Some(pem);
        s
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>, script: Script) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts = Arc::new(Counts::default());
        let c2 = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let index = c2.connections.fetch_add(1, Ordering::SeqCst);
                let counts = c2.clone();
                let script = script.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let stream = match tls {
                        None => Stream::Plain(tcp),
                        Some(acc) => match acc.accept(tcp).await {
                            Ok(s) => Stream::Other(Box::new(s)),
                            Err(_) => return,
                        },
                    };
                    script(RawConn {
                        stream,
                        buf: Vec::new(),
                        counts,
                        index,
                        served: 0,
                    })
                    .await;
                });
            }
        });
        RawServer {
            addr,
            counts,
            task,
            cert_pem: None,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read in full (head and body), over all connections.
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::SeqCst)
    }

    /// Request heads read (including requests whose body was never read in full).
    pub fn heads(&self) -> u64 {
        self.counts.heads.load(Ordering::SeqCst)
    }

    /// Connections accepted.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::SeqCst)
    }
}

/// Misbehaving servers the reliability tests share (docs/reliability.md).
pub mod hostile {
    use super::{RawConn, RawServer};
    use std::time::Duration;

    /// Answers the first request on each connection with `200 hello` followed by a second,
    /// unasked `500 Smuggled` response; later requests get `202`.
    pub async fn smuggler() -> RawServer {
        RawServer::start(|mut c: RawConn| async move {
            while c.read_request().await.is_some() {
                if c.served == 1 {
                    c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 500 Smuggled\r\nContent-Length: 0\r\n\r\n").await;
                } else {
                    c.respond(202, "").await;
                }
            }
        })
        .await
    }

    /// Like Node.js: after `idle` without a request, sends `408 Request Timeout` and closes.
    pub async fn idle_408(idle: Duration) -> RawServer {
        RawServer::start(move |mut c: RawConn| async move {
            loop {
                match tokio::time::timeout(idle, c.read_request()).await {
                    Ok(Some(_)) => c.respond(200, "ok").await,
                    Ok(None) => return,
                    Err(_) => {
                        c.write(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                            .await;
                        return c.close().await;
                    }
                }
            }
        })
        .await
    }

    /// Answers the first request on each connection; reads the second in full and closes.
    pub async fn one_per_connection() -> RawServer {
        RawServer::start(|mut c: RawConn| async move {
            while c.read_request().await.is_some() {
                if c.served == 1 {
                    c.respond(200, "ok").await;
                } else {
                    return c.close().await;
                }
            }
        })
        .await
    }

    /// Sends 10 bytes of a 100-byte body, then resets the connection.
    pub async fn cut_body() -> RawServer {
        RawServer::start(|mut c: RawConn| async move {
            if c.read_request().await.is_some() {
                c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
                    .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                c.reset();
            }
        })
        .await
    }
}
