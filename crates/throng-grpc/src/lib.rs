//! throng-grpc: a gRPC client for load with no generated code. Methods come from a
//! `.proto` compiled at plan load (`prost_reflect::MethodDescriptor`); messages are JSON
//! turned into `DynamicMessage`s. [`GrpcClient::execute`] makes one unary or
//! server-streaming call and returns its status, timing and reply as a [`GrpcResponse`].
//! It records no metrics: the flow does (k6's `grpc_req_duration`, and `grpc_reqs`).
#![warn(missing_docs)]

mod call;
mod codec;
mod connect;
mod error;

pub use call::{GrpcClient, GrpcRequest, GrpcResponse};
pub use error::GrpcError;
