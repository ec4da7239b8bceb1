//! The binary end to end: exit codes, summary export shape, examples, Ctrl-C, demo.
mod common;
use common::{repo, text, throng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn json(path: &Path) -> serde_json::Value {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&t).expect("json")
}

async fn run_example(file: &str, server: &DemoServer, dir: &Path) -> (Output, serde_json::Value) {
    let export = dir.join(format!("{file}.summary.json"));
    let url = server.url();
    let file = file.to_string();
    let export2 = export.clone();
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .args([
                "run",
                &format!("examples/{file}"),
                "--base-url",
                &url,
                "--no-color",
            ])
            .arg("--summary-export")
            .arg(&export2)
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    let v = json(&export);
    (out, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_run_and_counts_match_the_demo_target() {
    let dir = tmp("examples");
    for (file, code) in [
        ("quickstart.yaml", 0),
        ("ingest-baseline.yaml", 0),
        ("executors.yaml", 0),
        ("custom-metrics.yaml", 0),
        ("load-models.yaml", 0),
        ("live-control.yaml", 0),
        ("impossible-threshold.yaml", 99),
    ] {
        let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
            .await
            .expect("demo");
        let (out, v) = run_example(file, &server, &dir).await;
        assert_eq!(out.status.code(), Some(code), "{file}: {}", text(&out));
        let reqs = v["metrics"]["http_reqs"]["count"].as_f64().expect("count") as u64;
        assert_eq!(server.requests(), reqs, "{file}");
        assert!(reqs > 0);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_export_has_k6_shape() {
    let dir = tmp("export");
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let (out, v) = run_example("quickstart.yaml", &server, &dir).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let m = &v["metrics"];
    for key in ["avg", "min", "med", "max", "p(90)", "p(95)"] {
        assert!(m["http_req_duration"][key].is_number(), "{key}: {m}");
    }
    // thresholds: true means failed, as in k6
    assert_eq!(m["http_req_duration"]["thresholds"]["p(95)<500"], false);
    // rate metrics carry value/passes/fails
    assert_eq!(m["http_req_failed"]["value"], 0.0);
    assert_eq!(m["http_req_failed"]["passes"], 0.0);
    assert!(m["http_reqs"]["rate"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(m["vus"]["max"].as_f64().unwrap_or(0.0) >= 5.0);
    assert!(m["http_req_duration{expected_response:true}"]["p(95)"].is_number());
    let checks = &v["root_group"]["checks"];
    assert!(
        checks["status is 200"]["passes"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    assert_eq!(checks["status is 200"]["fails"], 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("█ THRESHOLDS"));
    assert!(stdout.contains("✓ 'p(95)<500' p(95)="));
    assert!(stdout.contains("http_req_duration"));
    assert!(stdout.contains("total requests:"));
}

#[test]
fn validate_accepts_examples_and_rejects_bad_plans_with_104() {
    for entry in std::fs::read_dir(repo().join("examples")).expect("examples") {
        let p = entry.expect("entry").path();
        if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let o = throng().arg("validate").arg(&p).output().expect("runs");
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), text(&o));
    }
    let dir = tmp("bad");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "scenarios:\n  s:\n    executor: constant-vus\n    duration: 1x\n    flow: [ {get: \"http://127.0.0.1:1/{{nope}}\"} ]\n",
    )
    .expect("write");
    for cmd in ["validate", "run"] {
        let o = throng().arg(cmd).arg(&bad).output().expect("runs");
        assert_eq!(o.status.code(), Some(104), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("bad.yaml:4:15:"), "{err}");
        assert!(err.contains("bad.yaml:5:"), "{err}");
        assert!(err.contains("unknown name `nope`"), "{err}");
    }
    // every unknown key at once, each with its place and the key it was probably meant to be
    std::fs::write(
        &bad,
        "scenarios:\n  s:\n    executor: constant-vus\n    durationx: 1s\n    flow:\n      - get: \"http://127.0.0.1:1/\"\n        chekc: { status: 200 }\nthresholdz: {}\n",
    )
    .expect("write");
    let o = throng().arg("validate").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "bad.yaml:4:5: unknown field `durationx` (did you mean `duration`?)",
        "bad.yaml:7:9: unknown field `chekc` (did you mean `check`?)",
        "bad.yaml:8:1: unknown field `thresholdz` (did you mean `thresholds`?)",
    ] {
        assert!(err.contains(want), "{want} not in {err}");
    }
    // validate checks the flags run would apply too
    let quickstart = repo().join("examples/quickstart.yaml");
    for (flags, says) in [
        (vec!["--scenario", "nope"], "nope"),
        (vec!["--dns", "policy=ipv4"], "--dns: policy `ipv4`"),
        (vec!["--duration", "soon"], "--duration `soon`"),
    ] {
        let o = throng()
            .arg("validate")
            .arg(&quickstart)
            .args(&flags)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(104), "{flags:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{flags:?}: {}", text(&o));
    }
    let o = throng()
        .arg("validate")
        .arg(&quickstart)
        .args(["--vus", "3", "--dns", "ttl=inf"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = throng()
        .args(["run", "does-not-exist.yaml"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(104));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_gracefully_with_105_and_writes_files() {
    interrupted_run("sigint", None).await;
}

/// The same on one thread (`THRONG_THREADS=1`): the process has one thread, and Ctrl-C is
/// read on it between the VUs' turns.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_a_single_threaded_run_too() {
    interrupted_run("sigint-one", Some("1")).await;
}

/// A 60 s run interrupted by SIGINT after 1.5 s (with `THRONG_THREADS` set to `threads`,
/// when given, and then checked to have that many threads): exit 105 within 5 s, the
/// summary and results written, the requests counted as the server counted them.
#[cfg(unix)]
async fn interrupted_run(name: &str, threads: Option<&str>) {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let dir = tmp(name);
    let plan = dir.join("long.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 3\n    duration: 60s\n    flow: [ {get: \"{{env.URL}}/health\"}, {sleep: 20ms} ]\n",
    )
    .expect("write");
    let export = dir.join("s.json");
    let results = dir.join("r.json");
    let mut cmd = throng();
    if let Some(n) = threads {
        cmd.env("THRONG_THREADS", n);
    }
    let child = cmd
        .arg("run")
        .arg(&plan)
        .args(["-e", &format!("URL={}", server.url())])
        .arg("--summary-export")
        .arg(&export)
        .arg("--results")
        .arg(&results)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if let Some(n) = threads {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", child.id()))
            .expect("the process's threads")
            .count();
        assert_eq!(tasks.to_string(), n, "threads");
    }
    let out = common::interrupt(child).await;
    assert_eq!(out.status.code(), Some(105), "{}", text(&out));
    let v = json(&export);
    let reqs = v["metrics"]["http_reqs"]["count"].as_f64().unwrap_or(0.0) as u64;
    assert!(reqs > 0);
    assert!(server.requests() >= reqs && server.requests() - reqs <= 3);
    assert_eq!(json(&results)["run"]["interrupted"], true);
    assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted"));
}

#[test]
fn serve_demo_serves_prometheus_metrics() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = throng()
        .args(["serve-demo", "--addr", "127.0.0.1:0", "--latency", "20ms"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stderr = child.stderr.take().expect("stderr");
    BufReader::new(stderr).read_line(&mut line).expect("read");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut body = String::new();
        s.read_to_string(&mut body).expect("read");
        body
    };
    let health = get("/health");
    let t = Instant::now();
    let unauthorized = get("/api/v1/items/1");
    assert!(
        t.elapsed() >= Duration::from_millis(20),
        "--latency applies to API routes"
    );
    assert!(unauthorized.starts_with("HTTP/1.1 401"), "{unauthorized}");
    assert!(health.contains("\"status\":\"healthy\""), "{health}");
    let metrics = get("/metrics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        metrics.contains("# TYPE demo_requests_total counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains("demo_requests_total{route=\"/health\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("demo_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(metrics.contains("demo_queue_depth"), "{metrics}");
}

#[test]
fn demo_runs_and_its_counts_match() {
    let dir = tmp("demo");
    let o = throng()
        .args(["demo", "--no-color", "--out-dir"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let served: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("demo target counted "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("count line");
    let v = json(&dir.join("summary.json"));
    let reqs = v["metrics"]["http_reqs"]["count"].as_f64().expect("count") as u64;
    assert_eq!(served, reqs);
    let r = json(&dir.join("results.json"));
    assert_eq!(r["run"]["exit_code"], 0);
    // the burst tripped the rate limiter
    assert!(stdout.contains("█ THRESHOLDS"));
    let limited = r["series"]
        .as_array()
        .expect("series")
        .iter()
        .filter(|s| s["metric"] == "http_reqs" && s["tags"]["status"] == "429")
        .map(|s| s["value"].as_f64().unwrap_or(0.0))
        .sum::<f64>();
    assert!(limited > 0.0, "no 429s in the demo");

    // every report file, and Locust's exact CSV columns
    for f in [
        "report.html",
        "report.md",
        "junit.xml",
        "locust_stats.csv",
        "locust_stats_history.csv",
        "locust_failures.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let headers = |f: &str| -> Vec<String> {
        let mut rd = csv::Reader::from_path(dir.join(f)).expect("csv");
        rd.headers()
            .expect("headers")
            .iter()
            .map(str::to_string)
            .collect()
    };
    let pcts = [
        "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
    ];
    let mut stats = vec![
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
        "Requests/s",
        "Failures/s",
    ];
    stats.extend(pcts);
    assert_eq!(headers("locust_stats.csv"), stats);
    let mut hist = vec![
        "Timestamp",
        "User Count",
        "Type",
        "Name",
        "Requests/s",
        "Failures/s",
    ];
    hist.extend(pcts);
    hist.extend([
        "Total Request Count",
        "Total Failure Count",
        "Total Median Response Time",
        "Total Average Response Time",
        "Total Min Response Time",
        "Total Max Response Time",
        "Total Average Content Size",
    ]);
    assert_eq!(headers("locust_stats_history.csv"), hist);
    assert_eq!(
        headers("locust_failures.csv"),
        ["Method", "Name", "Error", "Occurrences"]
    );
    // the Aggregated row's count is the run's http_reqs; the per-name rows add up to it
    let mut rd = csv::Reader::from_path(dir.join("locust_stats.csv")).expect("csv");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("row")).collect();
    let agg = rows
        .iter()
        .find(|r| &r[1] == "Aggregated")
        .expect("aggregated");
    assert_eq!(agg[2].parse::<u64>().expect("n"), reqs);
    let per_name: u64 = rows
        .iter()
        .filter(|r| &r[1] != "Aggregated")
        .map(|r| r[2].parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(per_name, reqs);
    let mut rd = csv::Reader::from_path(dir.join("locust_failures.csv")).expect("csv");
    let limited_rows: u64 = rd
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[2] == "rate limited (429)")
        .map(|r| r[3].parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(limited_rows as f64, limited);
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(
        md.contains("## Behaviour by phase") && md.contains("## Rate limiting"),
        "{md}"
    );
    assert!(!md.contains("TBD"));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit");
    assert!(junit.contains(r#"tests="6" failures="0""#), "{junit}");

    // `throng report` regenerates the same HTML from the results file
    let again = dir.join("again.html");
    let o = throng()
        .arg("report")
        .arg(dir.join("results.json"))
        .arg("--html")
        .arg(&again)
        .args(["--no-summary"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&again).expect("again"),
        std::fs::read_to_string(dir.join("report.html")).expect("html")
    );
    html_renders_in_chromium(&dir.join("report.html"));
}

/// Renders the report in headless Chromium (installed by .ci/run): a screenshot, and the
/// DOM with every chart carrying data and every table filled.
fn html_renders_in_chromium(page: &Path) {
    let profile = tmp("chromium-profile");
    let url = format!("file://{}", page.display());
    let shot = page.with_extension("png");
    let Some(mut c) = throng_testkit::chromium(&profile) else {
        return;
    };
    let o = c
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.len() > 20_000 && png.starts_with(b"\x89PNG"),
        "{}",
        text(&o)
    );
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("Uncaught"),
        "{}",
        text(&o)
    );
    let Some(mut c) = throng_testkit::chromium(&profile) else {
        return;
    };
    let o = c
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("CONSOLE"),
        "{}",
        text(&o)
    );
    for id in [
        "chart-rps",
        "chart-latency",
        "chart-vus",
        "chart-distribution",
    ] {
        let at = dom
            .find(&format!(r#"id="{id}""#))
            .unwrap_or_else(|| panic!("{id} missing"));
        let tail = &dom[at..];
        let n: usize = tail
            .split("data-points=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "{id} has no data");
    }
    assert!(dom.matches("<polyline").count() >= 7, "line charts missing");
    for section in ["thresholds", "phases", "requests", "statuses", "checks"] {
        assert!(
            dom.contains(&format!(r#"<section id="{section}">"#)),
            "{section} missing"
        );
    }
    assert!(
        !dom.contains("<script"),
        "the report has no scripts and no CDN links"
    );
}

/// Runs throng with these arguments; asserts exit 104 and one line on stderr that starts
/// with `error:` and carries no Rust debug text. Returns that line.
fn fails_104(args: &[&str]) -> String {
    let o = throng().args(args).output().expect("runs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(104), "{args:?}: {}", text(&o));
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    for debug in ["Some(", "Err(", "Error {", "{ kind", "panicked"] {
        assert!(!err.contains(debug), "{args:?}: {err}");
    }
    err
}

/// Issue 20, item 7: bad flags exit 104 with clap's message on one line (not clap's exit 2).
#[test]
fn bad_flags_exit_104_on_one_line() {
    let url = "http://127.0.0.1:1/";
    let e = fails_104(&["quick", "-n", "-5", url]);
    assert!(e.contains("invalid value '-5' for '--requests"), "{e}");
    assert!(e.contains("1 or more"), "{e}");
    assert!(e.contains("try 'throng quick --help'"), "{e}");
    let e = fails_104(&["quick", "-n", "0", url]);
    assert!(e.contains("invalid value '0' for '--requests"), "{e}");
    let e = fails_104(&["quick", "-c", "0", url]);
    assert!(e.contains("invalid value '0' for '--concurrency"), "{e}");
    let e = fails_104(&["quick", "-c", "4294967297", url]);
    assert!(e.contains("above the limit of 1,000,000 VUs"), "{e}");
    let e = fails_104(&["quick", "--max-vus", "-1", url]);
    assert!(e.contains("--max-vus"), "{e}");
    let e = fails_104(&["quick", "--no-such-flag", url]);
    assert!(e.contains("unexpected argument '--no-such-flag'"), "{e}");
    let e = fails_104(&["quick"]);
    assert!(
        e.contains("required arguments were not provided: <URL>"),
        "{e}"
    );
    let e = fails_104(&["run"]);
    assert!(e.contains("<PLAN>"), "{e}");
    fails_104(&["no-such-command"]);
    let e = fails_104(&["quick", "-q", "1e12", "-z", "1s", url]);
    assert!(e.contains("above the limit of 1,000,000 a second"), "{e}");
    for rate in ["0", "-3", "NaN", "inf"] {
        fails_104(&["quick", "-q", rate, url]);
    }
    fails_104(&["quick", "-z", "0s", url]);
    fails_104(&["quick", "--grace", "soon", "-z", "1s", url]);
    for ok in [&["--help"][..], &["--version"], &["quick", "--help"]] {
        let o = throng().args(ok).output().expect("runs");
        assert_eq!(o.status.code(), Some(0), "{ok:?}: {}", text(&o));
        assert!(!o.stdout.is_empty());
    }
}

/// Issue 10, item 4: quick builds its plan as data, so a mistake in a flag's value is
/// reported against the flag (not a line of YAML nobody wrote), with exit 104.
#[test]
fn quick_plan_errors_name_the_flag() {
    let url = "http://127.0.0.1:1/";
    let e = fails_104(&["quick", "-n", "1", "-d", "{{nope}}", url]);
    assert!(
        e.starts_with("error: -d: unknown name `nope`: expected one of"),
        "{e}"
    );
    let e = fails_104(&["quick", "-n", "1", "-H", "X-Id: {{nope}}", url]);
    assert!(e.starts_with("error: -H X-Id: unknown name `nope`"), "{e}");
    let e = fails_104(&["quick", "-n", "1", "--threshold", "p(95)<soon", url]);
    assert!(e.starts_with("error: --threshold p(95)<soon: "), "{e}");
    let e = fails_104(&["quick", "-n", "1", "--timeout", "5x", url]);
    assert!(e.starts_with("error: --timeout: "), "{e}");
}

/// Issue 20, item 7: bad URLs, headers and output flags are refused before the run.
#[test]
fn bad_urls_headers_and_outputs_are_refused_before_the_run() {
    // port 1: nothing listens, so a run that started would show failed requests, not 104
    let url = "http://127.0.0.1:1/";
    let e = fails_104(&["quick", "-n", "1", "http://127.0.0.1:1/a b"]);
    assert!(e.contains("contains a space or a control character"), "{e}");
    let e = fails_104(&["quick", "-n", "1", "http://127.0.0.1:1/a\u{7}b"]);
    assert!(e.contains("a\\u{7}b"), "{e}");
    fails_104(&["quick", "-n", "1", "http://"]);
    fails_104(&["quick", "-n", "1", "ftp://127.0.0.1:1/"]);
    let e = fails_104(&["quick", "-n", "1", "-H", "X-A: a\r\nX-B: b", url]);
    assert!(
        e.contains("must not contain CR, LF or other control characters"),
        "{e}"
    );
    assert!(e.contains("X-A: a\\r\\nX-B: b"), "{e}");
    let e = fails_104(&["quick", "-n", "1", "-H", "X A: b", url]);
    assert!(e.contains("is not a header name"), "{e}");
    let dir = tmp("outputs");
    let p = |n: &str| dir.join(n).display().to_string();
    let e = fails_104(&[
        "quick",
        "-n",
        "1",
        "--out",
        &format!("json={}", p("a.ndjson")),
        "--out",
        &format!("json={}", p("b.ndjson")),
        url,
    ]);
    assert!(e.contains("--out json= is given twice"), "{e}");
    let e = fails_104(&[
        "quick",
        "-n",
        "1",
        "--html",
        &p("a.html"),
        "--md",
        &format!("{}/./a.html", dir.display()),
        url,
    ]);
    assert!(e.contains("--html and --md both write"), "{e}");
    let e = fails_104(&[
        "quick",
        "-n",
        "1",
        "--summary-export",
        &p("s.json"),
        "--out",
        &format!("json={}", p("s.json")),
        url,
    ]);
    assert!(
        e.contains("--summary-export and --out json= both write"),
        "{e}"
    );
    let e = fails_104(&[
        "quick",
        "-n",
        "1",
        "--csv",
        &p("x"),
        "--junit",
        &p("x_stats.csv"),
        url,
    ]);
    assert!(e.contains("--junit and --csv both write"), "{e}");
    let e = fails_104(&[
        "run",
        "examples/quickstart.yaml",
        "--base-url",
        "http://127.0.0.1:1/a b",
    ]);
    assert!(e.contains("--base-url"), "{e}");
    // nothing was written
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
}

/// Issue 20, item 5: VU counts past the ceiling or the open-file limit are plan errors with
/// file:line:col (they used to abort with "memory allocation failed", exit 134).
#[cfg(unix)]
#[test]
fn vu_counts_are_checked_against_the_ceiling_and_ulimit() {
    let dir = tmp("vus");
    let plan = dir.join("vus.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 4294967297\n    duration: 1s\n    flow: [ {get: \"http://127.0.0.1:1/\"} ]\n",
    )
    .expect("write");
    for cmd in ["validate", "run"] {
        let o = throng().arg(cmd).arg(&plan).output().expect("runs");
        assert_eq!(o.status.code(), Some(104), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("vus.yaml:4:10: vus 4294967297 is above the limit of 1,000,000 VUs"),
            "{err}"
        );
    }
    // under `ulimit -n 256`, 1,000 VUs do not fit: the error says what to change
    std::fs::write(
        &plan,
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 1000\n    duration: 1s\n    flow: [ {get: \"http://127.0.0.1:1/\"} ]\n",
    )
    .expect("write");
    let bin = env!("CARGO_BIN_EXE_throng");
    let sh = |args: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n 256 && exec \"$0\" {args}"))
            .arg(bin)
            .current_dir(repo())
            .output()
            .expect("runs")
    };
    let o = sh(&format!("validate '{}'", plan.display()));
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("vus.yaml:4:10: vus 1000 needs about 1,020 open files (one connection per VU) but the open-file limit is 256: raise it (`ulimit -n 1020`) or lower vus"),
        "{err}"
    );
    let o = sh("quick -c 1000 -n 1000 http://127.0.0.1:1/");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim_end(),
        "error: -c 1000 needs about 1,020 open files (one connection per VU) but the open-file limit is 256: raise it (`ulimit -n 1020`) or lower -c"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19: `run`'s load flags reshape the plan (`--scenario`, `--rate`, `--duration`,
/// `--profile`), and a profile or scenario that does not exist is exit 104 with the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_flags_reshape_the_run_and_bad_names_are_104() {
    let dir = tmp("load-flags");
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let url = server.url();
    let export = dir.join("summary.json");
    let export2 = export.clone();
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .args(["run", "examples/load-models.yaml", "--base-url", &url])
            .args(["--scenario", "api", "--rate", "10", "--duration", "2s"])
            .args(["--no-color", "--quiet", "--summary-export"])
            .arg(&export2)
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&export);
    // only `api`, at 10/s for 2 s
    assert_eq!(server.requests(), 20, "{}", text(&out));
    assert_eq!(v["metrics"]["http_reqs"]["count"], 20.0);
    assert_eq!(server.requests_for("/api/v1/ingest"), 20);
    server.stop().await;

    let e = fails_104(&["run", "examples/load-models.yaml", "--profile", "hammer"]);
    assert!(
        e.contains("known: smoke, load, stress, spike, soak, nightly"),
        "{e}"
    );
    let e = fails_104(&["run", "examples/load-models.yaml", "--scenario", "nope"]);
    assert!(e.contains("its scenarios: api, browsers, monitors"), "{e}");
    let e = fails_104(&["run", "examples/load-models.yaml", "--duration", "soon"]);
    assert!(e.starts_with("error: --duration `soon`"), "{e}");
}
