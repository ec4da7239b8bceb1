//! `postgres:` a PostgreSQL server's statistics views, over one connection kept between
//! samples (reopened after a failure):
//! - `pg_stat_activity` (client backends other than the monitor's own): `connections`,
//!   `connections:active`, `connections:idle`, `connections:idle_in_transaction`,
//!   `connections:waiting` (waiting on a lock);
//! - `pg_locks`: `locks_waiting` (lock requests not granted);
//! - `pg_stat_database` (all databases): per-second rates from counter deltas —
//!   `xacts:rate` (commits + rollbacks, less the monitor's own statements), `rollbacks:rate`, `rows_returned:rate`,
//!   `rows_fetched:rate`, `rows_inserted:rate`, `rows_updated:rate`, `rows_deleted:rate` —
//!   `deadlocks` (increase since the first sample) and `cache_hit_ratio` (blocks found in
//!   shared buffers ÷ blocks needed, over the interval, 0–1);
//! - `pg_stat_statements` when the extension is installed in the monitored database:
//!   `queries:rate` (calls per second) and `query_mean_ms` (execution time ÷ calls over the
//!   interval), and the top queries by mean time as facts (optionally reset at the first
//!   sample).
//!
//! PostgreSQL updates its cumulative statistics when a backend ends a transaction (at most
//! once a second), so rates lag the load by up to a second.
use crate::{Monitor, MonitorError, SampleCx, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How long connecting and one sample's queries may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Longest query text kept in a fact.
const QUERY_TEXT: usize = 120;

/// The cumulative counters of `pg_stat_database` (summed over databases).
#[derive(Debug, Clone, Copy, Default)]
struct DbCounters {
    commits: f64,
    rollbacks: f64,
    returned: f64,
    fetched: f64,
    inserted: f64,
    updated: f64,
    deleted: f64,
    deadlocks: f64,
    blks_read: f64,
    blks_hit: f64,
    /// `pg_stat_statements`: calls and total execution time (ms), when installed.
    calls: Option<(f64, f64)>,
    /// The monitor's own statements so far (each a transaction), taken out of `xacts:rate`.
    own: f64,
}

/// One top query of `pg_stat_statements`.
#[derive(Debug, Clone)]
struct TopQuery {
    query: String,
    calls: i64,
    mean_ms: f64,
}

/// The PostgreSQL monitor.
pub struct PostgresMonitor {
    url: String,
    top: usize,
    reset: bool,
    rt: Option<tokio::runtime::Runtime>,
    client: Option<Client>,
    first: Option<DbCounters>,
    last: Option<(Instant, DbCounters)>,
    statements: Option<bool>,
    top_queries: Vec<TopQuery>,
    /// Statements the monitor has run.
    own: f64,
}

impl PostgresMonitor {
    /// A monitor of the server at `url`, reporting `top` queries (resetting
    /// `pg_stat_statements` first when `reset`).
    pub fn new(url: &str, top: usize, reset: bool) -> PostgresMonitor {
        PostgresMonitor {
            url: url.to_string(),
            top,
            reset,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok(),
            client: None,
            first: None,
            last: None,
            statements: None,
            top_queries: Vec::new(),
            own: 0.0,
        }
    }
}

fn pg_err(e: tokio_postgres::Error) -> MonitorError {
    // the source says why (password authentication failed, connection refused)
    match std::error::Error::source(&e) {
        Some(s) => MonitorError(format!("{e}: {s}")),
        None => MonitorError(e.to_string()),
    }
}

async fn connect(url: &str) -> Result<Client, MonitorError> {
    // sslmode and sslrootcert as libpq reads them, TLS over rustls
    let (mut cfg, tls) = throng_sql::pg_config(url, None)
        .map_err(|e| MonitorError(format!("bad postgres URL: {e}")))?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(TIMEOUT);
    }
    cfg.application_name("throng-monitor");
    let (client, conn) = cfg.connect(tls).await.map_err(pg_err)?;
    tokio::spawn(conn);
    Ok(client)
}

fn f(row: &tokio_postgres::Row, i: usize) -> f64 {
    row.try_get::<_, Option<f64>>(i)
        .ok()
        .flatten()
        .unwrap_or(0.0)
}

