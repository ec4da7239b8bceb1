//! `throng quick` against the demo target, and the progress display in both modes.
mod common;
use common::{text, throng};
use std::path::PathBuf;
use std::process::{Command, Output};
use throng_demo::{DemoConfig, DemoServer};

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("join")
}

fn summary_count(o: &Output) -> u64 {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("total requests:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("total requests line")
}

async fn demo() -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_requests_reach_the_server_exactly() {
    let s = demo().await;
    let mut c = throng();
    c.args(["quick", "-n", "1000", "-c", "50", "--no-color"])
        .arg(format!("{}/health", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.requests(), 1000);
    assert_eq!(summary_count(&o), 1000);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Response time histogram:"), "{out}");
    assert!(out.contains("[200] 1000 responses"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_share_c_connections() {
    use throng_testkit::{H2Options, H2Server};
    let s = H2Server::start(H2Options {
        delay: std::time::Duration::from_millis(1),
        ..H2Options::default()
    })
    .await;
    let mut c = throng();
    c.args([
        "quick",
        "--http2",
        "-c",
        "5",
        "--streams",
        "10",
        "-n",
        "1000",
        "--no-color",
    ])
    .arg(format!("{}/", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // 50 VUs on 5 connections of 10 streams: the server saw 5 connections, never more than
    // 10 streams at once on one, and exactly the requests throng counted
    assert_eq!(s.connections(), 5, "{}", text(&o));
    assert_eq!(s.requests(), 1000);
    assert_eq!(summary_count(&o), 1000);
    assert!(s.max_in_flight() <= 10, "{}", s.max_in_flight());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("[200] 1000 responses"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http2_shared_example_opens_its_four_connections() {
    use throng_testkit::{H2Options, H2Server};
    let s = H2Server::start(H2Options {
        delay: std::time::Duration::from_millis(1),
        ..H2Options::default()
    })
    .await;
    let export =
        std::env::temp_dir().join(format!("throng-h2-example-{}.json", std::process::id()));
    let mut c = throng();
    c.args([
        "run",
        "examples/http2-shared.yaml",
        "--no-color",
        "--base-url",
    ])
    .arg(s.url())
    .arg("--summary-export")
    .arg(&export);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.connections(), 4, "{}", text(&o));
    assert_eq!(s.requests(), 400);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).expect("export")).expect("json");
    assert_eq!(
        v["metrics"]["http_reqs"]["count"].as_f64(),
        Some(400.0),
        "{v}"
    );
    let _ = std::fs::remove_file(&export);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_for_a_duration_is_on_target_at_the_server() {
    let s = demo().await;
    let mut c = throng();
    c.args(["quick", "-q", "200", "-z", "10s", "-c", "20", "--quiet"])
        .arg(format!("{}/health", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let seen = s.requests();
    assert!((1980..=2020).contains(&seen), "server saw {seen}");
    assert_eq!(summary_count(&o), seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_bodies_thresholds_and_print_plan() {
    let s = demo().await;
    let url = format!("{}/api/v1/ingest", s.url());
    let body = r#"{"user_id":{{random_int(1,10000)}},"channel_id":{{random_int(1,100)}},"content":"msg {{uuid}}"}"#;
    let dir = std::env::temp_dir().join(format!("throng-quick-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut c = throng();
    c.args([
        "quick",
        "-n",
        "100",
        "-c",
        "5",
        "-m",
        "POST",
        "-H",
        "X-API-KEY: test-api-key",
    ])
    .args([
        "-d",
        body,
        "--threshold",
        "p(95)<2000",
        "--threshold",
        "rate==0",
        &url,
    ])
    .arg("--results")
    .arg(dir.join("r.json"))
    .arg("--md")
    .arg(dir.join("r.md"))
    .arg("--html")
    .arg(dir.join("r.html"));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.requests_for("/api/v1/ingest"), 100);
    assert_eq!(s.responses_with_status(200), 100);
    // the API key never reaches a log or a report
    for f in ["r.json", "r.md", "r.html"] {
        let t = std::fs::read_to_string(dir.join(f)).expect("report");
        assert!(!t.contains("test-api-key"), "{f} leaks the key");
    }
    let md = std::fs::read_to_string(dir.join("r.md")).expect("md");
    assert!(md.contains("X-API-KEY:***"), "{md}");
    assert!(!text(&o).contains("test-api-key"));

    let mut c = throng();
    c.args(["quick", "-n", "10", "--threshold", "p(95)<0", &url]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));

    let mut c = throng();
    c.args([
        "quick",
        "--print-plan",
        "-q",
        "50",
        "--ramp",
        "0:5s,100:10s",
        &url,
    ]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0));
    let plan: PathBuf = dir.join("quick.yaml");
    std::fs::write(&plan, &o.stdout).expect("write");
    let mut c = throng();
    c.arg("validate").arg(&plan);
    let v = output(c).await;
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}\n{}",
        text(&v),
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("executor: ramping-arrival-rate"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_progress_lines_when_stderr_is_not_a_terminal() {
    let s = demo().await;
    let mut c = throng();
    c.args(["quick", "-z", "3s", "-c", "2", "--progress-interval", "1"])
        .arg(format!("{}/health", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("running (")).collect();
    assert!(lines.len() >= 2, "{err}");
    let last = lines.last().expect("line");
    assert!(last.contains("quick 3s/3s 100%"), "{last}");
    assert!(last.contains("req/s | ok "), "{last}");
    assert!(last.contains("| done"), "{last}");
    // --quiet silences it
    let mut c = throng();
    c.args(["quick", "-n", "10", "--quiet", "--progress-interval", "0.1"])
        .arg(format!("{}/health", s.url()));
    let o = output(c).await;
    assert!(!String::from_utf8_lossy(&o.stderr).contains("running ("));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_bars_under_a_pseudo_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: util-linux `script` is not installed");
        return;
    }
    let s = demo().await;
    let cmd = format!(
        "{} quick -n 3000 -c 4 {}/health >/dev/null",
        env!("CARGO_BIN_EXE_throng"),
        s.url()
    );
    let mut c = Command::new("script");
    c.args(["-qfec", &cmd, "/dev/null"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let tty = String::from_utf8_lossy(&o.stdout);
    // indicatif draws the bar with the scenario name, counts and our status text
    assert!(tty.contains("quick ["), "{tty}");
    assert!(tty.contains("3000/3000 100%"), "{tty}");
    assert!(tty.contains("req/s | ok"), "{tty}");
}

/// `-z` is a limit (issue 20, item 4): against a 100 ms server, one VU and 50 arrivals a
/// second queue up; the old engine ran the whole queue (5 s, inside the 30 s gracefulStop).
/// Now nothing starts after 1 s, the request in flight gets --grace, and the queue left over
/// is reported as dropped_iterations in the summary and the results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_is_a_limit_and_the_dropped_queue_is_reported() {
    let s = throng_testkit::CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-quick-z-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let results = dir.join("results.json");
    let mut c = throng();
    c.args([
        "quick",
        "-q",
        "50",
        "-z",
        "1s",
        "-c",
        "1",
        "--quiet",
        "--no-color",
    ])
    .arg("--results")
    .arg(&results)
    .arg(format!("{}/delay/100", s.url()));
    let t = std::time::Instant::now();
    let o = output(c).await;
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        took < std::time::Duration::from_millis(3000),
        "ran {took:?}\n{}",
        text(&o)
    );
    let seen = s.count();
    assert_eq!(summary_count(&o), seen, "{}", text(&o));
    assert!((9..=12).contains(&seen), "server saw {seen}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results")).expect("json");
    let sc = &r["scenarios"][0];
    let (done, interrupted, dropped) = (
        sc["completed"].as_u64().expect("completed"),
        sc["interrupted"].as_u64().expect("interrupted"),
        sc["dropped"].as_u64().expect("dropped"),
    );
    assert_eq!(done, seen, "{sc}");
    assert_eq!(done + interrupted + dropped, 50, "{sc}");
    assert_eq!(
        r["generator"]["dropped_iterations"].as_u64(),
        Some(dropped),
        "{}",
        r["generator"]
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("{dropped} dropped")), "{out}");
    assert!(out.contains("gracefulStop: 5s"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--grace` sets how long requests in flight at the end of -z may run: a 2 s request in
/// a 300 ms run with --grace 200ms is interrupted at 0.5 s, not awaited for 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_bounds_requests_in_flight_at_the_end() {
    let s = throng_testkit::CountingServer::start().await;
    let mut c = throng();
    c.args([
        "quick",
        "-z",
        "300ms",
        "-c",
        "2",
        "--grace",
        "200ms",
        "--quiet",
        "--no-color",
    ])
    .arg(format!("{}/delay/2000", s.url()));
    let t = std::time::Instant::now();
    let o = output(c).await;
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        took < std::time::Duration::from_millis(1500),
        "ran {took:?}\n{}",
        text(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 complete, 2 interrupted"), "{out}");
    assert_eq!(s.count(), 2);
}

/// Queue mode within the duration (the accuracy test's scenario under the new rule): 2 VUs
/// at 25/s each can't keep 100/s for 2 s, so about half the arrivals run, each timed from
/// its intended start (the last ones ~1 s late), and the queue left at 2 s is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_arrivals_run_until_the_end_and_the_rest_are_dropped() {
    let s = throng_testkit::CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-quick-queue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let results = dir.join("results.json");
    let mut c = throng();
    c.args([
        "quick",
        "-q",
        "100",
        "-z",
        "2s",
        "-c",
        "2",
        "--quiet",
        "--no-color",
    ])
    .arg("--results")
    .arg(&results)
    .arg(format!("{}/delay/40", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results")).expect("json");
    let sc = &r["scenarios"][0];
    let n = |k: &str| sc[k].as_u64().unwrap_or(u64::MAX);
    let seen = s.count();
    assert_eq!(summary_count(&o), seen);
    assert_eq!(n("completed") + n("interrupted"), seen, "{sc}");
    assert_eq!(
        n("completed") + n("interrupted") + n("dropped"),
        200,
        "{sc}"
    );
    assert!((90..=104).contains(&seen), "server saw {seen}");
    let corrected_max = r["metrics"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|x| x["name"] == "http_req_duration_corrected")
                .and_then(|x| x["values"]["max"].as_f64())
        })
        .unwrap_or(0.0);
    assert!(corrected_max > 800.0, "corrected max {corrected_max}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--dns` (and k6's `K6_DNS`): the family policy decides whether `localhost` (127.0.0.1
/// here, and on some machines ::1 too) is reached at all; every request is still counted
/// once, as a DNS error when no address is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_policy_decides_which_addresses_are_used() {
    let s = demo().await;
    let url = s.url().replace("127.0.0.1", "localhost") + "/health";
    let dir = std::env::temp_dir().join(format!("throng-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let export = dir.join("summary.json");
    let run = |dns: Option<&str>, k6: Option<&str>| {
        let mut c = throng();
        c.args([
            "quick",
            "-n",
            "50",
            "-c",
            "5",
            "--quiet",
            "--summary-export",
        ])
        .arg(&export);
        if let Some(d) = dns {
            c.args(["--dns", d]);
        }
        if let Some(d) = k6 {
            c.env("K6_DNS", d);
        }
        c.arg(&url);
        c
    };
    let failed_rate = || -> f64 {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&export).expect("export")).expect("json");
        v["metrics"]["http_req_failed"]["value"]
            .as_f64()
            .expect("rate")
    };
    let o = output(run(Some("ttl=inf,select=first,policy=onlyIPv4"), None)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.requests(), 50);
    assert_eq!(summary_count(&o), 50);
    assert_eq!(failed_rate(), 0.0);
    // the demo listens on 127.0.0.1 only: with IPv6 required nothing reaches it
    let o = output(run(None, Some("policy=onlyIPv6"))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.requests(), 50, "no request may reach the server");
    assert_eq!(summary_count(&o), 50);
    assert_eq!(failed_rate(), 1.0);
    // the flag wins over the k6 variable
    let o = output(run(Some("policy=preferIPv6"), Some("policy=onlyIPv6"))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.requests(), 100);
    let o = output(run(Some("policy=ipv4"), None)).await;
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    assert!(text(&o).contains("--dns: policy `ipv4`"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
