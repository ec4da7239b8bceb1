//! docs/ci.md and dashboards/throng.json cannot rot: the GitHub workflow's `run:` steps and
//! the GitLab job's `script:` lines run here with the built binary against the demo target,
//! and every metric the Grafana dashboard queries must be one throng exports.
mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer};

/// Longest any one command may take.
const LIMIT: Duration = Duration::from_secs(90);

/// A plan that passes against the demo target.
const PASSING: &str = r#"name: checkout
base_url: http://127.0.0.1:9
scenarios:
  buy:
    executor: shared-iterations
    vus: 4
    iterations: 40
    flow:
      - get: /health
        check: { status: 200 }
      - post: /api/v1/ingest
        headers: { X-API-KEY: "{{env.API_KEY}}" }
        json: { source: ci }
thresholds:
  http_req_duration: ["p(95)<2000"]
  http_req_failed: ["rate<0.01"]
  checks: ["rate>0.99"]
"#;

/// A plan whose threshold cannot pass: the gate must fail the job (exit 99).
const FAILING: &str = r#"name: search
base_url: http://127.0.0.1:9
scenarios:
  find:
    executor: shared-iterations
    vus: 2
    iterations: 10
    flow: [ { get: /health } ]
thresholds:
  http_req_duration: ["max<0"]
"#;

fn yaml_blocks() -> Vec<Value> {
    let text = std::fs::read_to_string(common::repo().join("docs/ci.md")).expect("docs/ci.md");
    let mut blocks = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim_start().starts_with("```yaml") => cur = Some(String::new()),
            Some(b) if line.trim_start().starts_with("```") => {
                blocks.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    assert!(cur.is_none(), "docs/ci.md: an unclosed ```yaml block");
    blocks
        .iter()
        .map(|b| {
            serde_saphyr::from_str::<Value>(b)
                .unwrap_or_else(|e| panic!("docs/ci.md: a yaml block does not parse: {e}\n{b}"))
        })
        .collect()
}

fn github_workflow(blocks: &[Value]) -> &Value {
    blocks
        .iter()
        .find(|b| b.get("jobs").is_some())
        .expect("docs/ci.md has a GitHub workflow (a block with jobs:)")
}

fn gitlab_job(blocks: &[Value]) -> &Value {
    blocks
        .iter()
        .find_map(|b| b.get("load-test").filter(|j| j.get("script").is_some()))
        .expect("docs/ci.md has a GitLab job load-test with a script:")
}

/// A workdir with the layout docs/ci.md assumes: loadtest/PROFILE/SCENARIO.yaml.
fn workdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("throng-ci-docs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plans = dir.join("loadtest/smoke");
    std::fs::create_dir_all(&plans).expect("mkdir");
    std::fs::write(plans.join("checkout.yaml"), PASSING).expect("plan");
    std::fs::write(plans.join("search.yaml"), FAILING).expect("plan");
    dir
}

/// PATH with the built binary's directory first, so the docs' `throng` is this build's.
fn path_with_throng() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_throng"));
    let dir = bin.parent().expect("bin dir");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs one shell script as GitHub's and GitLab's runners do (bash, -e, pipefail), bounded.
fn run_script(script: &str, dir: &Path, env: &[(&str, String)]) -> (i32, String) {
    let mut c = Command::new("bash");
    c.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path_with_throng())
        .env_remove("CI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("bash");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("took longer than {LIMIT:?}: {script}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!(
        "--- script\n{script}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        status.code(),
        o.join().unwrap_or_default(),
        e.join().unwrap_or_default()
    );
    (status.code().unwrap_or(-1), text)
}

fn assert_files(dir: &Path, files: &[&str], why: &str) {
    for f in files {
        let p = dir.join(f);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{why}: {} missing or empty", p.display());
    }
}

struct Step {
    name: String,
    run: String,
    always: bool,
}

fn github_steps(wf: &Value) -> Vec<Step> {
    let job = &wf["jobs"]["load-test"];
    assert!(job.is_object(), "the workflow has a load-test job");
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| {
            let run = s.get("run")?.as_str()?.to_string();
            let name = s["name"].as_str().unwrap_or("").to_string();
            let cond = s["if"].as_str().unwrap_or("");
            Some(Step {
                always: cond.contains("!cancelled()") || cond.contains("always()"),
                name,
                run,
            })
        })
        .collect()
}

