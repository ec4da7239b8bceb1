//! Why a query failed: the pool, the connection, or the server (by SQLSTATE).
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use throng_http::ErrorKind;

/// A failed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SqlError {
    /// No connection of the pool came free within `acquire_timeout`.
    #[error("pool_timeout")]
    PoolTimeout,
    /// Could not connect (refused, reset, DNS, timeout): HTTP's kinds.
    #[error("{}", .0.name())]
    Connect(ErrorKind),
    /// The server refused or failed the statement (or the login): its SQLSTATE, e.g.
    /// `28P01` (wrong password), `3D000` (unknown database), `42601` (syntax error),
    /// `57014` (statement_timeout).
    #[error("sqlstate {0}")]
    Server(&'static str),
    /// A parameter is not a value of the statement's parameter type.
    #[error("invalid parameter")]
    Param,
    /// The connection broke.
    #[error("connection closed")]
    Closed,
    /// `sslmode` asks for TLS and the server does not offer it.
    #[error("server does not support tls")]
    NoTls,
}

impl SqlError {
    /// k6-style code: HTTP's for connection failures, 1900s for SQL's own.
    pub fn code(self) -> u16 {
        match self {
            SqlError::Connect(k) => k.code(),
            SqlError::PoolTimeout => 1901,
            SqlError::Server(_) => 1902,
            SqlError::Param => 1903,
            SqlError::Closed => 1904,
            SqlError::NoTls => 1905,
        }
    }

    /// A short name for tags and reports (`pool_timeout`, `sqlstate 42601`).
    pub fn name(self) -> &'static str {
        match self {
            SqlError::Connect(k) => k.name(),
            SqlError::PoolTimeout => "pool_timeout",
            SqlError::Server(_) => "sql error",
            SqlError::Param => "invalid parameter",
            SqlError::Closed => "connection closed",
            SqlError::NoTls => "server does not support tls",
        }
    }

    /// The SQLSTATE the server answered with, if it did.
    pub fn sqlstate(self) -> Option<&'static str> {
        match self {
            SqlError::Server(s) => Some(s),
            _ => None,
        }
    }

    /// Classifies a tokio-postgres error.
    pub(crate) fn from_pg(e: &tokio_postgres::Error) -> SqlError {
        if let Some(code) = e.code() {
            return SqlError::Server(intern(code.code()));
        }
        let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                // a handshake's failure (an unknown authority, a name mismatch) is TLS's
                return SqlError::Connect(ErrorKind::from_tls(io));
            }
            if s.to_string() == "server does not support TLS" {
                return SqlError::NoTls;
            }
            src = s.source();
        }
        if e.is_closed() {
            SqlError::Closed
        } else {
            SqlError::Connect(ErrorKind::Protocol)
        }
    }
}

/// A SQLSTATE as a `&'static str`: each distinct code (a few hundred exist) is kept once.
fn intern(code: &str) -> &'static str {
    static CODES: OnceLock<Mutex<HashMap<String, &'static str>>> = OnceLock::new();
    let m = CODES.get_or_init(Default::default);
    let mut m = m.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = m.get(code) {
        return s;
    }
    let s: &'static str = Box::leak(code.to_string().into_boxed_str());
    m.insert(code.to_string(), s);
    s
}
