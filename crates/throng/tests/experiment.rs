//! examples/experiment.yaml through the binary against an in-process demo target: actions
//! on their offsets, time to detect against the truth the demo reports, the Timeline in
//! the reports, and the exit codes of a missed `within:` (99) and a failed preflight (107).
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-exp-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn json(path: &Path) -> serde_json::Value {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&t).expect("json")
}

async fn demo(breaker_delay: Duration) -> DemoServer {
    let cfg = DemoConfig {
        breaker_delay,
        ..DemoConfig::default()
    };
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo")
}

/// Runs a plan file with every report written into `dir`.
async fn run(plan: &str, server: &DemoServer, dir: &Path) -> Output {
    let mut c = throng();
    c.args(["run", plan, "--base-url", &server.url(), "--no-color"])
        .arg("--results")
        .arg(dir.join("results.json"))
        .arg("--summary-export")
        .arg(dir.join("export.json"))
        .arg("--md")
        .arg(dir.join("report.md"))
        .arg("--html")
        .arg(dir.join("report.html"));
    tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("join")
}

fn action<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no action `{name}` in {}", results["actions"]))
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Whether the threshold on `metric` passed.
fn threshold_ok(results: &serde_json::Value, metric: &str) -> Option<bool> {
    results["thresholds"]
        .as_array()?
        .iter()
        .find(|t| t["metric"] == metric)
        .and_then(|t| t["ok"].as_bool())
}