/// Runs the workflow's `run:` steps with GitHub's rule: after a failed step only the steps
/// marked `if: always()` / `!cancelled()` run. Returns each step's exit code.
fn run_github(wf: &Value, scenario: &str, url: &str) -> (PathBuf, Vec<(String, i32)>, String) {
    run_github_in(wf, scenario, url, workdir(&format!("gh-{scenario}")))
}

/// [`run_github`] in a prepared workdir (one holding a baseline, say).
fn run_github_in(
    wf: &Value,
    scenario: &str,
    url: &str,
    dir: PathBuf,
) -> (PathBuf, Vec<(String, i32)>, String) {
    let summary = dir.join("step-summary.md");
    let env_block = &wf["jobs"]["load-test"]["env"];
    let results_dir = env_block["RESULTS_DIR"]
        .as_str()
        .expect("RESULTS_DIR in the job's env")
        .to_string();
    let env = [
        ("SCENARIO", scenario.to_string()),
        ("PROFILE", "smoke".to_string()),
        ("TARGET_URL", url.to_string()),
        ("API_KEY", "test-api-key".to_string()),
        ("RESULTS_DIR", results_dir),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    for (k, _) in &env[..5] {
        assert!(
            env_block.get(*k).is_some(),
            "the job's env sets {k} (the test stands in for it)"
        );
    }
    let mut failed = false;
    let mut codes = Vec::new();
    let mut log = String::new();
    for s in github_steps(wf) {
        if s.name == "Install throng" {
            continue;
        }
        assert!(
            !s.run.contains("${{"),
            "step {:?}: run: should use shell variables from env:, not expressions",
            s.name
        );
        if failed && !s.always {
            continue;
        }
        let (code, text) = run_script(&s.run, &dir, &env);
        log.push_str(&text);
        failed |= code != 0;
        codes.push((s.name, code));
    }
    (dir, codes, log)
}

fn run_gitlab(job: &Value, scenario: &str, url: &str) -> (PathBuf, Vec<i32>, String) {
    let dir = workdir(&format!("gl-{scenario}"));
    let env = [
        ("SCENARIO", scenario.to_string()),
        ("PROFILE", "smoke".to_string()),
        ("ENVIRONMENT", "staging".to_string()),
        ("TARGET_URL", url.to_string()),
        ("API_KEY", "test-api-key".to_string()),
    ];
    let mut codes = Vec::new();
    let mut log = String::new();
    for line in job["script"].as_array().expect("script list") {
        let line = line.as_str().expect("a script line is a string");
        let (code, text) = run_script(line, &dir, &env);
        log.push_str(&text);
        codes.push(code);
        if code != 0 {
            break; // GitLab stops the script at the first failing line
        }
    }
    (dir, codes, log)
}

async fn demo() -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo target")
}

