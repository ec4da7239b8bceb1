//! The pool against a private PostgreSQL: never more connections than its size, each
//! statement prepared once per connection.
use std::sync::Arc;
use std::time::Duration;
use throng_sql::{PoolOptions, SqlError, SqlPool};
use throng_testkit::services;

fn opts(url: String, size: usize, acquire_ms: u64) -> PoolOptions {
    PoolOptions {
        url,
        size,
        acquire_timeout: Duration::from_millis(acquire_ms),
        statement_timeout: Some(Duration::from_millis(300)),
        connect_timeout: Duration::from_secs(5),
        ca_file: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_opens_at_most_its_size_and_prepares_once_per_connection() {
    let pg = match services::postgres() {
        Ok(pg) => pg,
        Err(skip) => return skip.report("pool size"),
    };
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    pg.psql("SELECT pg_stat_statements_reset()");
    let pool = SqlPool::new(&opts(pg.url(), 3, 5000)).expect("url");
    let mut tasks = Vec::new();
    for i in 0..30 {
        let pool = Arc::clone(&pool);
        tasks.push(tokio::spawn(async move {
            let (conn, _) = pool.acquire().await;
            let mut c = conn.expect("a connection");
            let r = c
                .query(
                    "SELECT $1::int + 1 AS n, pg_sleep(0.01)",
                    &[i.to_string()],
                    false,
                )
                .await;
            assert_eq!(r.error, None);
            assert_eq!(r.column("n"), Some((i + 1).to_string().as_str()));
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(pool.opened(), 3);
    // executed 30 times, on 3 connections
    let stats = pg.psql("SELECT calls FROM pg_stat_statements WHERE query LIKE '%AS n, pg_sleep%'");
    assert_eq!(stats, "30");
    let open = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'throng' AND application_name = '' AND backend_type = 'client backend'");
    assert_eq!(open, "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_and_pool_timeout_are_errors_of_their_kind() {
    let pg = match services::postgres() {
        Ok(pg) => pg,
        Err(skip) => return skip.report("timeouts"),
    };
    let pool = SqlPool::new(&opts(pg.url(), 1, 50)).expect("url");
    let (c, _) = pool.acquire().await;
    let mut c = c.expect("a connection");
    let r = c.query("SELECT pg_sleep(2)", &[], false).await;
    assert_eq!(r.error, Some(SqlError::Server("57014")));
    let (second, waited) = pool.acquire().await;
    assert_eq!(second.err(), Some(SqlError::PoolTimeout));
    assert!(waited >= 50.0, "{waited}");
    drop(c);
    assert!(pool.acquire().await.0.is_ok());
    assert_eq!(pool.opened(), 1);
}
