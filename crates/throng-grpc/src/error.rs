//! Why a call failed before a gRPC status could tell.
use throng_http::ErrorKind;

/// A call that got no gRPC status of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum GrpcError {
    /// Could not connect (DNS, refused, reset, TLS): HTTP's kinds.
    #[error("{}", .0.name())]
    Connect(ErrorKind),
    /// The target is not `host:port`, `http://host:port` or `https://host:port`.
    #[error("invalid target")]
    InvalidTarget,
    /// The rendered message is not the method's input message as JSON.
    #[error("invalid message")]
    InvalidMessage,
    /// The call took longer than its timeout.
    #[error("timeout")]
    Timeout,
    /// The step has no `proto:` and its method was not found by reflection before.
    #[error("method not resolved by reflection")]
    Unresolved,
}

impl GrpcError {
    /// k6-style code: HTTP's for connection failures, 1800s for gRPC's own.
    pub fn code(self) -> u16 {
        match self {
            GrpcError::Connect(k) => k.code(),
            GrpcError::InvalidTarget => 1020,
            GrpcError::Timeout => 1050,
            GrpcError::InvalidMessage => 1801,
            GrpcError::Unresolved => 1802,
        }
    }

    /// A short name for tags and reports.
    pub fn name(self) -> &'static str {
        match self {
            GrpcError::Connect(k) => k.name(),
            GrpcError::InvalidTarget => "invalid target",
            GrpcError::Timeout => "timeout",
            GrpcError::InvalidMessage => "invalid grpc message",
            GrpcError::Unresolved => "grpc method not resolved",
        }
    }
}
