//! The messages of gRPC server reflection (`grpc.reflection.v1.ServerReflection`, the
//! same as `v1alpha`), the few fields throng reads and writes, derived with prost: no
//! generated code, no `.proto` compiled at build time. A tonic codec for them.
use bytes::Buf;
use prost::Message;
use std::marker::PhantomData;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// The reflection method of v1 (tried first, as grpcurl does).
pub(crate) const V1: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
/// The reflection method of v1alpha (older servers).
pub(crate) const V1ALPHA: &str = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

/// A reflection request.
#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionRequest {
    /// The host the request is for (unused by most servers).
    #[prost(string, tag = "1")]
    pub host: String,
    /// What is asked.
    #[prost(oneof = "MessageRequest", tags = "3, 4, 7")]
    pub message_request: Option<MessageRequest>,
}

/// What a reflection request asks for.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MessageRequest {
    /// The file of this name (and the files it imports).
    #[prost(string, tag = "3")]
    FileByFilename(String),
    /// The file declaring this fully-qualified symbol (and the files it imports).
    #[prost(string, tag = "4")]
    FileContainingSymbol(String),
    /// The services the server offers.
    #[prost(string, tag = "7")]
    ListServices(String),
}

/// A reflection reply.
#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionResponse {
    /// The host it answers for.
    #[prost(string, tag = "1")]
    pub valid_host: String,
    /// The request it answers.
    #[prost(message, optional, tag = "2")]
    pub original_request: Option<ServerReflectionRequest>,
    /// The answer.
    #[prost(oneof = "MessageResponse", tags = "4, 6, 7")]
    pub message_response: Option<MessageResponse>,
}

/// The answer of a reflection reply.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MessageResponse {
    /// Encoded `FileDescriptorProto`s.
    #[prost(message, tag = "4")]
    FileDescriptorResponse(FileDescriptorResponse),
    /// The services offered.
    #[prost(message, tag = "6")]
    ListServicesResponse(ListServiceResponse),
    /// The request failed.
    #[prost(message, tag = "7")]
    ErrorResponse(ErrorResponse),
}

/// Encoded `FileDescriptorProto`s.
#[derive(Clone, PartialEq, Message)]
pub struct FileDescriptorResponse {
    /// Each a serialized `google.protobuf.FileDescriptorProto`.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub file_descriptor_proto: Vec<Vec<u8>>,
}

/// The services a server offers.
#[derive(Clone, PartialEq, Message)]
pub struct ListServiceResponse {
    /// One per service.
    #[prost(message, repeated, tag = "1")]
    pub service: Vec<ServiceResponse>,
}

/// A service a server offers.
#[derive(Clone, PartialEq, Message)]
pub struct ServiceResponse {
    /// Its fully-qualified name (`events.EventService`).
    #[prost(string, tag = "1")]
    pub name: String,
}

/// A failed reflection request.
#[derive(Clone, PartialEq, Message)]
pub struct ErrorResponse {
    /// A gRPC status code (5 = NOT_FOUND).
    #[prost(int32, tag = "1")]
    pub error_code: i32,
    /// Why.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// Encodes `E`s, decodes `D`s.
pub(crate) struct MsgCodec<E, D>(PhantomData<fn(E) -> D>);

impl<E, D> Default for MsgCodec<E, D> {
    fn default() -> Self {
        MsgCodec(PhantomData)
    }
}

impl<E, D> Codec for MsgCodec<E, D>
where
    E: Message + Send + 'static,
    D: Message + Default + Send + 'static,
{
    type Encode = E;
    type Decode = D;
    type Encoder = MsgCodec<E, D>;
    type Decoder = MsgCodec<E, D>;

    fn encoder(&mut self) -> Self::Encoder {
        MsgCodec::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        MsgCodec::default()
    }
}

impl<E: Message + Send + 'static, D> Encoder for MsgCodec<E, D> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, item: E, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding: {e}")))
    }
}

impl<E, D: Message + Default + Send + 'static> Decoder for MsgCodec<E, D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        let n = src.remaining();
        D::decode(src.copy_to_bytes(n))
            .map(Some)
            .map_err(|e| Status::internal(format!("decoding: {e}")))
    }
}
