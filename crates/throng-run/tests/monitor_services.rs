//! PostgreSQL, Redis and PromQL monitors in whole runs against private servers started by
//! throng-testkit's `services` (skipped, saying why, when a server is not installed).
mod common;

use common::{count, plan, run_plan};
use throng_demo::{DemoConfig, DemoServer};
use throng_monitor::MonitorReport;
use throng_testkit::services;

fn monitor<'a>(o: &'a throng_run::RunOutcome, name: &str) -> &'a MonitorReport {
    o.results
        .monitors
        .as_ref()
        .and_then(|m| m.monitors.iter().find(|r| r.name == name))
        .unwrap_or_else(|| panic!("no monitor {name}"))
}

fn points(m: &MonitorReport, series: &str) -> Vec<f64> {
    m.series
        .get(series)
        .map(|p| p.iter().map(|(_, v)| *v).collect())
        .unwrap_or_else(|| panic!("no series {series} in {:?}", m.series.keys()))
}

/// N idle connections, held until dropped.
async fn open_connections(url: &str, n: usize) -> Vec<tokio_postgres::Client> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connects");
        tokio::spawn(conn);
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_and_promql_monitors_read_what_the_test_set() {
    let test = "postgres_redis_and_promql_monitors_read_what_the_test_set";
    let demo = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let demo_addr = demo.addr().to_string();
    let started = tokio::task::spawn_blocking(move || {
        Ok::<_, services::Skip>((
            services::postgres()?,
            services::redis()?,
            services::prometheus(&[demo_addr])?,
        ))
    })
    .await
    .expect("join");
    let (pg, redis, prom) = match started {
        Ok(s) => s,
        Err(skip) => return skip.report(test),
    };
    // Redis: a queue of exactly 42
    let args: Vec<String> = (0..42).map(|i| i.to_string()).collect();
    let mut rpush = vec!["RPUSH", "mutt:queue"];
    rpush.extend(args.iter().map(String::as_str));
    assert_eq!(redis.command(&rpush).expect("rpush"), ":42\r\n");
    // PostgreSQL: 6 connections of the test's own (idle during the run), and
    // pg_stat_statements for the top queries
    pg.psql("create extension pg_stat_statements");
    let conns = open_connections(&pg.url(), 6).await;
    for c in &conns {
        c.query_one("select count(*) from pg_class", &[])
            .await
            .expect("query");
    }
    let p = plan(
        &format!(
            r#"
base_url: BASE
scenarios:
  load:
    executor: constant-arrival-rate
    rate: 50
    duration: 2s
    preAllocatedVUs: 5
    flow: [ {{get: /health}} ]
  # the run goes on 4 s after the load, so Prometheus (scraping every second) has the
  # final count when the monitors take their last sample
  quiet: {{ executor: per-vu-iterations, vus: 1, iterations: 1, flow: [ {{sleep: 6s}} ] }}
monitors:
  db: {{ postgres: {{ url: "{pg}", reset_statements: true }}, every: 1s }}
  cache: {{ redis: {{ url: "{redis}", keys: {{ queue: "LLEN mutt:queue" }} }} }}
  prom: {{ promql: {{ url: "{prom}", queries: {{ received: "sum(demo_requests_received_total)", up: "up" }} }} }}
thresholds:
  "monitor:cache.queue": ["value==42"]
  "monitor:db.connections": ["max==6"]
"#,
            pg = pg.url(),
            redis = redis.url(),
            prom = prom.url()
        ),
        &demo.url(),
    );
    let o = run_plan(p).await;
    assert_eq!(o.exit_code.code(), 0, "{}", o.summary);
    assert!(
        o.results.thresholds.iter().all(|t| t.ok),
        "{:?}",
        o.results.thresholds
    );

    let cache = monitor(&o, "cache");
    assert_eq!(cache.errors, 0, "{:?}", cache.last_error);
    assert!(cache.samples >= 6, "{}", cache.samples);
    assert!(points(cache, "queue").iter().all(|v| *v == 42.0));
    assert!(points(cache, "keys").iter().all(|v| *v == 1.0));
    // the monitor's own connection is not counted
    assert!(points(cache, "clients").iter().all(|v| *v == 0.0));
    // nothing but the monitor talks to this Redis: its own commands are taken out
    assert!(points(cache, "ops:rate").iter().all(|v| *v == 0.0));
    assert!(cache.series.contains_key("memory"));

    let db = monitor(&o, "db");
    assert_eq!(db.errors, 0, "{:?}", db.last_error);
    assert!(points(db, "connections").iter().all(|v| *v == 6.0));
    assert!(points(db, "connections:idle").iter().all(|v| *v == 6.0));
    assert!(points(db, "connections:active").iter().all(|v| *v == 0.0));
    assert!(points(db, "locks_waiting").iter().all(|v| *v == 0.0));
    assert!(
        db.series.contains_key("xacts:rate"),
        "{:?}",
        db.series.keys()
    );
    assert!(
        db.facts.iter().any(|(k, _)| k == "top query 1"),
        "{:?}",
        db.facts
    );

    let promql = monitor(&o, "prom");
    assert_eq!(promql.errors, 0, "{:?}", promql.last_error);
    let sent = count(&o, "http_reqs");
    assert_eq!(sent, demo.requests());
    assert!(sent >= 90, "{sent}");
    let received = points(promql, "received");
    assert_eq!(received.last().copied(), Some(sent as f64), "{received:?}");
    assert_eq!(points(promql, "up").last().copied(), Some(1.0));

    // the reports name them; the password is never shown
    let md = throng_report::markdown(&o.results);
    assert!(md.contains("postgres://throng:***@127.0.0.1"), "{md}");
    // the database and Redis tables are filled: no row says what would fill them
    assert!(md.contains("Database from monitor `db`"), "{md}");
    assert!(md.contains("Redis from monitor `cache`"), "{md}");
    assert!(
        !md.contains("would provide them") && !md.contains("TBD"),
        "{md}"
    );
    // the HTML report's monitor charts shade the load's phases
    let html = throng_report::html(&o.results);
    let sut = html.split(r#"id="system-under-test""#).nth(1).unwrap_or("");
    assert!(sut.contains(r#"data-phase="load: 50 it/s""#), "{sut}");
    // charts grouped by what they measure; a custom Redis command has its own
    for title in [
        "db — Connections",
        "db — Locks",
        "cache — Memory",
        "cache — queue",
    ] {
        assert!(sut.contains(title), "{title}: {sut}");
    }
    let json = serde_json::to_string(&o.results).expect("json");
    assert!(!json.contains("throng:throng@"), "the password leaks");
    drop(conns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_database_and_promql_monitors_are_errors_and_leave_the_exit_code_alone() {
    let test = "broken_database_and_promql_monitors_are_errors_and_leave_the_exit_code_alone";
    let started = tokio::task::spawn_blocking(|| {
        Ok::<_, services::Skip>((
            services::postgres()?,
            services::redis_with_password("right")?,
            services::prometheus(&[])?,
        ))
    })
    .await
    .expect("join");
    let (pg, redis, prom) = match started {
        Ok(s) => s,
        Err(skip) => return skip.report(test),
    };
    let s = throng_testkit::CountingServer::start().await;
    let closed = services::free_port();
    let wrong_pg = pg.url().replace("throng:throng@", "throng:wrong@");
    let wrong_redis = redis.url().replace(":right@", ":wrong@");
    let p = plan(
        &format!(
            r#"
base_url: BASE
scenarios:
  s: {{ executor: constant-vus, vus: 2, duration: 2s, flow: [ {{get: /ok}} ] }}
monitors:
  pgpass: {{ postgres: {{ url: "{wrong_pg}" }}, every: 1s }}
  pggone: {{ postgres: {{ url: "postgres://throng:x@127.0.0.1:{closed}/postgres" }}, every: 1s }}
  redispass: {{ redis: {{ url: "{wrong_redis}" }} }}
  redisgone: {{ redis: {{ url: "redis://127.0.0.1:{closed}" }} }}
  badquery: {{ promql: {{ url: "{prom}", queries: {{ broken: "sum(rate(x[1m]" }} }} }}
  badcmd: {{ redis: {{ url: "{good_redis}", keys: {{ q: "NOSUCHCOMMAND x" }} }} }}
"#,
            prom = prom.url(),
            good_redis = redis.url()
        ),
        &s.url(),
    );
    let o = run_plan(p).await;
    assert_eq!(o.exit_code.code(), 0, "{}", o.summary);
    // the load is unaffected: what throng sent is what the server saw
    assert_eq!(count(&o, "http_reqs"), s.count());
    assert!(count(&o, "http_reqs") > 10);
    for (name, text) in [
        ("pgpass", "password authentication failed"),
        ("pggone", "onnection refused"),
        ("redispass", "password authentication failed"),
        ("redisgone", "onnection refused"),
        ("badquery", "query `broken` (status 400): bad_data"),
        ("badcmd", "q (NOSUCHCOMMAND x): "),
    ] {
        let m = monitor(&o, name);
        assert!(m.errors >= 2 && m.errors == m.samples, "{name}: {m:?}");
        let e = m.last_error.as_deref().unwrap_or("").to_lowercase();
        assert!(e.contains(&text.to_lowercase()), "{name}: {e}");
        assert!(!e.contains("wrong") && !e.contains("right"), "{name}: {e}");
        assert!(
            o.summary.contains(&format!("monitor {name}")),
            "{}",
            o.summary
        );
    }
    let md = throng_report::markdown(&o.results);
    assert!(md.contains("password authentication failed"), "{md}");
    assert!(!md.contains(":wrong@") && !md.contains(":right@"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_monitor_connects_over_tls_with_the_urls_sslrootcert() {
    let pg = match services::postgres_tls() {
        Ok(pg) => pg,
        Err(skip) => return skip.report("postgres monitor over tls"),
    };
    let dir = std::env::temp_dir().join(format!("throng-montls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pg.cert_pem.clone().unwrap_or_default()).expect("ca");
    let p = plan(
        &format!(
            r#"
scenarios:
  quiet: {{ executor: per-vu-iterations, vus: 1, iterations: 1, flow: [ {{sleep: 2s}} ] }}
monitors:
  db: {{ postgres: {{ url: "{url}?sslmode=verify-full&sslrootcert={ca}" }}, every: 1s }}
  plain: {{ postgres: {{ url: "{url}?sslmode=verify-full" }}, every: 1s }}
"#,
            url = pg.url(),
            ca = ca.display()
        ),
        "http://127.0.0.1:1",
    );
    let o = run_plan(p).await;
    assert_eq!(o.exit_code.code(), 0, "{}", o.summary);
    let db = monitor(&o, "db");
    assert_eq!(db.errors, 0, "{:?}", db.last_error);
    assert!(db.samples >= 2, "{}", db.samples);
    assert!(
        db.series.contains_key("connections"),
        "{:?}",
        db.series.keys()
    );
    // without the CA: the public roots do not know the test's certificate
    let plain = monitor(&o, "plain");
    assert!(plain.errors > 0);
    let e = plain.last_error.clone().unwrap_or_default();
    assert!(e.contains("certificate") || e.contains("issuer"), "{e}");
    assert!(!e.contains(":throng@"), "{e}");
}