async fn read(
    c: &Client,
    statements: bool,
    top: usize,
) -> Result<(Vec<Value>, DbCounters, Vec<TopQuery>), MonitorError> {
    let mut out = Vec::new();
    let mut states: BTreeMap<&str, f64> =
        [("active", 0.0), ("idle", 0.0), ("idle_in_transaction", 0.0)]
            .into_iter()
            .collect();
    let rows = c
        .query(
            "select coalesce(state, ''), (wait_event_type = 'Lock')::int::float8 \
             from pg_stat_activity \
             where backend_type = 'client backend' and pid <> pg_backend_pid()",
            &[],
        )
        .await
        .map_err(pg_err)?;
    let mut waiting = 0.0;
    for r in &rows {
        let state: String = r.try_get(0).unwrap_or_default();
        let key = match state.as_str() {
            "active" => "active",
            "idle" => "idle",
            s if s.starts_with("idle in transaction") => "idle_in_transaction",
            _ => "",
        };
        if let Some(n) = states.get_mut(key) {
            *n += 1.0;
        }
        waiting += f(r, 1);
    }
    out.push(Value::new("connections", rows.len() as f64));
    for (k, n) in states {
        out.push(Value::new(format!("connections:{k}"), n));
    }
    out.push(Value::new("connections:waiting", waiting));
    let locks = c
        .query_one(
            "select count(*)::float8 from pg_locks where not granted",
            &[],
        )
        .await
        .map_err(pg_err)?;
    out.push(Value::new("locks_waiting", f(&locks, 0)));
    let d = c
        .query_one(
            "select sum(xact_commit)::float8, sum(xact_rollback)::float8, \
             sum(tup_returned)::float8, sum(tup_fetched)::float8, sum(tup_inserted)::float8, \
             sum(tup_updated)::float8, sum(tup_deleted)::float8, sum(deadlocks)::float8, \
             sum(blks_read)::float8, sum(blks_hit)::float8 \
             from pg_stat_database",
            &[],
        )
        .await
        .map_err(pg_err)?;
    let mut counters = DbCounters {
        commits: f(&d, 0),
        rollbacks: f(&d, 1),
        returned: f(&d, 2),
        fetched: f(&d, 3),
        inserted: f(&d, 4),
        updated: f(&d, 5),
        deleted: f(&d, 6),
        deadlocks: f(&d, 7),
        blks_read: f(&d, 8),
        blks_hit: f(&d, 9),
        calls: None,
        own: 0.0,
    };
    let mut tops = Vec::new();
    if statements {
        let s = c
            .query_one(
                "select coalesce(sum(calls), 0)::float8, coalesce(sum(total_exec_time), 0)::float8 \
                 from pg_stat_statements",
                &[],
            )
            .await
            .map_err(pg_err)?;
        counters.calls = Some((f(&s, 0), f(&s, 1)));
        if top > 0 {
            let rows = c
                .query(
                    "select query, calls, mean_exec_time from pg_stat_statements \
                     where query not like '%pg_stat_statements%' \
                     order by mean_exec_time desc limit $1",
                    &[&(top as i64)],
                )
                .await
                .map_err(pg_err)?;
            for r in rows {
                let query: String = r.try_get(0).unwrap_or_default();
                tops.push(TopQuery {
                    query: query.split_whitespace().collect::<Vec<_>>().join(" "),
                    calls: r.try_get(1).unwrap_or(0),
                    mean_ms: r.try_get(2).unwrap_or(0.0),
                });
            }
        }
    }
    Ok((out, counters, tops))
}

/// The values computed from two readings of the counters `dt` seconds apart.
fn rates(prev: &DbCounters, now: &DbCounters, first: &DbCounters, dt: f64) -> Vec<Value> {
    let mut out = Vec::new();
    let d = |a: f64, b: f64| (b - a).max(0.0);
    out.push(Value::new("deadlocks", d(first.deadlocks, now.deadlocks)));
    if dt > 0.0 {
        let pairs = [
            (
                "xacts:rate",
                (d(prev.commits + prev.rollbacks, now.commits + now.rollbacks)
                    - d(prev.own, now.own))
                .max(0.0),
            ),
            ("rollbacks:rate", d(prev.rollbacks, now.rollbacks)),
            ("rows_returned:rate", d(prev.returned, now.returned)),
            ("rows_fetched:rate", d(prev.fetched, now.fetched)),
            ("rows_inserted:rate", d(prev.inserted, now.inserted)),
            ("rows_updated:rate", d(prev.updated, now.updated)),
            ("rows_deleted:rate", d(prev.deleted, now.deleted)),
        ];
        for (name, delta) in pairs {
            out.push(Value::new(name, delta / dt));
        }
        if let (Some((c0, t0)), Some((c1, t1))) = (prev.calls, now.calls) {
            let calls = d(c0, c1);
            out.push(Value::new("queries:rate", calls / dt));
            if calls > 0.0 {
                out.push(Value::new("query_mean_ms", d(t0, t1) / calls));
            }
        }
    }
    let read = d(prev.blks_read, now.blks_read);
    let hit = d(prev.blks_hit, now.blks_hit);
    if read + hit > 0.0 {
        out.push(Value::new("cache_hit_ratio", hit / (read + hit)));
    }
    out
}

