//! The repros, end to end through the binary: a misbehaving server (throng-testkit's
//! raw-TCP server) and the figures throng prints and exports, compared with what the server
//! read.
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use throng_testkit::hostile;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// Runs throng with `--summary-export` and returns the output and the export's metrics.
async fn run(args: Vec<String>, dir: &Path) -> (Output, serde_json::Value) {
    let export = dir.join("summary.json");
    let mut c = throng();
    c.args(&args).arg("--summary-export").arg(&export);
    let o = tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("join");
    let m = std::fs::read_to_string(&export)
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .map(|v| v["metrics"].clone())
        .unwrap_or_else(|| panic!("no summary export\n{}", text(&o)));
    (o, m)
}

fn reqs(m: &serde_json::Value) -> u64 {
    m["http_reqs"]["count"].as_f64().expect("http_reqs") as u64
}

fn failed(m: &serde_json::Value) -> u64 {
    m["http_req_failed"]["passes"].as_f64().unwrap_or(0.0) as u64
}

fn args(list: &[&str], url: String) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.push(url);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smuggled_response_is_never_counted() {
    let s = hostile::smuggler().await;
    let dir = tmp("smuggle");
    let (o, m) = run(
        args(&["quick", "-n", "10", "-c", "1", "--no-color"], s.url()),
        &dir,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("[500]"), "{out}");
    assert_eq!(reqs(&m), s.requests());
    assert_eq!(s.requests(), 10);
    assert_eq!(failed(&m), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_408s_are_not_responses() {
    let s = hostile::idle_408(Duration::from_millis(200)).await;
    let dir = tmp("408");
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "base_url: {}\nscenarios:\n  s:\n    executor: per-vu-iterations\n    vus: 2\n    iterations: 5\n    flow:\n      - get: /\n      - sleep: 500ms\n",
            s.url()
        ),
    )
    .expect("plan");
    let (o, m) = run(
        vec!["run".into(), plan.display().to_string(), "--quiet".into()],
        &dir,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(reqs(&m), 10);
    assert_eq!(s.requests(), 10);
    assert_eq!(failed(&m), 0, "no 408 was counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_sent_once_and_counted_once() {
    let s = hostile::one_per_connection().await;
    let dir = tmp("post");
    let (o, m) = run(
        args(
            &[
                "quick",
                "-m",
                "POST",
                "-d",
                "{\"a\":1}",
                "-n",
                "10",
                "-c",
                "1",
                "--quiet",
            ],
            s.url(),
        ),
        &dir,
    )
    .await;
    assert!(matches!(o.status.code(), Some(0 | 99)), "{}", text(&o));
    assert_eq!(s.requests(), 10, "the server got each POST once");
    assert_eq!(reqs(&m), 10);
    assert_eq!(failed(&m), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_cut_short_are_failures_not_successes() {
    let s = hostile::cut_body().await;
    let dir = tmp("cut");
    let (o, m) = run(
        args(&["quick", "-n", "5", "-c", "1", "--no-color"], s.url()),
        &dir,
    )
    .await;
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(reqs(&m), 5, "{}", text(&o));
    assert_eq!(s.requests(), 5);
    assert_eq!(failed(&m), 5, "{out}");
    assert!(!out.contains("[200]"), "{out}");
}
