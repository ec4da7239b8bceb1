//! Prometheus: the scrape endpoint during a run, and remote write into a real Prometheus
//! server (Debian's `prometheus`, installed by .ci/run) whose PromQL answer must equal the
//! summary's request count.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};
use throng_testkit::services::{self, http_get};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_lands_the_summary_count_in_prometheus() {
    let prom = match tokio::task::spawn_blocking(|| services::prometheus(&[]))
        .await
        .expect("join")
    {
        Ok(p) => p,
        Err(skip) => return skip.report("remote_write_lands_the_summary_count_in_prometheus"),
    };
    let addr = prom.addr().to_string();
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let url = format!("{}/health", server.url());
    let rw = format!("prometheus-rw=http://{addr}/api/v1/write");
    let o = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_throng"))
            .args([
                "quick",
                "-n",
                "500",
                "-c",
                "10",
                "--quiet",
                "--out",
                &rw,
                "--metric-compat",
                "k6",
                &url,
            ])
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(server.requests(), 500);
    let q = "/api/v1/query?query=sum(k6_http_reqs_total)";
    let (status, body) = http_get(&addr, q).expect("query");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let value = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(value, "500", "{body}");
    // the run_id and instance_id labels are always there
    let (_, body) = http_get(
        &addr,
        "/api/v1/query?query=count(k6_http_reqs_total{run_id!=\"\",instance_id=\"0\"})",
    )
    .expect("query");
    assert!(body.contains("\"result\":[{"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_endpoint_serves_live_metrics() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let url = format!("{}/health", server.url());
    let mut child = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args([
            "quick",
            "-z",
            "3s",
            "-c",
            "2",
            "--quiet",
            "--prometheus",
            "127.0.0.1:0",
            &url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("line");
    let addr = line
        .trim()
        .strip_prefix("prometheus metrics: http://")
        .and_then(|a| a.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (status, text) = http_get(&addr, "/metrics").expect("scrape");
    let _ = child.wait();
    assert_eq!(status, 200);
    assert!(text.contains("# TYPE throng_http_reqs counter"), "{text}");
    assert!(
        text.contains("throng_http_reqs_total{scenario=\"quick\",name="),
        "{text}"
    );
    assert!(
        text.contains("throng_http_req_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("throng_vus "), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_local_segments_remote_write_the_merged_count() {
    let prom = match tokio::task::spawn_blocking(|| services::prometheus(&[]))
        .await
        .expect("join")
    {
        Ok(p) => p,
        Err(skip) => return skip.report("three_local_segments_remote_write_the_merged_count"),
    };
    let addr = prom.addr().to_string();
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-prom-seg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "base_url: {}\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 6\n    iterations: 301\n    flow:\n      - get: /health\n",
            server.url()
        ),
    )
    .expect("plan");
    let rw = format!("prometheus-rw=http://{addr}/api/v1/write");
    let results = dir.join("merged.json");
    let o = tokio::task::spawn_blocking({
        let (plan, results) = (plan.clone(), results.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_throng"))
                .arg("run")
                .arg(&plan)
                .args(["--local-segments", "3", "--quiet", "--no-summary"])
                .args(["--out", &rw, "--run-id", "seg3"])
                .arg("--results")
                .arg(&results)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("join");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(server.requests(), 301);
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).expect("merged")).expect("json");
    let count = merged["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "http_reqs"))
        .map(|m| m["values"]["count"].clone());
    assert_eq!(count, Some(serde_json::json!(301.0)));
    let query = |q: &str| {
        let (status, body) = http_get(&addr, &format!("/api/v1/query?query={q}")).expect("query");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // the three instances' series add up to the merged count, under one run_id
    assert_eq!(query("sum(throng_http_reqs_total{run_id=\"seg3\"})"), "301");
    assert_eq!(
        query("count(count%20by%20(instance_id)%20(throng_http_reqs_total{run_id=\"seg3\"}))"),
        "3"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
