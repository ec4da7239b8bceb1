//! `throng find-limit` from the command line against a demo target of known capacity:
//! examples/capacity.yaml and the `--quick` one-liner, their files and exit codes (0 when a
//! limit is found in the range, 99 when even the first level fails).
mod common;
use common::{text, throng};
use std::process::Output;
use throng_demo::{DemoConfig, DemoServer};

async fn throng_out(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || throng().args(&args).output().expect("runs"))
        .await
        .expect("joins")
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_limit_from_a_plan_and_from_a_url() {
    let server = DemoServer::start(
        ([127, 0, 0, 1], 0).into(),
        DemoConfig {
            capacity: Some("150/s".parse().expect("capacity")),
            ..DemoConfig::default()
        },
    )
    .await
    .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-find-limit-{}", std::process::id()));
    let (json, md, html) = (
        dir.join("limit.json"),
        dir.join("limit.md"),
        dir.join("limit.html"),
    );
    let mut args = strings(&[
        "find-limit",
        "examples/capacity.yaml",
        "--scenario",
        "api",
        "--from",
        "50",
        "--to",
        "400",
        "--step",
        "x2",
        "--hold",
        "1500ms",
        "--until",
        "p(95)<100",
        "--until",
        "rate<0.01",
        "--base-url",
    ]);
    args.push(server.url());
    for (flag, p) in [("--results", &json), ("--md", &md), ("--html", &html)] {
        args.push(flag.into());
        args.push(p.display().to_string());
    }
    let o = throng_out(args).await;
    // 50 and 100 hold, 200 queues past 100 ms at p95
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("max sustainable load: 100 it/s"),
        "{}",
        text(&o)
    );
    assert!(
        out.contains("breaking point: 200 it/s — p(95)<100 (observed "),
        "{}",
        text(&o)
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("results")).expect("json");
    assert_eq!(r["levels"].as_array().map(Vec::len), Some(3));
    assert_eq!(r["levels"][0]["phase"]["name"], "50 it/s");
    let requests: u64 = r["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(|l| l["requests"].as_u64())
        .sum();
    assert_eq!(
        requests,
        server.requests(),
        "throng's http_reqs are what the server counted"
    );
    let md = std::fs::read_to_string(&md).expect("md");
    assert!(md.contains("| Max sustainable load | 100 it/s |"), "{md}");
    let html = std::fs::read_to_string(&html).expect("html");
    assert!(html.contains("Load vs latency") && !html.contains("<script"));

    // the one-liner: even the first level (400/s) fails, exit 99
    let o = throng_out(vec![
        "find-limit".into(),
        "--quick".into(),
        "-q".into(),
        "400:800".into(),
        "--hold".into(),
        "1s".into(),
        "--until".into(),
        "p(95)<100".into(),
        format!("{}/health", server.url()),
    ])
    .await;
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("max sustainable load: none (the first level failed)"),
        "{}",
        text(&o)
    );
    // a matrix of examples/matrix.yaml's two scenarios: the pass/fail grid, exit 0 as the
    // lowest cell passes
    let mut args = strings(&[
        "find-limit",
        "examples/matrix.yaml",
        "--hold",
        "1s",
        "--until",
        "p(95)<100",
        "--matrix",
        "api=40",
        "events=40,300",
        "--base-url",
    ]);
    args.push(server.url());
    let o = throng_out(args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let grid = String::from_utf8_lossy(&o.stdout);
    let row = grid
        .lines()
        .find(|l| l.trim_start().starts_with("api=40 "))
        .unwrap_or_default();
    assert!(
        row.find('✅')
            .zip(row.find('❌'))
            .is_some_and(|(ok, bad)| ok < bad),
        "{}",
        text(&o)
    );
    assert!(grid.contains("❌ api=40 events=300: "), "{}", text(&o));
    // flag errors name the flag
    let o = throng_out(strings(&[
        "find-limit",
        "examples/capacity.yaml",
        "--from",
        "50",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--to (or -q FROM:TO) is required"));
    server.stop().await;
}