/// Requests of one name in the results' Locust rows.
fn requests_named(results: &serde_json::Value, name: &str) -> u64 {
    results["requests"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["name"] == name)
                .map(|r| r["count"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_experiment_runs_its_actions_on_time_and_measures_detection_and_recovery() {
    let dir = tmp("ok");
    let server = demo(Duration::from_secs(1)).await;
    let out = run("examples/experiment.yaml", &server, &dir).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let results = json(&dir.join("results.json"));
    let actions = results["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 5, "{}", results["actions"]);
    for a in actions {
        assert_eq!(a["ok"], true, "{a}");
        if let Some(planned) = a["planned_s"].as_f64() {
            let late = f(&a["started_s"]) - planned;
            assert!((0.0..=0.2).contains(&late), "{a}: started {late:.3}s off");
        }
    }
    // the config change reached the service
    assert_eq!(server.runtime_config()["batch_size"], 200);

    // time to detect against the truth: the breaker opened one delay after the dependency
    // went down (the demo's record); the poll saw it within one `every` (100 ms) of that
    let start_ms = results["run"]["started_at"]
        .as_str()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .expect("started_at")
        .as_millisecond() as f64;
    let changes = server.dependency()["changes"].clone();
    let follows = |up: bool| -> f64 {
        changes
            .as_array()
            .and_then(|c| c.iter().find(|c| c["up"] == up))
            .map(|c| f(&c["breaker_follows_at_ms"]))
            .unwrap_or_else(|| panic!("no change up={up} in {changes}"))
    };
    for (name, truth_at) in [
        ("breaker opens", follows(false)),
        ("recovery", follows(true)),
    ] {
        let a = action(&results, name);
        let began = start_ms + f(&a["started_s"]) * 1000.0;
        let truth = truth_at - began;
        let took = f(&a["took_ms"]);
        assert!(
            took >= truth - 15.0 && took <= truth + 100.0 + 60.0,
            "{name}: detected after {took:.0} ms, truth {truth:.0} ms"
        );
    }
    // …recorded as action_duration{action:NAME} and judged by the plan's thresholds
    let export = json(&dir.join("export.json"));
    let recovery = &export["metrics"]["action_duration{action:recovery}"];
    assert!(
        (f(&recovery["max"]) - f(&action(&results, "recovery")["took_ms"])).abs() < 1.0,
        "{recovery}"
    );
    assert_eq!(threshold_ok(&results, "actions_failed"), Some(true));
    assert_eq!(
        threshold_ok(&results, "action_duration{action:recovery}"),
        Some(true)
    );

    // one outcome per request, and the server's count is the truth
    assert_eq!(
        requests_named(&results, "/api/v1/ingest"),
        server.requests_for("/api/v1/ingest")
    );
    assert_eq!(
        requests_named(&results, "/health"),
        server.requests_for("/health")
    );
    assert!(server.requests_for("/api/v1/ingest") >= 300);
    assert!(
        server.responses_with_status(503) > 0,
        "the breaker turned load away"
    );

    // the reports show the timeline
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(md.contains("## Timeline"), "{md}");
    assert!(md.contains("breaker opens | wait_for | 2s |"), "{md}");
    assert!(
        md.contains("recovery | wait_for | after dependency restarted |"),
        "{md}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("TIMELINE"), "{stdout}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    for a in actions {
        let name = a["name"].as_str().expect("name");
        assert!(
            html.contains(&format!(r#"data-action="{name}""#)),
            "no marker for {name}"
        );
    }
    markers_render_in_chromium(&dir.join("report.html"), &dir);
    server.stop().await;
}

/// The markers are in the DOM headless Chromium builds from the report.
fn markers_render_in_chromium(page: &Path, dir: &Path) {
    let Some(mut c) = throng_testkit::chromium(&dir.join("chromium-profile")) else {
        return;
    };
    let o = c
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.matches("action-marker").count() >= 5,
        "markers missing from the rendered page: {}",
        text(&o)
    );
    assert!(dom.contains(r#"data-action="breaker opens""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_not_seen_within_its_bound_fails_the_run_with_99() {
    let dir = tmp("late");
    // the breaker takes 30 s to follow: `breaker opens` (within 5s) cannot see it
    let server = demo(Duration::from_secs(30)).await;
    let out = run("examples/experiment.yaml", &server, &dir).await;
    assert_eq!(out.status.code(), Some(99), "{}", text(&out));
    let results = json(&dir.join("results.json"));
    let a = action(&results, "breaker opens");
    assert_eq!(a["ok"], false);
    assert!(
        a["outcome"]
            .as_str()
            .unwrap_or("")
            .starts_with("not seen within 5s"),
        "{a}"
    );
    assert!(
        f(&a["took_ms"]) >= 5000.0 && f(&a["took_ms"]) < 5400.0,
        "{a}"
    );
    assert_eq!(action(&results, "recovery")["ok"], true);
    let export = json(&dir.join("export.json"));
    assert_eq!(export["metrics"]["actions_failed"]["count"], 1.0);
    assert_eq!(
        export["metrics"]["actions_failed"]["thresholds"]["count==0"],
        true
    );
    assert_eq!(threshold_ok(&results, "actions_failed"), Some(false));
    // the load itself ran to its end
    assert_eq!(
        requests_named(&results, "/api/v1/ingest"),
        server.requests_for("/api/v1/ingest")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_preflight_stops_the_run_before_any_load_with_107() {
    let dir = tmp("preflight");
    let server = demo(Duration::from_secs(1)).await;
    let plan = dir.join("preflight.yaml");
    std::fs::write(
        &plan,
        "base_url: http://127.0.0.1:1\n\
         preflight: { get: /api/v1/items/1, until: { status: 200 }, every: 100ms, within: 1s }\n\
         scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 2s\n    flow: [ {get: /health} ]\n",
    )
    .expect("write");
    let out = run(plan.to_str().expect("utf-8"), &server, &dir).await;
    assert_eq!(out.status.code(), Some(107), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let url = format!("{}/api/v1/items/1", server.url());
    assert!(err.contains("preflight failed"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("status 401"), "{err}");
    // polled every 100 ms for 1 s, and no load at all
    let polls = server.requests_for("/api/v1/items/{id}");
    assert!((9..=12).contains(&polls), "{polls} polls");
    assert_eq!(server.requests_for("/health"), 0);
    server.stop().await;
}
