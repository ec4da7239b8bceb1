//! Ctrl-C during a suite: the running plan stops gracefully (its reports are still written),
//! the remaining steps are skipped, and the combined report says so.
use std::time::Duration;
use throng_campaign::suite::{load_suite, run_suite, SuiteOptions, Verdict};
use throng_demo::{DemoConfig, DemoServer};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_suite_still_writes_its_combined_report() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-suite-int-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("long.yaml"),
        "name: long\nbase_url: http://127.0.0.1:1\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 30s\n    flow: [ { get: /health }, { sleep: 50ms } ]\n",
    )
    .expect("plan");
    std::fs::write(
        dir.join("suite.yaml"),
        "name: int\nsteps:\n  - plan: long.yaml\n  - exec: [\"true\"]\n",
    )
    .expect("suite");
    let opts = SuiteOptions {
        base_url: Some(server.url()),
        ..SuiteOptions::default()
    };
    let suite = load_suite(&dir.join("suite.yaml"), &opts).expect("suite");
    let stop = CancellationToken::new();
    let s2 = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        s2.cancel();
    });
    let out = dir.join("out");
    let r = run_suite(&suite, &out, stop, &mut |_| {}).await;
    assert!(r.interrupted);
    assert_eq!(r.exit_code(), 105);
    assert_eq!(r.steps[0].verdict, Verdict::Interrupted);
    assert!(r.steps[0].duration_s < 10.0, "stopped, not run to its end");
    assert_eq!(r.steps[1].verdict, Verdict::Skipped);
    assert!(r.write(&out).is_empty());
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains(", interrupted (exit code 105)"), "{md}");
    assert!(md.contains("⏭ skipped"), "{md}");
    assert!(out.join("01-long/results.json").is_file());
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("01-long/results.json")).expect("r"))
            .expect("json");
    let reqs = results["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "http_reqs"))
        .and_then(|m| m["values"]["count"].as_f64())
        .expect("http_reqs") as u64;
    assert_eq!(
        reqs,
        server.requests(),
        "throng's http_reqs are what the server counted"
    );
    server.stop().await;
}
