//! Thresholds: verdicts, exit codes, abortOnFail, tag-filtered sub-metrics, interrupts.
mod common;
use common::*;
use std::time::{Duration, Instant};
use throng_testkit::CountingServer;
use tokio_util::sync::CancellationToken;

const BASE_PLAN: &str = "base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 2\n    iterations: 20\n    flow:\n      - get: /delay/30\n        name: slow\n      - get: /\n        name: fast\n      - get: /status/503\n        name: broken\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_and_failing_thresholds_give_0_and_99() {
    let s = CountingServer::start().await;
    let pass = format!("{BASE_PLAN}thresholds:\n  http_reqs: [\"count==60\"]\n  http_req_duration: [\"p(95)<5000\", \"max<10000\"]\n");
    let out = run_plan(plan(&pass, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert!(out.results.thresholds.iter().all(|t| t.ok));

    let fail = format!("{BASE_PLAN}thresholds:\n  http_req_duration: [\"p(95)<1\"]\n  http_req_failed: [\"rate<0.01\"]\n");
    let out = run_plan(plan(&fail, &s.url())).await;
    assert_eq!(out.exit_code.code(), 99);
    let t = &out.results.thresholds;
    assert!(!t[0].ok && t[0].observed >= 25.0, "{t:?}");
    // one request in three fails
    assert!(
        !t[1].ok && (t[1].observed - 1.0 / 3.0).abs() < 1e-9,
        "{t:?}"
    );
    assert!(out.summary.contains("✗ 'p(95)<1'"), "{}", out.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_filters_select_the_sub_metric() {
    let s = CountingServer::start().await;
    let p = format!(
        "{BASE_PLAN}thresholds:\n  \"http_req_duration{{name:fast}}\": [\"p(99)<25\"]\n  \"http_req_duration{{name:slow}}\": [\"min>=29\"]\n  \"http_reqs{{name:broken,status:503}}\": [\"count==20\"]\n  \"http_req_failed{{name:fast}}\": [\"rate==0\"]\n  \"checks\": [\"rate==0\"]\n"
    );
    let out = run_plan(plan(&p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let r = &out.results;
    assert_eq!(
        r.value("http_reqs{name:broken,status:503}", "count"),
        Some(20.0)
    );
    assert!(
        r.value("http_req_duration{name:slow}", "min")
            .unwrap_or(0.0)
            >= 29.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_on_fail_stops_the_run_early() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 30s\n    flow:\n      - get: /status/500\n      - sleep: 10ms\nthresholds:\n  http_req_failed: [{ threshold: \"rate<0.5\", abortOnFail: true }]\n";
    let t = Instant::now();
    let out = run_plan(plan(p, &s.url())).await;
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(out.exit_code.code(), 99);
    assert!(out.results.run.aborted_by.is_some());
    assert_eq!(s.count(), count(&out, "http_reqs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_abort_eval_postpones_the_abort() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n    duration: 30s\n    flow:\n      - get: /status/500\n      - sleep: 50ms\nthresholds:\n  http_req_failed: [{ threshold: \"rate<0.5\", abortOnFail: true, delayAbortEval: 3s }]\n";
    let t = Instant::now();
    let out = run_plan(plan(p, &s.url())).await;
    let el = t.elapsed();
    assert!(
        el >= Duration::from_secs(3) && el < Duration::from_secs(8),
        "{el:?}"
    );
    assert_eq!(out.exit_code.code(), 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_exits_105_and_still_writes_results() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 3\n    duration: 60s\n    flow:\n      - get: /delay/20\n";
    let dir = std::env::temp_dir().join(format!("throng-int-{}", s.addr.port()));
    let file = dir.join("results.json");
    let stop = CancellationToken::new();
    let s2 = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        s2.cancel();
    });
    let t = Instant::now();
    let out = run_with(plan(p, &s.url()), stop, Some(file.clone())).await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(out.exit_code.code(), 105);
    assert!(out.results.run.interrupted);
    let text = std::fs::read_to_string(&file).expect("results written");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["run"]["exit_code"], 105);
    // interrupted in-flight requests are not counted; every counted one reached the server
    assert!(count(&out, "http_reqs") <= s.count());
    assert!(s.count() - count(&out, "http_reqs") <= 3);
}
