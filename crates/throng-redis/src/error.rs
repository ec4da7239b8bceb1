//! Why a command failed.
use throng_http::ErrorKind;

/// A failed command or pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RedisError {
    /// Could not connect, or the connection broke: HTTP's kinds.
    #[error("{}", .0.name())]
    Connect(ErrorKind),
    /// The server answered with an error (`ERR ...`, `WRONGTYPE ...`, `NOAUTH ...`).
    #[error("redis error")]
    Server,
    /// The command took longer than its timeout.
    #[error("timeout")]
    Timeout,
    /// The URL is not a `redis://` URL.
    #[error("invalid url")]
    InvalidUrl,
}

impl RedisError {
    /// k6-style code: HTTP's for connection failures, 2000s for Redis's own.
    pub fn code(self) -> u16 {
        match self {
            RedisError::Connect(k) => k.code(),
            RedisError::Timeout => 1050,
            RedisError::InvalidUrl => 1020,
            RedisError::Server => 2001,
        }
    }

    /// A short name for tags and reports.
    pub fn name(self) -> &'static str {
        match self {
            RedisError::Connect(k) => k.name(),
            RedisError::Timeout => "timeout",
            RedisError::InvalidUrl => "invalid url",
            RedisError::Server => "redis error",
        }
    }

    pub(crate) fn from_redis(e: &redis::RedisError) -> RedisError {
        if e.is_connection_refusal() {
            RedisError::Connect(ErrorKind::ConnectionRefused)
        } else if e.is_timeout() {
            RedisError::Timeout
        } else if e.is_connection_dropped() {
            RedisError::Connect(ErrorKind::ConnectionReset)
        } else if e.is_io_error() {
            RedisError::Connect(ErrorKind::Network)
        } else if e.code().is_some() {
            RedisError::Server
        } else {
            RedisError::Connect(ErrorKind::Protocol)
        }
    }
}
