//! The live dashboard in a real browser: frames arrive while the run goes, and the page's
//! numbers match the run's summary.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};

fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_live_charts_that_match_the_summary() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = dir.join("p.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 4s\n    flow: [ {get: \"{{env.URL}}/health\", check: {status: 200}}, {sleep: 20ms} ]\nthresholds:\n  http_req_duration: [\"p(95)<1000\"]\n",
    )
    .expect("plan");
    let mut child = Command::new(env!("CARGO_BIN_EXE_throng"))
        .arg("run")
        .arg(&plan)
        .args(["-e", &format!("URL={}", server.url())])
        .args([
            "--dashboard",
            "127.0.0.1:0",
            "--dashboard-linger",
            "--no-color",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("line");
    let addr = line
        .trim()
        .strip_prefix("dashboard: http://")
        .unwrap_or_else(|| panic!("no dashboard line: {line}"))
        .to_string();
    // frames arrive while the run goes
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mid: serde_json::Value =
        serde_json::from_str(&http_get(&addr, "/api/state")).expect("state json");
    assert_eq!(mid["latest"]["status"], "running", "{mid}");
    assert!(
        mid["history"].as_array().map(|h| h.len()).unwrap_or(0) >= 2,
        "{mid}"
    );
    // wait for the summary; the dashboard lingers with the final state
    let stdout = child.stdout.take().expect("stdout");
    let total: u64 = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.trim()
                    .strip_prefix("total requests:")
                    .and_then(|v| v.trim().parse().ok())
            })
            .expect("summary")
    })
    .await
    .expect("join");
    assert_eq!(total, server.requests());

    let Some(mut c) = throng_testkit::chromium(&dir.join("profile")) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let o = c
        .args(["--virtual-time-budget=3000", "--dump-dom"])
        .arg(format!("http://{addr}/"))
        .output()
        .expect("chromium");
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dom.contains(&format!(r#"id="total-reqs">{total}<"#)),
        "{dom}"
    );
    assert!(
        dom.contains(r#"id="status" class="finished">finished<"#),
        "{dom}"
    );
    for id in ["chart-rps", "chart-latency", "chart-vus"] {
        let at = dom.find(&format!(r#"id="{id}""#)).expect("chart");
        let n: usize = dom[at..]
            .split("data-points=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n >= 3, "{id} received {n} points");
    }
    assert!(
        dom.contains("p(95)&lt;1000") || dom.contains("p(95)<1000"),
        "thresholds missing"
    );
    assert!(dom.contains("status is 200"), "checks missing");
    assert!(
        !dom.contains("cdn") && !dom.contains("src=\"http"),
        "no external scripts"
    );
}
