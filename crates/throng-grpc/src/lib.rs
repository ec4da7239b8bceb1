//! throng-grpc: a gRPC client for load with no generated code. Methods come from a
//! `.proto` compiled at plan load (`prost_reflect::MethodDescriptor`); messages are JSON
//! turned into `DynamicMessage`s. [`GrpcClient::execute`] makes one unary or
//! server-streaming call and returns its status, timing and reply as a [`GrpcResponse`].
//! Without a `.proto`, [`discover`] asks the server by reflection; [`Reflection`] answers
//! reflection for servers that speak gRPC by hand (the test and demo servers).
//! It records no metrics: the flow does (k6's `grpc_req_duration`, and `grpc_reqs`).
#![warn(missing_docs)]

mod call;
mod codec;
mod connect;
mod discover;
mod error;
pub mod reflection;
mod reflection_server;

pub use call::{GrpcClient, GrpcRequest, GrpcResponse};
pub use discover::{discover, ReflectError};
pub use error::GrpcError;
pub use reflection_server::{is_reflection_path, Reflection};
