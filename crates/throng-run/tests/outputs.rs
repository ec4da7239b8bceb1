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

/// Failure kinds say when the first and the last failure of each kind happened (to the
/// millisecond), not the time of the once-a-second report that counted them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_kinds_carry_real_first_and_last_times() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 1\n    flow:\n      - sleep: 300ms\n      - get: /status/500\n      - sleep: 400ms\n      - get: /status/503\n      - sleep: 250ms\n      - get: /status/500\n";
    let out = run_with_files(
        plan(p, &s.url()),
        CancellationToken::new(),
        ReportFiles::default(),
    )
    .await;
    assert_eq!(s.count(), 3);
    let kind = |k: &str| {
        out.results
            .failures
            .iter()
            .find(|f| f.kind == k)
            .unwrap_or_else(|| panic!("no {k}: {:?}", out.results.failures))
            .clone()
    };
    let (e500, e503) = (kind("http 500"), kind("http 503"));
    assert_eq!((e500.count, e503.count), (2, 1));
    let ms = |v: f64| (v * 1000.0).round() / 1000.0 == v;
    assert!(ms(e500.first_seen_s) && ms(e500.last_seen_s) && ms(e503.first_seen_s));
    // the sleeps put the failures at about 0.3 s, 0.7 s and 0.95 s
    assert!(
        (0.3..0.6).contains(&e500.first_seen_s),
        "{:?}",
        out.results.failures
    );
    assert!(
        e500.first_seen_s + 0.4 <= e503.first_seen_s,
        "{e500:?} {e503:?}"
    );
    assert_eq!(e503.first_seen_s, e503.last_seen_s);
    assert!(
        e503.last_seen_s + 0.25 <= e500.last_seen_s,
        "{e500:?} {e503:?}"
    );
    assert!(e500.last_seen_s * 1000.0 <= out.results.run.duration_ms);
}

/// Locust's four files, and `--csv-full-history`'s per-name rows whose counts add up to
/// what the server saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locust_csv_has_four_files_and_a_full_history() {
    let s = CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-locust-{}", s.addr.port()));
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 2500ms\n    flow:\n      - get: /a\n        name: a\n      - get: /b\n        name: b\n      - sleep: 20ms\n";
    let files = ReportFiles {
        csv: Some(dir.join("run")),
        csv_full_history: true,
        ..Default::default()
    };
    let out = run_with_files(plan(p, &s.url()), CancellationToken::new(), files).await;
    assert!(out.write_errors.is_empty(), "{:?}", out.write_errors);
    let exceptions = std::fs::read_to_string(dir.join("run_exceptions.csv")).expect("exceptions");
    assert_eq!(exceptions, "Count,Message,Traceback,Nodes\n");
    let history = std::fs::read_to_string(dir.join("run_stats_history.csv")).expect("history");
    let mut rdr = csv::Reader::from_reader(history.as_bytes());
    let mut per_name = std::collections::BTreeMap::<String, u64>::new();
    for row in rdr.records() {
        let row = row.expect("row");
        if &row[3] != "Aggregated" {
            assert_eq!(&row[2], "GET");
            // the running total of this name
            per_name.insert(row[3].to_string(), row[17].parse().expect("total"));
            // every percentile of a second with requests, in order, and the running figures
            let rps: f64 = row[4].parse().expect("rps");
            if rps > 0.0 {
                let qs: Vec<f64> = (6..17)
                    .map(|i| row[i].parse().unwrap_or_else(|_| panic!("{row:?}")))
                    .collect();
                assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
            }
            let num = |i: usize| -> f64 { row[i].parse().unwrap_or_else(|_| panic!("{row:?}")) };
            let (p50, avg, min, max, size) = (num(19), num(20), num(21), num(22), num(23));
            // Locust writes the median as whole milliseconds
            assert!(min <= p50 + 1.0 && p50 <= max + 1.0, "{row:?}");
            assert!(min <= avg && avg <= max, "{row:?}");
            assert!(size > 0.0, "{row:?}");
        }
    }
    assert_eq!(per_name.len(), 2, "{history}");
    assert_eq!(count(&out, "http_reqs"), s.count());
    let by_name: Vec<(String, Vec<(f64, u64)>)> = out
        .results
        .by_name
        .iter()
        .map(|(n, v)| (n.clone(), v.iter().map(|p| (p.t, p.reqs)).collect()))
        .collect();
    assert_eq!(
        per_name.values().sum::<u64>(),
        s.count(),
        "{per_name:?} {by_name:?}\n{history}"
    );
    assert_eq!(per_name["a"], per_name["b"]);
}

/// The per-second VU figure of an arrival-rate scenario is the peak of each second: VUs
/// busy for 20 ms of every 50 ms count, though an instant between iterations reads 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_second_vus_are_the_peak_of_each_second() {
    let d = throng_demo::DemoServer::start(
        ([127, 0, 0, 1], 0).into(),
        throng_demo::DemoConfig {
            latency: throng_demo::Latency::Fixed(std::time::Duration::from_millis(20)),
            ..Default::default()
        },
    )
    .await
    .expect("demo");
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 20\n    timeUnit: 1s\n    duration: 4s\n    preAllocatedVUs: 5\n    maxVUs: 5\n    flow:\n      - post: /api/v1/ingest\n        headers: { X-API-KEY: test-api-key }\n        json: {}\n";
    let out = run_plan(plan(p, &d.url())).await;
    assert_eq!(count(&out, "http_reqs"), d.requests());
    let full: Vec<_> = out
        .results
        .seconds
        .iter()
        .filter(|s| s.t.fract() == 0.0 && s.t <= 4.0)
        .collect();
    assert!(full.len() >= 3, "{:?}", out.results.seconds);
    for s in full {
        assert!(s.vus >= 1, "second {} read {} VUs", s.t, s.vus);
    }
}
