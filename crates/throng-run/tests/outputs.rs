//! The NDJSON sample stream: k6's Metric and Point lines, one Point per sample.
mod common;
use common::*;
use std::io::Read;
use throng_run::ReportFiles;
use throng_testkit::CountingServer;
use tokio_util::sync::CancellationToken;

async fn run_to(path: std::path::PathBuf, base: &str) -> throng_run::RunOutcome {
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 3\n    iterations: 40\n    flow:\n      - get: /\n        check: { status: 200 }\n";
    let files = ReportFiles {
        ndjson: Some(path),
        ..Default::default()
    };
    run_with_files(plan(p, base), CancellationToken::new(), files).await
}

fn check_lines(text: &str, server_count: u64) {
    let mut announced = std::collections::HashSet::new();
    let mut points = std::collections::HashMap::<String, u64>::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let metric = v["metric"].as_str().expect("metric").to_string();
        match v["type"].as_str() {
            Some("Metric") => {
                assert_eq!(v["data"]["name"], metric.as_str());
                assert!(announced.insert(metric));
            }
            Some("Point") => {
                assert!(
                    announced.contains(&metric),
                    "Point before its Metric line: {line}"
                );
                assert!(v["data"]["time"].as_str().is_some_and(|t| t.ends_with('Z')));
                assert!(v["data"]["value"].is_number());
                if metric == "http_reqs" {
                    assert_eq!(v["data"]["tags"]["status"], "200");
                    assert_eq!(v["data"]["tags"]["scenario"], "s");
                }
                *points.entry(metric).or_default() += 1;
            }
            other => panic!("unexpected line type {other:?}"),
        }
    }
    assert_eq!(points.get("http_reqs").copied(), Some(server_count));
    assert_eq!(points.get("http_req_duration").copied(), Some(server_count));
    assert_eq!(points.get("checks").copied(), Some(server_count));
    assert_eq!(points.get("iterations").copied(), Some(40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_has_a_point_per_sample() {
    let s = CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-ndjson-{}", s.addr.port()));
    let path = dir.join("samples.json");
    let out = run_to(path.clone(), &s.url()).await;
    assert!(out.write_errors.is_empty(), "{:?}", out.write_errors);
    assert_eq!(s.count(), 40);
    check_lines(&std::fs::read_to_string(&path).expect("file"), 40);

    let gz = dir.join("samples.json.gz");
    run_to(gz.clone(), &s.url()).await;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).expect("gz"))
        .read_to_string(&mut text)
        .expect("gunzip");
    check_lines(&text, 40);
}