impl Monitor for PostgresMonitor {
    fn sample(&mut self, _cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let Some(rt) = &self.rt else {
            return Err(MonitorError("cannot start the monitor's runtime".into()));
        };
        let (url, top) = (self.url.clone(), self.top);
        let client = self.client.take();
        let statements = self.statements;
        let reset = self.reset && statements.is_none();
        let res = rt.block_on(async move {
            tokio::time::timeout(TIMEOUT, async move {
                let client = match client {
                    Some(c) if !c.is_closed() => c,
                    _ => connect(&url).await?,
                };
                let statements = match statements {
                    Some(s) => s,
                    None => {
                        let has = client
                            .query_opt(
                                "select 1 from pg_extension where extname = 'pg_stat_statements'",
                                &[],
                            )
                            .await
                            .map_err(pg_err)?
                            .is_some();
                        if has && reset {
                            client
                                .execute("select pg_stat_statements_reset()", &[])
                                .await
                                .map_err(pg_err)?;
                        }
                        has
                    }
                };
                let r = read(&client, statements, top).await?;
                Ok::<_, MonitorError>((client, statements, r))
            })
            .await
            .map_err(|_| MonitorError(format!("no answer within {TIMEOUT:?}")))?
        });
        let (client, statements, (mut out, mut counters, tops)) = res?;
        // activity, locks, database; with pg_stat_statements its sum and the top queries
        self.own += if statements { 5.0 } else { 3.0 };
        counters.own = self.own;
        self.client = Some(client);
        self.statements = Some(statements);
        if statements {
            self.top_queries = tops;
        }
        let now = Instant::now();
        let first = *self.first.get_or_insert(counters);
        let (prev_at, prev) = self.last.unwrap_or((now, counters));
        out.extend(rates(
            &prev,
            &counters,
            &first,
            (now - prev_at).as_secs_f64(),
        ));
        self.last = Some((now, counters));
        Ok(out)
    }

    fn facts(&self) -> Vec<(String, String)> {
        match self.statements {
            None => Vec::new(),
            Some(false) => vec![(
                "pg_stat_statements".into(),
                "not installed in this database (CREATE EXTENSION pg_stat_statements; needs shared_preload_libraries)".into(),
            )],
            Some(true) => self
                .top_queries
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let mut text: String = q.query.chars().take(QUERY_TEXT).collect();
                    if q.query.chars().count() > QUERY_TEXT {
                        text.push('…');
                    }
                    (
                        format!("top query {}", i + 1),
                        format!("{:.2} ms mean × {} calls: {text}", q.mean_ms, q.calls),
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_from_counter_deltas() {
        let first = DbCounters::default();
        let prev = DbCounters {
            commits: 100.0,
            blks_hit: 90.0,
            blks_read: 10.0,
            calls: Some((10.0, 50.0)),
            ..DbCounters::default()
        };
        let now = DbCounters {
            commits: 153.0,
            own: 3.0,
            rollbacks: 10.0,
            inserted: 20.0,
            deadlocks: 1.0,
            blks_hit: 189.0,
            blks_read: 11.0,
            calls: Some((30.0, 90.0)),
            ..DbCounters::default()
        };
        let v: BTreeMap<String, f64> = rates(&prev, &now, &first, 2.0)
            .into_iter()
            .map(|v| (v.series, v.value))
            .collect();
        assert_eq!(v["xacts:rate"], 30.0);
        assert_eq!(v["rollbacks:rate"], 5.0);
        assert_eq!(v["rows_inserted:rate"], 10.0);
        assert_eq!(v["deadlocks"], 1.0);
        assert_eq!(v["cache_hit_ratio"], 0.99);
        assert_eq!(v["queries:rate"], 10.0);
        assert_eq!(v["query_mean_ms"], 2.0);
        // the first sample: no interval, no rates
        let v = rates(&now, &now, &now, 0.0);
        assert!(v.iter().all(|v| !v.series.ends_with(":rate")), "{v:?}");
    }
}
