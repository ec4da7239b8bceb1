//! Setup, teardown, per-VU state and the control steps (`if`, `choose`, `repeat`,
//! `until`) against the demo target, whose counts are the truth.
mod common;
use common::*;
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};
use throng_run::{run, RunError, RunRequest};
use tokio_util::sync::CancellationToken;

async fn demo() -> DemoServer {
    demo_with(DemoConfig::default()).await
}

async fn demo_with(cfg: DemoConfig) -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_values_reach_every_vu_and_vu_init_logs_in_once_per_vu() {
    let server = demo().await;
    let p = r#"
base_url: BASE
setup:
  - post: /api/v1/login
    json: { username: setup, password: secret }
    extract: { token: { json: "$.token" } }
    check: { status: 200 }
vu_init:
  - post: /api/v1/login
    json: { username: "u{{vu}}", password: secret }
    extract: { token: { json: "$.token" } }
    check: { status: 200 }
scenarios:
  items:
    executor: shared-iterations
    vus: 5
    iterations: 40
    flow:
      - get: /api/v1/items/{{iter}}
        name: with the VU's token
        headers: { Authorization: "Bearer {{vu.token}}" }
        check: { status: 200 }
      - get: /api/v1/items/7
        name: with setup's token
        headers: { Authorization: "Bearer {{setup.token}}" }
        check: { status: 200 }
teardown:
  - post: /admin/config
    json: { cleaned_up: "{{setup.token}}" }
    check: { status: 200 }
thresholds:
  http_reqs: ["count==85"]
  checks: ["rate==1"]
"#;
    let out = run_plan(plan(p, &server.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    // one login for setup, one per VU: never one per iteration
    assert_eq!(server.requests_for("/api/v1/login"), 1 + 5);
    assert_eq!(server.requests_for("/api/v1/items/{id}"), 80);
    assert_eq!(server.responses_with_status(401), 0);
    // teardown ran with setup's value
    let token = server.runtime_config()["cleaned_up"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(token.split('.').count() == 3, "teardown saw `{token}`");
    // every request counted; thresholds judged only the load (80 + 5 vu_init logins)
    assert_eq!(count(&out, "http_reqs"), 1 + 5 + 80 + 1);
    assert_eq!(
        count(&out, "http_reqs"),
        server.requests() + 1,
        "admin is not counted by the demo"
    );
    assert!(out.results.thresholds_ok());
    let td = out.results.actions.last().expect("teardown row");
    assert_eq!((td.kind.as_str(), td.ok), ("teardown", true), "{td:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_setup_sends_no_load_and_is_a_runtime_error() {
    let server = demo().await;
    let p = r#"
base_url: BASE
setup:
  - post: /api/v1/login
    json: { username: ann, password: wrong }
    extract: { token: { json: "$.token" } }
scenarios:
  s:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow: [ { get: /health } ]
"#;
    let err = run(RunRequest {
        plan: plan(p, &server.url()),
        plan_file: "plan.yaml".into(),
        files: Default::default(),
        no_thresholds: false,
        interrupt: CancellationToken::new(),
        color: false,
        live: None,
        command: None,
        dashboard: None,
        prometheus: None,
        http_debug: None,
        control: None,
        instance: None,
    })
    .await
    .expect_err("setup fails");
    assert!(matches!(err, RunError::Setup(_)), "{err}");
    assert_eq!(err.exit_code().code(), 107);
    let msg = err.to_string();
    assert!(msg.contains("POST /api/v1/login: status 401"), "{msg}");
    assert_eq!(server.requests_for("/health"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_runs_after_ctrl_c() {
    let server = demo().await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: constant-vus
    vus: 2
    duration: 30s
    flow: [ { get: /health }, { sleep: 50ms } ]
teardown:
  - post: /admin/config
    json: { teardown: ran }
"#;
    let interrupt = CancellationToken::new();
    let i2 = interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        i2.cancel();
    });
    let t0 = std::time::Instant::now();
    let out = run_with(plan(p, &server.url()), interrupt, None).await;
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(out.exit_code.code(), 105, "{}", out.summary);
    assert_eq!(server.runtime_config()["teardown"], "ran");
    // a request in flight when Ctrl-C stops the load is cut off and not counted (as in
    // k6): the server may have seen one per VU more
    let counted = count(&out, "http_reqs") - 1;
    let seen = server.requests_for("/health");
    assert!(
        (counted..=counted + 2).contains(&seen),
        "{counted} counted, {seen} seen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choose_follows_the_weights_and_if_follows_the_data() {
    let server = demo().await;
    let dir = std::env::temp_dir().join(format!("throng-choose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("flags.csv"), "flag\ntrue\nfalse\nfalse\n0\n").expect("csv");
    let p = r#"
base_url: BASE
data:
  flags: { file: flags.csv, pick: sequential }
scenarios:
  s:
    executor: shared-iterations
    vus: 4
    iterations: 4000
    flow:
      - choose:
          - weight: 3
            flow: [ { get: /health } ]
          - weight: 1
            flow: [ { get: /api/v1/items/1, name: item } ]
      - get: /api/v1/items?page=1
        name: only when flagged
        if: "{{flags.flag}}"
"#;
    let out = run_plan(plan_in(p, &server.url(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let health = server.requests_for("/health") as f64;
    let item = server.requests_for("/api/v1/items/{id}") as f64;
    assert_eq!(health + item, 4000.0);
    let share = health / 4000.0;
    assert!((0.73..=0.77).contains(&share), "weight 3 of 4 got {share}");
    // one row in four says true
    assert_eq!(server.requests_for("/api/v1/items"), 1000);
    assert_eq!(count(&out, "http_reqs"), server.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_and_loops_measure_the_time_until_a_condition_holds() {
    let server = demo_with(DemoConfig {
        breaker_delay: Duration::from_millis(300),
        ..DemoConfig::default()
    })
    .await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    flow:
      - post: /admin/dependency
        json: { up: false }
      # poll one request until the breaker shows open: time to detect
      - get: /health
        until: { status: 503 }
        every: 20ms
        within: 3s
        trend: breaker_opens
      - post: /admin/dependency
        json: { up: true }
      # a loop of steps until a value extracted in it holds
      - repeat:
          flow:
            - get: /admin/dependency
              extract: { open: { json: "$.breaker_open" } }
          until: "{{open}}"
          every: 20ms
          within: 3s
          trend: still_open
      - repeat:
          times: 3
          flow: [ { get: /api/v1/items/1, name: thrice } ]
      - repeat:
          flow: [ { get: /metrics } ]
          until: "{{open}}"
          max: 2
      # let the breaker close before the next iteration takes the dependency down again
      - sleep: 400ms
thresholds:
  breaker_opens: ["min>=200", "max<600"]
"#;
    let out = run_plan(plan(p, &server.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let opens = out.results.metric("breaker_opens").expect("trend recorded");
    assert_eq!(opens.values.get("count").copied(), Some(3.0));
    // the repeat that waits for `open` to be true sees it (the breaker is still open
    // right after the dependency came back) at once: one pass, recorded
    assert_eq!(
        out.results.value("still_open", "count"),
        Some(3.0),
        "{}",
        out.summary
    );
    assert_eq!(server.requests_for("/api/v1/items/{id}"), 9);
    // every poll reached the server and was counted once (the demo does not count its
    // admin and metrics routes: 2 posts, 1 dependency read and 1 scrape an iteration)
    assert_eq!(
        count(&out, "http_reqs") - 3 * 4,
        server.requests_for("/health") + server.requests_for("/api/v1/items/{id}")
    );
    // the poll's verdict is a check of its own
    let checks: Vec<_> = out.results.checks.iter().map(|c| c.name.clone()).collect();
    assert!(
        checks.iter().any(|c| c == "until status is 503"),
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_action_fails_the_verdict_and_stops_the_load_only_with_abort_on_fail() {
    let server = demo().await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: constant-vus
    vus: 2
    duration: DURATION
    flow: [ { get: /health }, { sleep: 20ms } ]
timeline:
  - at: 300ms
    name: breaks
    exec: ["sh", "-c", "echo about to fail; echo oops >&2; exit 3"]
    ABORT
"#;
    // without abort_on_fail: the load runs its whole 2 s, the run exits 99
    let before = server.requests();
    let t0 = std::time::Instant::now();
    let text = p.replace("DURATION", "2s").replace("ABORT", "");
    let out = run_plan(plan(&text, &server.url())).await;
    assert!(t0.elapsed() >= Duration::from_secs(2));
    assert_eq!(out.exit_code.code(), 99, "{}", out.summary);
    let a = &out.results.actions[0];
    assert_eq!((a.ok, a.outcome.as_str()), (false, "exit 3"));
    assert_eq!(a.output, "about to fail\noops");
    assert!(out.results.run.aborted_by.is_none());
    assert_eq!(out.results.value("actions_failed", "count"), Some(1.0));
    assert_eq!(count(&out, "http_reqs"), server.requests() - before);
    // with it: the load stops right after the action failed
    let before = server.requests();
    let t0 = std::time::Instant::now();
    let text = p
        .replace("DURATION", "30s")
        .replace("ABORT", "abort_on_fail: true");
    let out = run_plan(plan(&text, &server.url())).await;
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(out.exit_code.code(), 99, "{}", out.summary);
    assert_eq!(
        out.results.run.aborted_by.as_deref(),
        Some("action `breaks` failed")
    );
    let seen = server.requests() - before;
    let counted = count(&out, "http_reqs");
    assert!(
        (counted..=counted + 2).contains(&seen),
        "{counted} counted, {seen} seen"
    );
}

/// An action the load never reached fails the verdict and is counted in `actions_failed`,
/// like one that ran and failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_that_never_ran_counts_as_failed() {
    let server = demo().await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 3s
    flow: [ { get: /health }, { sleep: 50ms } ]
timeline:
  - { at: 200ms, name: breaks, exec: ["sh", "-c", "exit 3"], abort_on_fail: true }
  - { at: 2500ms, name: later, http: { get: /api/v1/items/7 } }
"#;
    let out = run_plan(plan(p, &server.url())).await;
    assert_eq!(out.exit_code.code(), 99, "{}", out.summary);
    let later = out
        .results
        .actions
        .iter()
        .find(|a| a.name == "later")
        .expect("later");
    assert_eq!(
        (later.ok, later.outcome.as_str()),
        (false, "did not run: the load ended first")
    );
    assert_eq!(out.results.value("actions_failed", "count"), Some(2.0));
    assert_eq!(server.requests_for("/api/v1/items/{id}"), 0);
    assert_eq!(count(&out, "http_reqs"), server.requests());
}
