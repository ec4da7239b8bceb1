//! A load on one thread (`THRONG_THREADS=1`, or one processor): the numbers and Ctrl-C as
//! on many threads (and `cli.rs`'s `sigint_stops_a_single_threaded_run_too`).
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("join")
}

async fn demo() -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-one-thread-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp");
    d
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
}

fn count(v: &serde_json::Value, metric: &str) -> u64 {
    v["metrics"][metric]["count"].as_f64().unwrap_or(-1.0) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_on_one_thread_counts_what_the_server_saw() {
    let s = demo().await;
    let dir = tmp("quick");
    let export = dir.join("s.json");
    let results = dir.join("r.json");
    let mut c = throng();
    c.env("THRONG_THREADS", "1")
        .args([
            "quick",
            "-n",
            "3000",
            "-c",
            "200",
            "--quiet",
            "--summary-export",
        ])
        .arg(&export)
        .arg("--results")
        .arg(&results)
        .arg(format!("{}/health", s.url()));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&export);
    assert_eq!(count(&v, "http_reqs"), 3000);
    assert_eq!(count(&v, "iterations"), 3000);
    assert_eq!(s.requests(), 3000);
    // the generator's CPU is judged against the one thread the load had
    assert_eq!(json(&results)["generator"]["cores"], 1);
}

/// Every iteration fails before anything is sent (the URL cannot be parsed), so no VU
/// ever waits, between iterations or between the passes of a `repeat:` loop. Ctrl-C
/// still ends the run (the signal is read on the one thread the VUs run on), because a
/// VU gives the thread up whenever its task's budget is spent.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterations_that_never_wait_do_not_keep_the_thread() {
    let dir = tmp("spin");
    for (name, flow) in [
        ("flat", "[ {get: \"{{env.URL}}\"} ]"),
        (
            "repeat",
            "[ {repeat: {within: 60s, flow: [ {get: \"{{env.URL}}\"} ]}} ]",
        ),
    ] {
        let plan = dir.join(format!("{name}.yaml"));
        std::fs::write(
            &plan,
            format!("scenarios:\n  s:\n    executor: constant-vus\n    vus: 3\n    duration: 60s\n    flow: {flow}\n"),
        )
        .expect("write");
        let export = dir.join(format!("{name}.json"));
        let child = throng()
            .env("THRONG_THREADS", "1")
            .arg("run")
            .arg(&plan)
            .args(["-e", "URL=http://[::1", "--quiet", "--summary-export"])
            .arg(&export)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let out = common::interrupt(child).await;
        assert_eq!(out.status.code(), Some(105), "{name}: {}", text(&out));
        let v = json(&export);
        let reqs = count(&v, "http_reqs");
        assert!(reqs > 256, "{name}: {reqs} requests");
        // each request failed, and each counts once
        assert_eq!(v["metrics"]["http_req_failed"]["passes"], reqs, "{name}");
        if name == "flat" {
            assert_eq!(count(&v, "iterations"), reqs);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_count_that_is_not_a_positive_integer_is_an_error() {
    for bad in ["0", "two", "-1", "100000"] {
        let mut c = throng();
        c.env("THRONG_THREADS", bad)
            .args(["quick", "-n", "1", "http://127.0.0.1:9/"]);
        let o = output(c).await;
        assert_eq!(o.status.code(), Some(104), "{bad}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("THRONG_THREADS") && err.contains("positive integer"),
            "{bad}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_count_is_read_only_by_the_commands_that_run_load() {
    let mut c = throng();
    c.env("THRONG_THREADS", "0").arg("version");
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
