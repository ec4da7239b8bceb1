//! Finding methods by server reflection: the files declaring the services a plan calls
//! are fetched from the server (v1, else v1alpha, as grpcurl does) once per target, with
//! the files they import, and built into a `DescriptorPool`.
use crate::connect::{open, Target};
use crate::reflection::{
    MessageRequest, MessageResponse, MsgCodec, ServerReflectionRequest, ServerReflectionResponse,
    V1, V1ALPHA,
};
use http::uri::PathAndQuery;
use prost::Message;
use prost_reflect::DescriptorPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;

/// Why reflection could not give the methods.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReflectError {
    /// The target is not `host:port`, `http://host:port` or `https://host:port`.
    #[error("not an address: expected host:port, http://host:port or https://host:port")]
    InvalidTarget,
    /// Could not connect (HTTP's kind: `connection refused`, a TLS error).
    #[error("cannot connect: {0}")]
    Connect(&'static str),
    /// The server answers neither reflection service.
    #[error("the server does not serve gRPC reflection (grpc.reflection.v1 or v1alpha): give the step a `proto:`")]
    NotServed,
    /// The server does not know the service; it offers these.
    #[error("the server has no service `{service}` (it offers: {})", list(.offered))]
    UnknownService {
        /// The service asked for.
        service: String,
        /// What the server lists (reflection itself left out).
        offered: Vec<String>,
    },
    /// Reflection failed otherwise (a status, an undecodable or inconsistent file).
    #[error("reflection failed: {0}")]
    Failed(String),
    /// The server took longer than the timeout.
    #[error("reflection timed out")]
    Timeout,
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The files declaring `services` (fully qualified) on `target`, with their imports, as
/// a pool; TLS targets use `tls` (its ALPN should offer `h2`).
pub async fn discover(
    target: &str,
    tls: &Arc<rustls::ClientConfig>,
    services: &[String],
    timeout: Duration,
) -> Result<DescriptorPool, ReflectError> {
    match tokio::time::timeout(timeout, discover_inner(target, tls, services)).await {
        Ok(r) => r,
        Err(_) => Err(ReflectError::Timeout),
    }
}

async fn discover_inner(
    target: &str,
    tls: &Arc<rustls::ClientConfig>,
    services: &[String],
) -> Result<DescriptorPool, ReflectError> {
    let t = Target::parse(target).map_err(|_| ReflectError::InvalidTarget)?;
    let channel = open(&t, tls).await.map_err(|e| match e {
        crate::GrpcError::Connect(k) => ReflectError::Connect(k.name()),
        e => ReflectError::Failed(e.name().into()),
    })?;
    let mut r = Reflector {
        channel,
        path: None,
    };
    // every file, by name, encoded as the server sent it
    let mut files: BTreeMap<String, prost_types::FileDescriptorProto> = BTreeMap::new();
    for s in services {
        match r
            .ask(MessageRequest::FileContainingSymbol(s.clone()))
            .await?
        {
            Answer::Files(f) => add_files(&mut files, f)?,
            Answer::NotFound(_) => {
                let offered = r.services().await?;
                return Err(ReflectError::UnknownService {
                    service: s.clone(),
                    offered,
                });
            }
            Answer::Services(_) => return Err(unexpected()),
        }
    }
    // imports the server left out, asked for by name
    loop {
        let missing: Vec<String> = files
            .values()
            .flat_map(|f| f.dependency.iter())
            .filter(|d| !files.contains_key(*d))
            .cloned()
            .collect();
        let Some(name) = missing.into_iter().next() else {
            break;
        };
        match r.ask(MessageRequest::FileByFilename(name.clone())).await? {
            Answer::Files(f) if !f.is_empty() => add_files(&mut files, f)?,
            _ => {
                return Err(ReflectError::Failed(format!(
                    "the server did not send `{name}`, which its files import"
                )))
            }
        }
    }
    let mut pool = DescriptorPool::new();
    pool.add_file_descriptor_protos(files.into_values())
        .map_err(|e| ReflectError::Failed(e.to_string()))?;
    Ok(pool)
}

fn add_files(
    into: &mut BTreeMap<String, prost_types::FileDescriptorProto>,
    encoded: Vec<Vec<u8>>,
) -> Result<(), ReflectError> {
    for b in encoded {
        let f = prost_types::FileDescriptorProto::decode(b.as_slice())
            .map_err(|e| ReflectError::Failed(format!("a file descriptor: {e}")))?;
        into.entry(f.name().to_string()).or_insert(f);
    }
    Ok(())
}

fn unexpected() -> ReflectError {
    ReflectError::Failed("the server answered another question".into())
}

/// What one request gave.
enum Answer {
    Files(Vec<Vec<u8>>),
    Services(Vec<String>),
    /// NOT_FOUND (or another error code) and its message.
    NotFound(String),
}

/// A reflection client on one channel; it remembers which version the server speaks.
struct Reflector {
    channel: Channel,
    path: Option<&'static str>,
}

impl Reflector {
    /// The services the server lists, reflection's own left out.
    async fn services(&mut self) -> Result<Vec<String>, ReflectError> {
        match self
            .ask(MessageRequest::ListServices(String::new()))
            .await?
        {
            Answer::Services(s) => Ok(s
                .into_iter()
                .filter(|s| !s.starts_with("grpc.reflection."))
                .collect()),
            Answer::NotFound(m) => Err(ReflectError::Failed(m)),
            Answer::Files(_) => Err(unexpected()),
        }
    }

    /// One request on a stream of its own (sent, then the stream half-closed).
    async fn ask(&mut self, q: MessageRequest) -> Result<Answer, ReflectError> {
        let paths: &[&'static str] = match self.path {
            Some(p) => &[p][..],
            None => &[V1, V1ALPHA][..],
        };
        let paths: Vec<&'static str> = paths.to_vec();
        for path in paths {
            match self.ask_on(path, q.clone()).await {
                Err(s) if s.code() == tonic::Code::Unimplemented && self.path.is_none() => continue,
                Err(s) => {
                    return Err(ReflectError::Failed(format!(
                        "status {} ({}): {}",
                        s.code() as i32,
                        s.code().description(),
                        s.message()
                    )))
                }
                Ok(r) => {
                    self.path = Some(path);
                    return match r.message_response {
                        Some(MessageResponse::FileDescriptorResponse(f)) => {
                            Ok(Answer::Files(f.file_descriptor_proto))
                        }
                        Some(MessageResponse::ListServicesResponse(l)) => Ok(Answer::Services(
                            l.service.into_iter().map(|s| s.name).collect(),
                        )),
                        Some(MessageResponse::ErrorResponse(e)) => {
                            Ok(Answer::NotFound(e.error_message))
                        }
                        None => Err(unexpected()),
                    };
                }
            }
        }
        Err(ReflectError::NotServed)
    }

    async fn ask_on(
        &mut self,
        path: &'static str,
        q: MessageRequest,
    ) -> Result<ServerReflectionResponse, tonic::Status> {
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(q),
        };
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let codec = MsgCodec::<ServerReflectionRequest, ServerReflectionResponse>::default();
        let stream = futures_util::stream::iter(vec![req]);
        let resp = grpc
            .streaming(
                tonic::Request::new(stream),
                PathAndQuery::from_static(path),
                codec,
            )
            .await?;
        let mut stream = resp.into_inner();
        match stream.message().await? {
            Some(r) => Ok(r),
            None => Err(tonic::Status::internal("no reply")),
        }
    }
}
