//! examples/database-and-cache.yaml against private PostgreSQL, Redis and Prometheus
//! servers (throng-testkit's `services`) and the demo target: every monitor reads what the
//! test set, the resource tables are filled, and no password reaches the output.
mod common;
use common::{text, throng};
use throng_demo::{DemoConfig, DemoServer};
use throng_testkit::services;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_cache_example_reads_the_test_servers() {
    let test = "the_database_and_cache_example_reads_the_test_servers";
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
    let mut rpush = vec!["RPUSH", "mutt:queue"];
    rpush.extend(std::iter::repeat_n("job", 42));
    assert_eq!(redis.command(&rpush).expect("rpush"), ":42\r\n");
    pg.psql("create extension pg_stat_statements");
    let dir = std::env::temp_dir().join(format!("throng-dbc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (md, results) = (dir.join("report.md"), dir.join("results.json"));
    let (pg_url, redis_url, prom_url, base) = (pg.url(), redis.url(), prom.url(), demo.url());
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .args(["run", "examples/database-and-cache.yaml", "--no-color"])
            .args(["--base-url", &base])
            .args(["-e", &format!("PG_URL={pg_url}")])
            .args(["-e", &format!("REDIS_URL={redis_url}")])
            .args(["-e", &format!("PROM_URL={prom_url}")])
            .arg("--md")
            .arg(&md)
            .arg("--results")
            .arg(&results)
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for m in ["monitor db", "monitor cache", "monitor prom"] {
        assert!(stdout.contains(m), "{stdout}");
    }
    assert!(
        !stdout.contains("throng:throng@"),
        "the password leaks: {stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("json"))
            .expect("parses");
    let mons = json["monitors"]["monitors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let series = |name: &str, s: &str| -> Vec<f64> {
        mons.iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["series"][s].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p[1].as_f64())
            .collect()
    };
    for m in &mons {
        assert_eq!(m["errors"], 0, "{m}");
    }
    let queue = series("cache", "queue");
    assert!(
        !queue.is_empty() && queue.iter().all(|v| *v == 42.0),
        "{queue:?}"
    );
    // nothing holds a connection to this PostgreSQL but the monitor, which leaves itself out
    let conns = series("db", "connections");
    assert!(
        !conns.is_empty() && conns.iter().all(|v| *v == 0.0),
        "{conns:?}"
    );
    let prom_report = mons.iter().find(|m| m["name"] == "prom").cloned();
    assert_eq!(
        series("prom", "up").last().copied(),
        Some(1.0),
        "{prom_report:?}"
    );
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(report.contains("Database from monitor `db`"), "{report}");
    assert!(report.contains("Redis from monitor `cache`"), "{report}");
    assert!(!report.contains("would provide them") && !report.contains("TBD"));
    assert!(!report.contains("throng:throng@"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
