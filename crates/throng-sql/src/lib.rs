//! throng-sql: a PostgreSQL client for load. A [`SqlPool`] holds at most `size`
//! connections (exact: a semaphore, connections opened on demand and kept), each caching
//! its prepared statements; [`SqlPool::acquire`] waits at most `acquire_timeout` (then
//! [`SqlError::PoolTimeout`]). [`SqlConn::query`] runs one statement with text parameters
//! converted to the statement's types and returns a timed [`SqlResponse`]. It records no
//! metrics: the flow does (`sql_query_duration`, `sql_pool_wait`, `sql_queries`,
//! `sql_errors`). TLS follows the URL's `sslmode=` and `sslrootcert=` as libpq does
//! ([`pg_config`], over rustls).
#![warn(missing_docs)]

mod error;
mod params;
mod pool;
mod tls;

pub use error::SqlError;
pub use pool::{PoolOptions, SqlConn, SqlPool, SqlResponse};
pub use tls::{
    pg_config, split_tls_params, MakeRustls, RustlsConnect, RustlsStream, SslMode, TlsParams,
};
