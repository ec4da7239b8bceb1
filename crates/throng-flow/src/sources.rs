//! The run's database clients, one per `data_sources:` entry, shared by every flow: a
//! PostgreSQL pool (exact connection counts) or a Redis client (one multiplexed
//! connection).
use std::sync::Arc;
use throng_plan::{Plan, SourceKind};
use throng_redis::RedisClient;
use throng_sql::{PoolOptions, SqlPool};

/// One data source's client.
pub enum SourceClient {
    /// A PostgreSQL pool.
    Postgres(Arc<SqlPool>),
    /// A Redis server.
    Redis(Arc<RedisClient>),
    /// The URL was refused by the client library (every step on it fails as an invalid
    /// URL).
    Invalid,
}

impl SourceClient {
    /// The clients of a plan's sources, by index (none connects before its first step).
    pub fn for_plan(plan: &Plan) -> Arc<[SourceClient]> {
        plan.sources
            .iter()
            .map(|s| match &s.kind {
                SourceKind::Postgres {
                    url,
                    pool,
                    acquire_timeout,
                    statement_timeout,
                    connect_timeout,
                    ca_file,
                } => SqlPool::new(&PoolOptions {
                    url: url.clone(),
                    size: *pool,
                    acquire_timeout: *acquire_timeout,
                    statement_timeout: *statement_timeout,
                    connect_timeout: *connect_timeout,
                    ca_file: ca_file.clone(),
                })
                .map_or(SourceClient::Invalid, SourceClient::Postgres),
                SourceKind::Redis { url } => RedisClient::new(url)
                    .map_or(SourceClient::Invalid, |c| SourceClient::Redis(Arc::new(c))),
            })
            .collect()
    }

    /// The pool, when this is a PostgreSQL source.
    pub fn pool(&self) -> Option<&Arc<SqlPool>> {
        match self {
            SourceClient::Postgres(p) => Some(p),
            _ => None,
        }
    }
}
