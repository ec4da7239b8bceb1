//! `sql:` and `redis:` steps through whole runs against private PostgreSQL and Redis
//! servers (throng_testkit::services; skipped with the reason when a binary is missing,
//! never under CI): the server's counts equal throng's, pool exhaustion and server errors
//! are counted by kind.
mod common;
use common::*;
use throng_testkit::services;

macro_rules! service {
    ($start:expr, $test:literal) => {
        match $start {
            Ok(s) => s,
            Err(skip) => return skip.report($test),
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_inserts_equal_the_tables_count_and_sql_queries() {
    let pg = service!(services::postgres(), "n_inserts");
    pg.psql("CREATE TABLE events (id serial PRIMARY KEY, vu int NOT NULL, note text, at timestamptz DEFAULT now())");
    let p = r#"
data_sources:
  db: { postgres: "BASE", pool: 4, acquire_timeout: 5s, statement_timeout: 5s }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 4
    iterations: 25
    flow:
      - sql: { db: db, query: "INSERT INTO events (vu, note) VALUES ($1, $2)", params: ["{{vu}}", "n-{{iter}}"] }
        name: insert
        check: { rows: 1 }
      - sql: { query: "SELECT note, vu FROM events WHERE vu = $1 ORDER BY id DESC LIMIT 1", params: ["{{vu}}"] }
        name: last
        check: { rows: ">0", json: { "$[0].vu": "*" } }
        extract: { note: { column: note } }
      - sql: { query: "SELECT $1::text = $2", params: ["{{note}}", "n-{{iter}}"] }
        name: extracted
        check: { json: { "$[0]['?column?']": "true" } }
thresholds:
  checks: ["rate==1"]
  "sql_queries{name:insert,sqlstate:00000}": ["count==100"]
  sql_errors: ["count==0"]
"#;
    let out = run_plan(plan(p, &pg.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(pg.psql("SELECT count(*) FROM events"), "100");
    assert_eq!(count(&out, "sql_queries"), 300);
    assert_eq!(count(&out, "sql_query_duration"), 300);
    assert_eq!(count(&out, "sql_pool_wait"), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_counts_pool_timeouts_exactly() {
    let pg = service!(services::postgres(), "pool_timeout");
    let p = r#"
data_sources:
  db: { postgres: "BASE", pool: 5, acquire_timeout: 100ms }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 50
    iterations: 1
    flow:
      - sql: { query: "SELECT pg_sleep(1)" }
        name: sleep
thresholds:
  "sql_errors{name:sleep,error:pool_timeout,error_code:1901}": ["count==45"]
  "sql_queries{name:sleep,sqlstate:00000}": ["count==5"]
"#;
    let out = run_plan(plan(p, &pg.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "sql_queries"), 50);
    assert_eq!(count(&out, "sql_errors"), 45);
    assert_eq!(count(&out, "sql_query_duration"), 5);
    let md = throng_report::markdown(&out.results);
    let errors = md_table(&md, "SQL errors");
    assert_eq!(
        md_cell(&errors, &["sleep", "pool_timeout"], 2),
        Some(45),
        "{md}"
    );
    let sql = md_table(&md, "SQL");
    assert_eq!(md_cell(&sql, &["sleep"], 1), Some(50), "{md}");
    assert_eq!(md_cell(&sql, &["sleep"], 2), Some(45), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_passwords_databases_and_statements_are_counted_by_sqlstate() {
    let pg = service!(services::postgres(), "sqlstates");
    let port = pg.port();
    let p = format!(
        r#"
data_sources:
  good: {{ postgres: "postgres://throng:throng@127.0.0.1:{port}/postgres" }}
  badpw: {{ postgres: "postgres://throng:wrong@127.0.0.1:{port}/postgres" }}
  nodb: {{ postgres: "postgres://throng:throng@127.0.0.1:{port}/nosuchdb" }}
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 2
    flow:
      - sql: {{ db: badpw, query: "SELECT 1" }}
        name: badpw
      - sql: {{ db: nodb, query: "SELECT 1" }}
        name: nodb
      - sql: {{ db: good, query: "SELEC 1" }}
        name: syntax
      - sql: {{ db: good, query: "SELECT $1::int", params: [not-a-number] }}
        name: param
thresholds:
  "sql_errors{{name:badpw,sqlstate:28P01}}": ["count==2"]
  "sql_errors{{name:nodb,sqlstate:3D000}}": ["count==2"]
  "sql_errors{{name:syntax,sqlstate:42601}}": ["count==2"]
  "sql_errors{{name:param,error:invalid parameter}}": ["count==2"]
"#
    );
    let out = run_plan(plan(&p, "")).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "sql_errors"), 8);
    // the wrong password is a secret: it never appears in the summary
    assert!(!out.summary.contains("wrong"), "{}", out.summary);
}

/// A plan of `n` statements (one VU) on `url` with `ca_file:` `ca` (none when empty).
fn tls_plan(url: &str, ca: &str, n: u32) -> String {
    let ca = if ca.is_empty() {
        String::new()
    } else {
        format!(", ca_file: {ca}")
    };
    format!(
        r#"
data_sources:
  db: {{ postgres: "{url}", pool: 2, connect_timeout: 5s{ca} }}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: {n}
    flow:
      - sql: {{ query: "INSERT INTO tls_events (note) VALUES ($1)", params: ["n-{{{{iter}}}}"] }}
        name: insert
      - sql: {{ query: "SELECT ssl::text AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" }}
        name: ssl
        check: {{ json: {{ "$[0].ssl": "true" }} }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_over_tls_verifies_the_servers_certificate() {
    let pg = service!(services::postgres_tls(), "sql_tls");
    pg.psql("CREATE TABLE tls_events (id serial PRIMARY KEY, note text)");
    let dir = std::env::temp_dir().join(format!("throng-pgtls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("ca.pem"), pg.cert_pem.clone().unwrap_or_default()).expect("ca");
    // another authority (its own name: a certificate it did not sign)
    let mut other = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).expect("params");
    other
        .distinguished_name
        .push(rcgen::DnType::CommonName, "another authority");
    let key = rcgen::KeyPair::generate().expect("key");
    let other = other.self_signed(&key).expect("cert");
    std::fs::write(dir.join("wrong.pem"), other.pem()).expect("wrong ca");

    // verify-full with the server's CA: every statement over TLS
    let url = format!("{}?sslmode=verify-full", pg.url());
    let out = run_plan(plan_in(&tls_plan(&url, "ca.pem", 10), "", &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(pg.psql("SELECT count(*) FROM tls_events"), "10");
    assert_eq!(count(&out, "sql_queries"), 20);
    assert_eq!(count(&out, "sql_errors"), 0);
    assert_eq!(
        out.results.value("checks", "rate"),
        Some(1.0),
        "{}",
        out.summary
    );

    // sslrootcert= in the URL, sslmode=require (checked as verify-ca, as libpq does)
    let url = format!(
        "{}?sslmode=require&sslrootcert={}",
        pg.url(),
        dir.join("ca.pem").display()
    );
    let out = run_plan(plan_in(&tls_plan(&url, "", 5), "", &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(pg.psql("SELECT count(*) FROM tls_events"), "15");

    // a CA that did not sign the server's certificate: counted, never sent
    let url = format!("{}?sslmode=verify-full", pg.url());
    let yaml = format!(
        "{}thresholds:\n  \"sql_errors{{name:insert,error_code:1310}}\": [\"count==3\"]\n",
        tls_plan(&url, "wrong.pem", 3)
    );
    let out = run_plan(plan_in(&yaml, "", &dir)).await;
    let errors: Vec<_> = out
        .results
        .series
        .iter()
        .filter(|s| s.metric == "sql_errors")
        .map(|s| (s.tags.clone(), s.value))
        .collect();
    assert_eq!(out.exit_code.code(), 0, "{errors:?}");
    assert_eq!(count(&out, "sql_errors"), 6);
    assert_eq!(pg.psql("SELECT count(*) FROM tls_events"), "15");
    assert!(!out.summary.contains(":throng@"), "{}", out.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_against_a_server_without_tls_is_a_counted_error() {
    let pg = service!(services::postgres(), "sql_no_tls");
    pg.psql("CREATE TABLE tls_events (id serial PRIMARY KEY, note text)");
    let url = format!("{}?sslmode=require", pg.url());
    let yaml = format!(
        "{}thresholds:\n  \"sql_errors{{name:insert,error_code:1905,error:server does not support tls}}\": [\"count==4\"]\n",
        tls_plan(&url, "", 4)
    );
    let out = run_plan(plan(&yaml, "")).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "sql_errors"), 8);
    assert_eq!(pg.psql("SELECT count(*) FROM tls_events"), "0");
    assert!(!out.summary.contains(":throng@"), "{}", out.summary);
}

#[test]
fn a_bad_sslmode_or_a_missing_ca_file_is_a_plan_error() {
    let yaml = "data_sources:\n  db: { postgres: \"postgres://u:secret@127.0.0.1:1/d?sslmode=sometimes\", ca_file: nope.pem }\nscenarios:\n  s:\n    executor: shared-iterations\n    iterations: 1\n    flow:\n      - sql: { query: SELECT 1 }\n";
    let e = match throng_plan::load_str(
        yaml,
        &std::env::temp_dir().join("plan.yaml"),
        &Default::default(),
    ) {
        Ok(_) => panic!("the plan loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("sslmode `sometimes`") && e.contains("verify-full"),
        "{e}"
    );
    assert!(
        e.contains("ca_file: cannot read") && e.contains("nope.pem"),
        "{e}"
    );
    assert!(!e.contains("secret"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_commits_or_rolls_back_as_a_whole() {
    let pg = service!(services::postgres(), "transaction");
    pg.psql("CREATE TABLE t (k text PRIMARY KEY)");
    let p = r#"
data_sources:
  db: { postgres: "BASE", pool: 2 }
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 3
    flow:
      - transaction: db
        flow:
          - sql: { query: "INSERT INTO t VALUES ($1)", params: ["a{{iter}}"] }
            name: a
          - sql: { query: "INSERT INTO t VALUES ($1)", params: ["b{{iter}}"] }
            name: b
      - transaction: db
        flow:
          - sql: { query: "INSERT INTO t VALUES ($1)", params: ["c{{iter}}"] }
            name: c
          - sql: { query: "INSERT INTO t VALUES ($1)", params: ["a{{iter}}"] }
            name: duplicate
thresholds:
  "sql_errors{name:duplicate,sqlstate:23505}": ["count==3"]
"#;
    let out = run_plan(plan(p, &pg.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(pg.psql("SELECT count(*) FROM t"), "6");
    assert_eq!(pg.psql("SELECT count(*) FROM t WHERE k LIKE 'c%'"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_incr_n_times_makes_n_and_pipelines_reply_in_order() {
    let r = service!(services::redis(), "redis_incr");
    let url = format!("redis://127.0.0.1:{}", r.port());
    let p = r#"
data_sources:
  cache: { redis: "BASE" }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 4
    iterations: 25
    flow:
      - redis: { cmd: [INCR, hits] }
        check: { json: { "$": "*" } }
      - redis: { pipeline: [[SET, "user:{{vu}}", "v{{iter}}"], [GET, "user:{{vu}}"]] }
        check: { json: { "$[0]": OK }, body_matches: "\\[\"OK\",\"v[0-9]+\"\\]" }
      - redis: { cmd: [HSET, h, 1] }
        name: wrongtype-free
thresholds:
  checks: ["rate==1"]
  "redis_commands{command:INCR}": ["count==100"]
  "redis_commands{command:SET+GET}": ["count==200"]
"#;
    let out = run_plan(plan(p, &url)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(
        r.command(&["GET", "hits"]).ok().as_deref(),
        Some("$3\r\n100\r\n")
    );
    assert_eq!(count(&out, "redis_commands"), 400);
    assert_eq!(
        count(&out, "redis_errors"),
        100,
        "HSET h 1 lacks a value: an error each time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_db_load_example_runs_against_private_servers() {
    let pg = service!(services::postgres(), "db-load example");
    let r = service!(services::redis(), "db-load example");
    pg.psql("CREATE TABLE users (id serial PRIMARY KEY, name text)");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/db-load.yaml");
    let text = std::fs::read_to_string(&path).expect("example exists");
    let opts = throng_plan::LoadOptions {
        env: [
            ("PG_URL".to_string(), pg.url()),
            (
                "REDIS_URL".to_string(),
                format!("redis://127.0.0.1:{}", r.port()),
            ),
        ]
        .into(),
        ..Default::default()
    };
    let mut p = match throng_plan::load_str(&text, &path, &opts) {
        Ok(p) => p,
        Err(e) => panic!("db-load.yaml does not load:\n{e}"),
    };
    // the example's shape, smaller: 20 iterations a second for 2 s on 8 connections; its
    // latency thresholds are for a real server, not a debug build on a busy test machine
    let small = throng_plan::Overrides {
        rate: Some(20.0),
        duration: Some(std::time::Duration::from_secs(2)),
        ..Default::default()
    };
    throng_plan::apply_overrides(&mut p, &small).expect("overrides apply");
    if let throng_plan::SourceKind::Postgres { pool, .. } = &mut p.sources[0].kind {
        *pool = 8;
    }
    p.thresholds = Default::default();
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let iterations = count(&out, "iterations");
    assert!(iterations >= 30, "{iterations}");
    assert_eq!(count(&out, "sql_errors"), 0);
    assert_eq!(count(&out, "redis_errors"), 0);
    let users: u64 = pg.psql("SELECT count(*) FROM users").parse().unwrap_or(0);
    assert_eq!(users, iterations, "one committed insert per iteration");
    assert_eq!(count(&out, "sql_queries"), 3 * iterations);
    assert_eq!(count(&out, "redis_commands"), 3 * iterations);
    assert_eq!(
        r.command(&["GET", "reads"]).ok(),
        Some(format!(
            "${}\r\n{iterations}\r\n",
            iterations.to_string().len()
        ))
    );
    // the reports' SQL and Redis sections hold the run's counters
    let md = throng_report::markdown(&out.results);
    let sql = md_table(&md, "SQL");
    assert_eq!(sql.len(), 3, "{md}");
    for step in ["insert user", "rename user", "read user"] {
        assert_eq!(
            md_cell(&sql, &[step], 1),
            Some(iterations),
            "{step}: {sql:?}"
        );
        assert_eq!(md_cell(&sql, &[step], 2), Some(0), "{step}: {sql:?}");
    }
    assert!(md_table(&md, "SQL errors").is_empty(), "{md}");
    let redis = md_table(&md, "Redis");
    assert_eq!(md_cell(&redis, &["SET"], 1), Some(iterations), "{redis:?}");
    assert_eq!(md_cell(&redis, &["INCR+GET"], 1), Some(2 * iterations));
    assert_eq!(md_cell(&redis, &["INCR+GET"], 2), Some(0));
    assert!(md_table(&md, "gRPC").is_empty() && md_table(&md, "WebSocket").is_empty());
    assert!(out.summary.contains("█ SQL") && out.summary.contains("█ REDIS"));
    assert!(out
        .summary
        .contains(&format!("read user: queries={iterations} errors=0")));
    let page = throng_report::html(&out.results);
    assert!(page.contains(r#"<section id="sql"><h2>SQL</h2>"#));
    let json = serde_json::to_value(&out.results).unwrap_or_default();
    let per_step = json["protocols"]["sql"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total: u64 = per_step.iter().filter_map(|s| s["count"].as_u64()).sum();
    assert_eq!(total, count(&out, "sql_queries"));
}
