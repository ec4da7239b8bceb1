//! A gRPC server for `examples/protos/events.proto` on 127.0.0.1 (h2c, or TLS) that counts
//! calls by method. Messages are encoded by hand (a few varint and string fields), so it
//! needs no protobuf code of its own.
//!
//! - `events.EventService/Publish`: replies `PublishReply { accepted: true, seq: N }`.
//! - `events.EventService/Subscribe`: streams `count` events `{ id: "e1" ... }`.
//! - `grpc.reflection.v1(alpha).ServerReflection/ServerReflectionInfo`: server reflection
//!   (unless started [`GrpcServer::without_reflection`]), counted apart from the calls.
//! - anything else: UNIMPLEMENTED (12).
use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// The `.proto` this server speaks.
pub const EVENTS_PROTO: &str = include_str!("../../../examples/protos/events.proto");

#[derive(Default)]
struct Calls {
    by_method: Mutex<HashMap<String, u64>>,
    seq: AtomicU64,
    metadata: Mutex<Vec<(String, String)>>,
    /// Answers reflection, when the server serves it.
    reflection: Option<throng_grpc::Reflection>,
    /// Reflection streams answered.
    reflections: AtomicU64,
}

/// A running gRPC server; it stops when dropped.
pub struct GrpcServer {
    pub addr: SocketAddr,
    calls: Arc<Calls>,
    task: tokio::task::JoinHandle<()>,
    /// PEM of the self-signed certificate (TLS servers only).
    pub cert_pem: Option<String>,
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

impl GrpcServer {
    /// Plaintext (h2c).
    pub async fn start() -> GrpcServer {
        Self::start_inner(None, true).await
    }

    /// Plaintext (h2c), without server reflection: reflection's methods are UNIMPLEMENTED.
    pub async fn without_reflection() -> GrpcServer {
        Self::start_inner(None, false).await
    }

    /// TLS with a self-signed certificate for localhost/127.0.0.1 (ALPN h2).
    pub async fn start_tls() -> GrpcServer {
        let (acc, pem) = crate::tls_acceptor(&[b"h2"]);
        let mut s = Self::start_inner(Some(acc), true).await;
        s.cert_pem = Some(pem);
        s
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>, reflect: bool) -> GrpcServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let reflection = reflect.then(|| {
            throng_grpc::Reflection::from_source("events.proto", EVENTS_PROTO)
                .expect("events.proto compiles")
        });
        let calls = Arc::new(Calls {
            reflection,
            ..Calls::default()
        });
        let c = calls.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (c, tls) = (c.clone(), tls.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(c.clone(), req));
                    let b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acc) => {
                            if let Ok(s) = acc.accept(tcp).await {
                                let _ = b.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = b.serve_connection(TokioIo::new(tcp), svc).await;
                        }
                    }
                });
            }
        });
        GrpcServer {
            addr,
            calls,
            task,
            cert_pem: None,
        }
    }

    /// `http://127.0.0.1:PORT` (plaintext) or `https://localhost:PORT` (TLS).
    pub fn target(&self) -> String {
        match self.cert_pem {
            Some(_) => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://{}", self.addr),
        }
    }

    /// Calls of `method` (`events.EventService/Publish`).
    pub fn calls(&self, method: &str) -> u64 {
        self.calls
            .by_method
            .lock()
            .map(|m| m.get(method).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Calls of every method.
    pub fn total(&self) -> u64 {
        self.calls
            .by_method
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// Reflection streams answered (each asks one question).
    pub fn reflection_calls(&self) -> u64 {
        self.calls.reflections.load(Ordering::SeqCst)
    }

    /// The `x-*` metadata of every call, in arrival order.
    pub fn metadata(&self) -> Vec<(String, String)> {
        self.calls
            .metadata
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

fn varint(mut v: u64, out: &mut BytesMut) {
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// One length-prefixed gRPC message.
fn frame(msg: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + msg.len());
    b.put_u8(0);
    b.put_u32(msg.len() as u32);
    b.put_slice(msg);
    b.freeze()
}

/// Field 1 (a varint) of the first message in a request body; 0 when absent.
fn first_varint(body: &[u8]) -> u64 {
    let msg = body.get(5..).unwrap_or(&[]);
    if msg.first() != Some(&0x08) {
        return 0;
    }
    let mut v = 0u64;
    for (i, b) in msg[1..].iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

fn reply(frames: Vec<Bytes>, status: u32, message: &str) -> Response<Body> {
    let mut trailers = hyper::HeaderMap::new();
    trailers.insert("grpc-status", status.into());
    if let Ok(m) = message.parse() {
        trailers.insert("grpc-message", m);
    }
    let mut parts: Vec<Result<Frame<Bytes>, Infallible>> =
        frames.into_iter().map(|f| Ok(Frame::data(f))).collect();
    parts.push(Ok(Frame::trailers(trailers)));
    let mut r = Response::new(StreamBody::new(futures_util::stream::iter(parts)));
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/grpc"),
    );
    r
}

async fn handle(c: Arc<Calls>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = req.uri().path().trim_start_matches('/').to_string();
    if let Ok(mut md) = c.metadata.lock() {
        for (k, v) in req.headers() {
            if k.as_str().starts_with("x-") {
                md.push((k.to_string(), v.to_str().unwrap_or("").to_string()));
            }
        }
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if let (true, Some(r)) = (throng_grpc::is_reflection_path(&method), &c.reflection) {
        c.reflections.fetch_add(1, Ordering::SeqCst);
        let frames = r.answer(&body).iter().map(|m| frame(m)).collect();
        return Ok(reply(frames, 0, ""));
    }
    if let Ok(mut m) = c.by_method.lock() {
        *m.entry(method.clone()).or_insert(0) += 1;
    }
    Ok(match method.as_str() {
        "events.EventService/Publish" => {
            let seq = c.seq.fetch_add(1, Ordering::SeqCst) + 1;
            let mut m = BytesMut::new();
            m.put_slice(&[0x08, 0x01, 0x10]);
            varint(seq, &mut m);
            reply(vec![frame(&m)], 0, "")
        }
        "events.EventService/Subscribe" => {
            let n = first_varint(&body);
            let frames = (1..=n)
                .map(|i| {
                    let id = format!("e{i}");
                    let mut m = BytesMut::new();
                    m.put_u8(0x0a);
                    varint(id.len() as u64, &mut m);
                    m.put_slice(id.as_bytes());
                    frame(&m)
                })
                .collect();
            reply(frames, 0, "")
        }
        _ => reply(Vec::new(), 12, "unknown method"),
    })
}
