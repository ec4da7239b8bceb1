//! The demo's WebSocket and gRPC endpoints, beside its HTTP API:
//! - `GET /ws/echo`: a WebSocket that echoes every text and binary message.
//! - `POST /events.EventService/Publish` and `/events.EventService/Subscribe`: the event
//!   service of `examples/protos/events.proto` over gRPC (h2c). Messages are encoded by
//!   hand (a few fields), so the demo needs no protobuf code.
//! - `POST /grpc.reflection.v1.ServerReflection/ServerReflectionInfo` (and `v1alpha`):
//!   server reflection, so `grpc:` steps without a `proto:` find the event service.
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::StreamBody;
use hyper::body::Frame;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

/// `GET /ws/echo`.
pub(crate) async fn ws_echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(m)) = socket.recv().await {
        let data = matches!(m, Message::Text(_) | Message::Binary(_));
        if matches!(m, Message::Close(_)) || (data && socket.send(m).await.is_err()) {
            return;
        }
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One length-prefixed gRPC message.
fn frame(msg: &[u8]) -> Bytes {
    let mut b = Vec::with_capacity(5 + msg.len());
    b.push(0);
    b.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    b.extend_from_slice(msg);
    Bytes::from(b)
}

/// A gRPC response: the messages, then `grpc-status` in the trailers.
fn grpc_reply(frames: Vec<Bytes>, status: u32) -> Response {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from(status));
    let mut parts: Vec<Result<Frame<Bytes>, Infallible>> =
        frames.into_iter().map(|f| Ok(Frame::data(f))).collect();
    parts.push(Ok(Frame::trailers(trailers)));
    let body = Body::new(StreamBody::new(futures_util::stream::iter(parts)));
    ([("content-type", "application/grpc")], body).into_response()
}

/// `events.EventService/Publish`: `PublishReply { accepted: true, seq: N }`.
pub(crate) async fn publish(_body: Bytes) -> Response {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    let mut m = vec![0x08, 0x01, 0x10];
    varint(seq, &mut m);
    grpc_reply(vec![frame(&m)], 0)
}

/// `events.EventService/Subscribe`: `count` events (at most 1000).
pub(crate) async fn subscribe(body: Bytes) -> Response {
    let msg = body.get(5..).unwrap_or(&[]);
    let mut count = 0u64;
    if msg.first() == Some(&0x08) {
        for (i, b) in msg[1..].iter().enumerate().take(10) {
            count |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let frames = (1..=count.min(1000))
        .map(|i| {
            let id = format!("e{i}");
            let mut m = vec![0x0a];
            varint(id.len() as u64, &mut m);
            m.extend_from_slice(id.as_bytes());
            frame(&m)
        })
        .collect();
    grpc_reply(frames, 0)
}

/// The `.proto` the demo's gRPC endpoints speak, served by reflection.
const EVENTS_PROTO: &str = include_str!("../../../examples/protos/events.proto");

/// Reflection's answers for [`EVENTS_PROTO`], built on first use.
fn reflection() -> Option<&'static throng_grpc::Reflection> {
    static R: std::sync::OnceLock<Option<throng_grpc::Reflection>> = std::sync::OnceLock::new();
    R.get_or_init(|| throng_grpc::Reflection::from_source("events.proto", EVENTS_PROTO).ok())
        .as_ref()
}

/// `grpc.reflection.v1(alpha).ServerReflection/ServerReflectionInfo`: one reply per
/// request of the stream.
pub(crate) async fn server_reflection(body: Bytes) -> Response {
    match reflection() {
        Some(r) => grpc_reply(r.answer(&body).iter().map(|m| frame(m)).collect(), 0),
        None => grpc_reply(Vec::new(), 12),
    }
}
