//! Prometheus: the scrape endpoint during a run, and remote write into a real Prometheus
//! server (Debian's `prometheus`, installed by .ci/run) whose PromQL answer must equal the
//! summary's request count.
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer};

fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    Some((status, out.split_once("\r\n\r\n")?.1.to_string()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

struct Prom(Child);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(dir: &Path) -> Option<(Prom, String)> {
    let bin = Path::new("/usr/bin/prometheus");
    if !bin.exists() {
        if std::env::var_os("CI").is_some() {
            panic!("prometheus is not installed: .ci/run installs it");
        }
        eprintln!("skipping: prometheus is not installed (apt-get install prometheus)");
        return None;
    }
    std::fs::create_dir_all(dir).expect("dir");
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1h\n").expect("config");
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let p = Prom(child);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Some((200, _)) = http_get(&addr, "/-/ready") {
            return Some((p, addr));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("prometheus did not become ready");
}

/// A Prometheus receiving remote write (with its address) and a demo target; `None` when
/// Prometheus is not installed (outside CI).
async fn prometheus_and_demo(dir: &Path) -> Option<(Prom, String, DemoServer)> {
    let (prom, addr) = tokio::task::spawn_blocking({
        let dir = dir.to_path_buf();
        move || start_prometheus(&dir)
    })
    .await
    .expect("join")?;
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    Some((prom, addr, server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_lands_the_summary_count_in_prometheus() {
    let dir = std::env::temp_dir().join(format!("throng-prom-{}", std::process::id()));
    let Some((_prom, addr, server)) = prometheus_and_demo(&dir).await else {
        return;
    };
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
    let dir = std::env::temp_dir().join(format!("throng-prom-seg-{}", std::process::id()));
    let Some((_prom, addr, server)) = prometheus_and_demo(&dir).await else {
        return;
    };
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
