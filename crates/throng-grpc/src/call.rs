//! One call: connect (once per VU and target), encode the JSON message, call, decode.
use crate::codec::DynCodec;
use crate::connect::{open, Target};
use crate::GrpcError;
use http::uri::PathAndQuery;
use prost_reflect::{DynamicMessage, MethodDescriptor};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::Channel;

/// One call to make.
#[derive(Debug, Clone)]
pub struct GrpcRequest {
    /// `host:port`, `http://host:port` (plaintext) or `https://host:port`.
    pub target: String,
    /// The method.
    pub method: MethodDescriptor,
    /// The request message as JSON.
    pub message: String,
    /// Request metadata.
    pub metadata: Vec<(String, String)>,
    /// Longest the call may take (sent as `grpc-timeout` too).
    pub timeout: Duration,
    /// Keep the reply as JSON (a check or extract reads it).
    pub keep_body: bool,
}

/// What a call returned.
#[derive(Debug, Clone, Default)]
pub struct GrpcResponse {
    /// The gRPC status code (0 is OK); 14 (UNAVAILABLE) when it could not connect.
    pub status: u16,
    /// Why it failed before the server gave a status, if it did.
    pub error: Option<GrpcError>,
    /// The status message (`grpc-message`).
    pub message: String,
    /// Time from sending to the last reply message and the trailers, ms.
    pub duration_ms: f64,
    /// Reply messages received (1 for a unary call that succeeded).
    pub messages: u64,
    /// The reply as JSON when kept: the message of a unary call, an array of the messages
    /// of a server stream.
    pub body: Vec<u8>,
    /// Response headers and trailers.
    pub metadata: Vec<(String, String)>,
}

impl GrpcResponse {
    /// The value of metadata key `name` (headers or trailers).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A VU's gRPC client: one channel (an HTTP/2 connection) per target, kept across calls.
pub struct GrpcClient {
    tls: Arc<rustls::ClientConfig>,
    channels: HashMap<Target, Channel>,
}

/// UNAVAILABLE, the status of a call that could not connect.
const UNAVAILABLE: u16 = 14;
/// DEADLINE_EXCEEDED.
const DEADLINE_EXCEEDED: u16 = 4;

impl GrpcClient {
    /// A client whose TLS targets use `tls` (its ALPN should offer `h2`).
    pub fn new(tls: Arc<rustls::ClientConfig>) -> GrpcClient {
        GrpcClient {
            tls,
            channels: HashMap::new(),
        }
    }

    /// Drops every connection.
    pub fn close_all(&mut self) {
        self.channels.clear();
    }

    /// Makes one call.
    pub async fn execute(&mut self, req: &GrpcRequest) -> GrpcResponse {
        let t0 = Instant::now();
        let mut out = GrpcResponse::default();
        let r = tokio::time::timeout(req.timeout, self.call(req, &mut out)).await;
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                out.error = Some(e);
                if matches!(e, GrpcError::Connect(_)) {
                    out.status = UNAVAILABLE;
                }
            }
            Err(_) => {
                out.status = DEADLINE_EXCEEDED;
                out.error = Some(GrpcError::Timeout);
            }
        }
        out.duration_ms = t0.elapsed().as_secs_f64() * 1000.0;
        out
    }

    async fn channel(&mut self, target: &Target) -> Result<Channel, GrpcError> {
        if let Some(c) = self.channels.get(target) {
            return Ok(c.clone());
        }
        let c = open(target, &self.tls).await?;
        self.channels.insert(target.clone(), c.clone());
        Ok(c)
    }

    async fn call(&mut self, req: &GrpcRequest, out: &mut GrpcResponse) -> Result<(), GrpcError> {
        let target = Target::parse(&req.target)?;
        let m = &req.method;
        let mut de = serde_json::Deserializer::from_str(&req.message);
        let msg = DynamicMessage::deserialize(m.input(), &mut de)
            .map_err(|_| GrpcError::InvalidMessage)?;
        let path: PathAndQuery = format!("/{}/{}", m.parent_service().full_name(), m.name())
            .parse()
            .map_err(|_| GrpcError::InvalidTarget)?;
        let mut request = tonic::Request::new(msg);
        request.set_timeout(req.timeout);
        for (k, v) in &req.metadata {
            let (Ok(k), Ok(v)) = (
                MetadataKey::from_bytes(k.as_bytes()),
                MetadataValue::try_from(v.as_str()),
            ) else {
                return Err(GrpcError::InvalidMessage);
            };
            request.metadata_mut().insert(k, v);
        }
        let channel = self.channel(&target).await?;
        let mut grpc = tonic::client::Grpc::new(channel);
        if grpc.ready().await.is_err() {
            self.channels.remove(&target);
            return Err(GrpcError::Connect(throng_http::ErrorKind::ConnectionReset));
        }
        let codec = DynCodec(m.output());
        let result = if m.is_server_streaming() {
            match grpc.server_streaming(request, path, codec).await {
                Ok(resp) => {
                    keep_metadata(resp.metadata(), out);
                    let mut stream = resp.into_inner();
                    let mut kept = Vec::new();
                    let end = loop {
                        match stream.message().await {
                            Ok(Some(msg)) => {
                                out.messages += 1;
                                if req.keep_body {
                                    kept.push(msg);
                                }
                            }
                            Ok(None) => break Ok(()),
                            Err(s) => break Err(s),
                        }
                    };
                    if let Ok(Some(t)) = stream.trailers().await {
                        keep_metadata(&t, out);
                    }
                    if req.keep_body {
                        out.body = serde_json::to_vec(&kept).unwrap_or_default();
                    }
                    end
                }
                Err(s) => Err(s),
            }
        } else {
            match grpc.unary(request, path, codec).await {
                Ok(resp) => {
                    keep_metadata(resp.metadata(), out);
                    out.messages = 1;
                    if req.keep_body {
                        out.body = serde_json::to_vec(resp.get_ref()).unwrap_or_default();
                    }
                    Ok(())
                }
                Err(s) => Err(s),
            }
        };
        if let Err(s) = result {
            out.status = s.code() as i32 as u16;
            out.message = s.message().to_string();
            keep_metadata(s.metadata(), out);
            if s.code() == tonic::Code::Unavailable {
                // the connection may be gone: the next call opens a new one
                self.channels.remove(&target);
            }
        }
        Ok(())
    }
}

fn keep_metadata(m: &MetadataMap, out: &mut GrpcResponse) {
    for kv in m.iter() {
        if let tonic::metadata::KeyAndValueRef::Ascii(k, v) = kv {
            out.metadata.push((
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            ));
        }
    }
}