#[test]
fn ci_yaml_blocks_parse_and_have_the_triggers() {
    let blocks = yaml_blocks();
    assert!(blocks.len() >= 2, "a GitHub workflow and a GitLab job");
    let wf = github_workflow(&blocks);
    let on = &wf["on"];
    assert!(on["schedule"][0]["cron"].is_string(), "weekly schedule");
    assert!(on["push"]["tags"].is_array(), "release-candidate tags");
    let inputs = &on["workflow_dispatch"]["inputs"];
    for i in ["scenario", "profile", "environment"] {
        assert!(inputs.get(i).is_some(), "workflow_dispatch input {i}");
    }
    let uses: Vec<&str> = wf["jobs"]["load-test"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert!(uses
        .iter()
        .any(|u| u.starts_with("actions/upload-artifact")));
    assert!(uses.iter().any(|u| u.contains("junit")));
    let run = github_steps(wf)
        .into_iter()
        .find(|s| s.run.contains("throng run"))
        .expect("a throng run step");
    for flag in [
        "--junit",
        "--md \"$GITHUB_STEP_SUMMARY\"",
        "--results",
        "--html",
    ] {
        assert!(run.run.contains(flag), "the run step passes {flag}");
    }
    let gl = gitlab_job(&blocks);
    assert!(gl["artifacts"]["reports"]["junit"].is_string());
    assert_eq!(gl["artifacts"]["when"].as_str(), Some("always"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_workflow_runs_locally_and_gates_on_thresholds() {
    let server = demo().await;
    let url = server.url();
    let blocks = yaml_blocks();
    let wf = github_workflow(&blocks).clone();
    let (dir, codes, log, fdir, fcodes, flog) = tokio::task::spawn_blocking(move || {
        let (dir, codes, log) = run_github(&wf, "checkout", &url);
        let (fdir, fcodes, flog) = run_github(&wf, "search", &url);
        (dir, codes, log, fdir, fcodes, flog)
    })
    .await
    .expect("join");

    // a passing plan: every step exits 0 and leaves every file
    assert!(codes.len() >= 3, "{codes:?}\n{log}");
    assert!(codes.iter().all(|(_, c)| *c == 0), "{codes:?}\n{log}");
    let files = [
        "throng-results/junit.xml",
        "throng-results/results.json",
        "throng-results/report.html",
        "throng-results/report.md",
        "throng-results/summary.json",
        "throng-results/locust_stats.csv",
        "step-summary.md",
    ];
    assert_files(&dir, &files, &log);
    let summary = std::fs::read_to_string(dir.join("step-summary.md")).expect("summary");
    assert!(summary.contains("p(95)<2000"), "{summary}");
    let junit = std::fs::read_to_string(dir.join("throng-results/junit.xml")).expect("junit");
    assert!(
        junit.contains("<testsuite") && !junit.contains("<failure"),
        "{junit}"
    );

    // a failing threshold: the run step exits 99, the always() steps still run
    let run = fcodes
        .iter()
        .find(|(n, _)| n == "Run the load test")
        .expect("the run step ran");
    assert_eq!(run.1, 99, "{fcodes:?}\n{flog}");
    let after: Vec<_> = fcodes
        .iter()
        .skip_while(|(n, _)| n != "Run the load test")
        .skip(1)
        .collect();
    assert!(!after.is_empty(), "steps after the gate ran: {fcodes:?}");
    assert!(after.iter().all(|(_, c)| *c == 0), "{fcodes:?}\n{flog}");
    assert_files(&fdir, &files, &flog);
    let junit = std::fs::read_to_string(fdir.join("throng-results/junit.xml")).expect("junit");
    assert!(junit.contains("<failure"), "{junit}");
    let _ = std::fs::remove_dir_all(fdir);

    // the baseline gate: the passing run offered itself as the baseline; kept in the
    // repository, the next run against the same target passes it and one against a target
    // 50 ms slower fails it (exit 99), its thresholds passing all the same
    let offered = dir.join("throng-results/baseline/smoke/checkout.json");
    assert_files(&dir, &["throng-results/baseline/smoke/checkout.json"], &log);
    let slow = DemoServer::start(
        ([127, 0, 0, 1], 0).into(),
        DemoConfig {
            latency: throng_demo::Latency::Fixed(Duration::from_millis(50)),
            ..DemoConfig::default()
        },
    )
    .await
    .expect("slow demo");
    let with_baseline = |tag: &str| {
        let d = workdir(tag);
        let kept = d.join("loadtest/baselines/smoke");
        std::fs::create_dir_all(&kept).expect("mkdir");
        std::fs::copy(&offered, kept.join("checkout.json")).expect("baseline");
        d
    };
    let (same_dir, slow_dir) = (with_baseline("gh-same"), with_baseline("gh-slow"));
    let wf = github_workflow(&blocks).clone();
    let (url, slow_url) = (server.url(), slow.url());
    let (same, slower) = tokio::task::spawn_blocking(move || {
        (
            run_github_in(&wf, "checkout", &url, same_dir),
            run_github_in(&wf, "checkout", &slow_url, slow_dir),
        )
    })
    .await
    .expect("join");
    let code = |codes: &[(String, i32)]| {
        codes
            .iter()
            .find(|(n, _)| n == "Run the load test")
            .map(|c| c.1)
    };
    assert_eq!(code(&same.1), Some(0), "{}", same.2);
    assert!(
        same.2
            .contains("comparing loadtest/baselines/smoke/checkout.json"),
        "{}",
        same.2
    );
    assert_eq!(code(&slower.1), Some(99), "{}", slower.2);
    assert!(slower.2.contains("❌ p(95)>+10%&+20ms"), "{}", slower.2);
    assert!(slower.2.contains("✅ error_rate>+0.5pp"), "{}", slower.2);
    for d in [dir, same.0, slower.0] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_job_runs_locally_and_gates_on_thresholds() {
    let server = demo().await;
    let url = server.url();
    let blocks = yaml_blocks();
    let job = gitlab_job(&blocks).clone();
    let vars = &blocks
        .iter()
        .find(|b| b.get("load-test").is_some())
        .expect("gitlab block")["variables"];
    for v in ["SCENARIO", "PROFILE", "ENVIRONMENT"] {
        assert!(vars.get(v).is_some(), "GitLab variable {v} for manual runs");
    }
    let (dir, codes, log, fdir, fcodes, flog) = tokio::task::spawn_blocking(move || {
        let (dir, codes, log) = run_gitlab(&job, "checkout", &url);
        let (fdir, fcodes, flog) = run_gitlab(&job, "search", &url);
        (dir, codes, log, fdir, fcodes, flog)
    })
    .await
    .expect("join");
    assert!(codes.iter().all(|c| *c == 0), "{codes:?}\n{log}");
    let files = [
        "throng-results/junit.xml",
        "throng-results/report.md",
        "throng-results/results.json",
        "throng-results/report.html",
    ];
    assert_files(&dir, &files, &log);
    assert_eq!(fcodes.last(), Some(&99), "{fcodes:?}\n{flog}");
    assert_files(&fdir, &files, &flog);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(fdir);
}

fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out.split_once("\r\n\r\n")?.1.to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// The series names a run exports on `--prometheus` (a superset of remote write's, which
/// has no `_bucket`s), from a plan with checks and an arrival-rate scenario.
async fn exported_names() -> BTreeSet<String> {
    let server = demo().await;
    let dir = std::env::temp_dir().join(format!("throng-ci-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"name: dash
base_url: {}
scenarios:
  closed:
    executor: constant-vus
    vus: 3
    duration: 3s
    flow:
      - get: /health
        name: health
        check: {{ status: 200 }}
  open:
    executor: constant-arrival-rate
    rate: 100
    timeUnit: 1s
    duration: 3s
    preAllocatedVUs: 5
    flow:
      - get: /health
"#,
            server.url()
        ),
    )
    .expect("plan");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = common::throng()
        .args([
            "run",
            plan.to_str().expect("utf-8"),
            "--quiet",
            "--no-summary",
        ])
        .args(["--prometheus", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("throng");
    let mut names = BTreeSet::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let a = addr.clone();
        if let Some(body) = tokio::task::spawn_blocking(move || http_get(&a, "/metrics"))
            .await
            .expect("join")
        {
            for line in body.lines().filter(|l| !l.starts_with('#')) {
                let name: String = line
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
    names
}

/// `throng_...` identifiers in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while let Some(p) = expr[i..].find("throng_") {
        let s = i + p;
        let word_start = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_');
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
            e += 1;
        }
        if word_start {
            out.push(expr[s..e].to_string());
        }
        i = e;
    }
    out
}

fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr" | "definition", Value::String(s)) => out.push(s.clone()),
                    ("query", Value::String(s)) => out.push(s.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_dashboard_is_importable_and_queries_only_exported_metrics() {
    let text = std::fs::read_to_string(common::repo().join("dashboards/throng.json"))
        .expect("dashboards/throng.json");
    let dash: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(dash["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dash["__inputs"][0]["pluginId"], "prometheus");
    assert!(dash["title"].is_string() && dash["uid"].is_string());
    let panels = dash["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().expect("id")),
            "duplicate panel id"
        );
        if p["type"] != "row" {
            assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{}", p["title"]);
            assert!(!p["targets"].as_array().expect("targets").is_empty());
        }
    }
    let mut all = Vec::new();
    exprs(&dash, &mut all);
    let used: BTreeSet<String> = all.iter().flat_map(|e| metric_names(e)).collect();
    for want in [
        "throng_http_reqs_total",
        "throng_http_req_duration_seconds_bucket",
        "throng_http_req_duration_p95",
        "throng_http_req_duration_p99",
        "throng_http_req_failed_total",
        "throng_vus",
        "throng_checks_total",
    ] {
        assert!(used.contains(want), "the dashboard shows {want}");
    }
    assert!(
        all.iter().any(|e| e.contains("status=\"429\"")),
        "a 429 share panel"
    );
    let exported = exported_names().await;
    assert!(
        exported.contains("throng_http_reqs_total"),
        "scraped: {exported:?}"
    );
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics throng does not export: {unknown:?}\nexported: {exported:?}"
    );
}
