//! The pool: at most `size` connections, opened on demand and kept; statements prepared
//! once per connection.
use crate::params::{TextParam, TextValue};
use crate::tls::{pg_config, MakeRustls};
use crate::SqlError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

/// A pool's settings (`data_sources: { db: { postgres: URL, pool, acquire_timeout,
/// statement_timeout } }`).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Most connections open at once.
    pub size: usize,
    /// Longest wait for a free connection.
    pub acquire_timeout: Duration,
    /// The server cancels statements running longer (`SET statement_timeout`).
    pub statement_timeout: Option<Duration>,
    /// Longest a new connection may take.
    pub connect_timeout: Duration,
    /// The CA certificates (PEM) a `verify-ca`/`verify-full` connection trusts, beside the
    /// URL's `sslrootcert=`.
    pub ca_file: Option<std::path::PathBuf>,
}

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// A pool of connections to one database.
pub struct SqlPool {
    cfg: tokio_postgres::Config,
    tls: MakeRustls,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Conn>>,
    opened: AtomicU64,
    acquire_timeout: Duration,
}

/// What one statement did.
#[derive(Debug, Clone, Default)]
pub struct SqlResponse {
    /// Why it failed, if it did.
    pub error: Option<SqlError>,
    /// Time the statement took (prepare on first use included), ms.
    pub duration_ms: f64,
    /// Time waiting for a connection of the pool, ms.
    pub pool_wait_ms: f64,
    /// Rows returned (or affected, for a statement that returns none).
    pub rows: u64,
    /// The first row: column name and value as text.
    pub first_row: Vec<(String, String)>,
    /// Every row as a JSON array of objects (values as text), when kept.
    pub body: Vec<u8>,
}

impl SqlResponse {
    /// The first row's value of `column`.
    pub fn column(&self, column: &str) -> Option<&str> {
        self.first_row
            .iter()
            .find(|(k, _)| k == column)
            .map(|(_, v)| v.as_str())
    }
}

impl SqlPool {
    /// A pool for `opts` (no connection is opened yet); an error when the URL is not a
    /// PostgreSQL connection string.
    pub fn new(opts: &PoolOptions) -> Result<Arc<SqlPool>, String> {
        let (mut cfg, tls) = pg_config(&opts.url, opts.ca_file.as_deref())?;
        cfg.connect_timeout(opts.connect_timeout);
        if let Some(t) = opts.statement_timeout {
            cfg.options(format!("-c statement_timeout={}", t.as_millis()));
        }
        Ok(Arc::new(SqlPool {
            cfg,
            tls,
            permits: Arc::new(Semaphore::new(opts.size.max(1))),
            idle: Mutex::new(Vec::new()),
            opened: AtomicU64::new(0),
            acquire_timeout: opts.acquire_timeout,
        }))
    }

    /// Connections opened so far (never more than `size` at once).
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::SeqCst)
    }

    /// Takes a connection (opening one when none is idle), waiting at most
    /// `acquire_timeout` for one to come free; returns it with the time it took to have a
    /// usable connection (the wait, plus connecting when a new one was opened), ms.
    pub async fn acquire(self: &Arc<Self>) -> (Result<SqlConn, SqlError>, f64) {
        let t0 = Instant::now();
        let permit =
            tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned()).await;
        let waited = ms(t0);
        let permit = match permit {
            Ok(Ok(p)) => p,
            _ => return (Err(SqlError::PoolTimeout), waited),
        };
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match idle {
            Some(c) if !c.client.is_closed() => c,
            _ => match self.cfg.connect(self.tls.clone()).await {
                Ok((client, connection)) => {
                    self.opened.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(connection);
                    Conn {
                        client,
                        statements: HashMap::new(),
                    }
                }
                Err(e) => return (Err(SqlError::from_pg(&e)), ms(t0)),
            },
        };
        let waited = ms(t0);
        (
            Ok(SqlConn {
                conn: Some(conn),
                pool: self.clone(),
                _permit: permit,
            }),
            waited,
        )
    }
}

/// A connection taken from the pool; it goes back when dropped (unless it broke).
pub struct SqlConn {
    conn: Option<Conn>,
    pool: Arc<SqlPool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for SqlConn {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if !c.client.is_closed() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(c);
                }
            }
        }
    }
}

impl SqlConn {
    /// Runs `sql` with `params` (text, sent as the statement's parameter types); keeps
    /// every row as JSON when `keep_body`.
    pub async fn query(&mut self, sql: &str, params: &[String], keep_body: bool) -> SqlResponse {
        let t0 = Instant::now();
        let mut out = SqlResponse::default();
        if let Err(e) = self.run(sql, params, keep_body, &mut out).await {
            out.error = Some(e);
        }
        out.duration_ms = t0.elapsed().as_secs_f64() * 1000.0;
        out
    }

    /// Runs statements without parameters or results (`BEGIN`, `COMMIT`, `ROLLBACK`).
    pub async fn batch(&mut self, sql: &str) -> Result<(), SqlError> {
        let Some(c) = self.conn.as_mut() else {
            return Err(SqlError::Closed);
        };
        c.client
            .batch_execute(sql)
            .await
            .map_err(|e| SqlError::from_pg(&e))
    }

    async fn run(
        &mut self,
        sql: &str,
        params: &[String],
        keep_body: bool,
        out: &mut SqlResponse,
    ) -> Result<(), SqlError> {
        let Some(c) = self.conn.as_mut() else {
            return Err(SqlError::Closed);
        };
        let stmt = match c.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = c
                    .client
                    .prepare(sql)
                    .await
                    .map_err(|e| SqlError::from_pg(&e))?;
                c.statements.insert(sql.to_string(), s.clone());
                s
            }
        };
        if stmt.params().len() != params.len() {
            return Err(SqlError::Param);
        }
        let texts: Vec<TextParam<'_>> = params.iter().map(|p| TextParam(p)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            texts.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let classify = |e: tokio_postgres::Error| {
            if e.to_string().starts_with("error serializing parameter") {
                SqlError::Param
            } else {
                SqlError::from_pg(&e)
            }
        };
        if stmt.columns().is_empty() {
            out.rows = c.client.execute(&stmt, &refs).await.map_err(classify)?;
            return Ok(());
        }
        let rows = c.client.query(&stmt, &refs).await.map_err(classify)?;
        out.rows = rows.len() as u64;
        let text = |r: &tokio_postgres::Row, i: usize| {
            r.try_get::<_, TextValue>(i)
                .map(|v| v.0)
                .unwrap_or_default()
        };
        if let Some(r) = rows.first() {
            out.first_row = r
                .columns()
                .iter()
                .enumerate()
                .map(|(i, col)| (col.name().to_string(), text(r, i)))
                .collect();
        }
        if keep_body {
            let all: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    r.columns()
                        .iter()
                        .enumerate()
                        .map(|(i, col)| (col.name().to_string(), text(r, i).into()))
                        .collect()
                })
                .collect();
            out.body = serde_json::to_vec(&all).unwrap_or_default();
        }
        Ok(())
    }
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}
