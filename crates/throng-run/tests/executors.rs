//! Every executor against a counting server: the server's count equals http_reqs exactly.
mod common;
use common::*;
use throng_testkit::CountingServer;

async fn exact(yaml: &str, expected: u64) {
    let s = CountingServer::start().await;
    let out = run_plan(plan(yaml, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.count(), count(&out, "http_reqs"), "{}", out.summary);
    if expected > 0 {
        assert_eq!(s.count(), expected, "{}", out.summary);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_iterations() {
    exact(
        "base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 7\n    iterations: 123\n    flow:\n      - get: /a\n      - get: /b\n",
        246,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_vu_iterations() {
    exact(
        "base_url: BASE\nscenarios:\n  s:\n    executor: per-vu-iterations\n    vus: 4\n    iterations: 25\n    flow:\n      - get: /a\n",
        100,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_vus() {
    exact(
        "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 5\n    duration: 1500ms\n    flow:\n      - get: /delay/10\n",
        0,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_vus_counts_and_follows_the_stages() {
    let s = CountingServer::start().await;
    let yaml = "base_url: BASE\nscenarios:\n  s:\n    executor: ramping-vus\n    startVUs: 0\n    stages:\n      - { duration: 2s, target: 10 }\n      - { duration: 2s, target: 10 }\n      - { duration: 2s, target: 0 }\n    gracefulRampDown: 1s\n    flow:\n      - get: /delay/20\n";
    let out = run_plan(plan(yaml, &s.url())).await;
    assert_eq!(s.count(), count(&out, "http_reqs"));
    let tl = &out.results.timeline;
    let vus_at = |t: f64| {
        tl.iter()
            .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()))
            .map(|p| p.vus)
            .unwrap_or(0)
    };
    // sampled once a second: ~5 at 1s, 10 at 3s, ~5 at 5s
    assert!((3..=7).contains(&vus_at(1.0)), "{tl:?}");
    assert_eq!(vus_at(3.0), 10, "{tl:?}");
    assert!((3..=7).contains(&vus_at(5.0)), "{tl:?}");
    let max = out.results.value("vus", "max").unwrap_or(0.0);
    assert_eq!(max, 10.0);
    // three stages, three phases, whose request counts add up to the total exactly
    let ph = &out.results.phases;
    assert_eq!(ph.len(), 3, "{ph:?}");
    assert_eq!(ph[0].name, "ramp-up 0→10 VUs");
    assert_eq!(ph[1].name, "steady 10 VUs");
    assert_eq!(ph[2].name, "ramp-down 10→0 VUs");
    let sum: u64 = ph.iter().map(|p| p.requests).sum();
    assert_eq!(sum, count(&out, "http_reqs"));
    assert!(
        ph[1].requests > ph[0].requests && ph[1].requests > ph[2].requests,
        "{ph:?}"
    );
    for p in ph {
        assert!(p.p50 >= 19.0 && p.p95 >= p.p50 && p.p99 >= p.p95, "{p:?}");
    }
    // and the per-second series adds up too
    let per_second: u64 = out.results.seconds.iter().map(|s| s.reqs).sum();
    assert_eq!(per_second, count(&out, "http_reqs"));
    let per_scenario: u64 = out.results.by_scenario["s"].iter().map(|s| s.reqs).sum();
    assert_eq!(per_scenario, count(&out, "http_reqs"));
    let per_name: u64 = out.results.by_name["/delay/20"]
        .iter()
        .map(|s| s.reqs)
        .sum();
    assert_eq!(per_name, count(&out, "http_reqs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_is_on_rate() {
    let s = CountingServer::start().await;
    let yaml = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 100\n    timeUnit: 1s\n    duration: 3s\n    preAllocatedVUs: 5\n    maxVUs: 50\n    flow:\n      - get: /delay/5\n";
    let out = run_plan(plan(yaml, &s.url())).await;
    assert_eq!(s.count(), 300, "{}", out.summary);
    assert_eq!(count(&out, "http_reqs"), 300);
    assert_eq!(count(&out, "dropped_iterations"), 0);
    // arrivals as the server saw them: 299 gaps over ~2.99 s
    let seen = s.seen();
    let span = seen.last().expect("last").at - seen.first().expect("first").at;
    let rate = 299.0 / span.as_secs_f64();
    assert!((rate - 100.0).abs() <= 2.0, "observed {rate:.2}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_arrival_rate_counts_exactly() {
    let s = CountingServer::start().await;
    let yaml = "base_url: BASE\nscenarios:\n  s:\n    executor: ramping-arrival-rate\n    startRate: 20\n    timeUnit: 1s\n    preAllocatedVUs: 5\n    maxVUs: 20\n    stages:\n      - { duration: 2s, target: 60 }\n      - { duration: 1s, target: 60 }\n    flow:\n      - get: /\n";
    let out = run_plan(plan(yaml, &s.url())).await;
    // integral: (20+60)/2*2 + 60 = 140 arrivals
    assert_eq!(s.count(), 140, "{}", out.summary);
    assert_eq!(count(&out, "http_reqs"), 140);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_iterations_when_no_vu_is_free() {
    let s = CountingServer::start().await;
    let yaml = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 50\n    timeUnit: 1s\n    duration: 1s\n    preAllocatedVUs: 2\n    maxVUs: 2\n    flow:\n      - get: /delay/300\n";
    let out = run_plan(plan(yaml, &s.url())).await;
    let dropped = count(&out, "dropped_iterations");
    assert!(dropped >= 40, "{}", out.summary);
    assert_eq!(s.count() + dropped, 50);
    assert_eq!(s.count(), count(&out, "http_reqs"));
    assert_eq!(out.results.scenarios[0].dropped, dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_run_concurrently_with_start_time() {
    let s = CountingServer::start().await;
    let yaml = "base_url: BASE\nscenarios:\n  a:\n    executor: constant-vus\n    vus: 1\n    duration: 2s\n    flow:\n      - get: /a\n      - sleep: 100ms\n  b:\n    executor: shared-iterations\n    vus: 1\n    iterations: 5\n    startTime: 1s\n    flow:\n      - get: /b\n";
    let t = std::time::Instant::now();
    let out = run_plan(plan(yaml, &s.url())).await;
    assert!(t.elapsed() < std::time::Duration::from_millis(3500));
    assert_eq!(s.count_prefix("/b"), 5);
    let first_b = s.seen().into_iter().find(|x| x.path == "/b").expect("b");
    let first_a = s.seen().into_iter().find(|x| x.path == "/a").expect("a");
    assert!(first_b.at - first_a.at >= std::time::Duration::from_millis(900));
    assert_eq!(s.count(), count(&out, "http_reqs"));
}

/// `vus_max` means what it means in k6: the VUs initialised. An arrival-rate scenario
/// starts with its preAllocatedVUs and adds VUs (up to maxVUs) only when it needs them; the
/// issue's plan (ramping-arrival-rate 20 of 50, ramping-vus up to 10, per-vu-iterations 7)
/// reads 37 in k6 and here, while a slow target makes it grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vus_max_counts_the_vus_initialised_as_k6_does() {
    let s = CountingServer::start().await;
    let plan_for = |path: &str, target: u32| {
        format!("base_url: BASE\nscenarios:\n  open:\n    executor: ramping-arrival-rate\n    startRate: 10\n    timeUnit: 1s\n    preAllocatedVUs: 20\n    maxVUs: 50\n    stages: [ {{ duration: 2s, target: {target} }} ]\n    flow: [ {{ get: {path} }} ]\n  closed:\n    executor: ramping-vus\n    startVUs: 0\n    stages: [ {{ duration: 1s, target: 10 }} ]\n    flow: [ {{ get: /a }}, {{ sleep: 50ms }} ]\n  fixed:\n    executor: per-vu-iterations\n    vus: 7\n    iterations: 2\n    flow: [ {{ get: /a }} ]\n")
    };
    let out = run_plan(plan(&plan_for("/a", 20), &s.url())).await;
    assert_eq!(
        out.results.value("vus_max", "max"),
        Some(37.0),
        "{}",
        out.summary
    );
    assert_eq!(s.count(), count(&out, "http_reqs"));
    // a target that holds every request 1.5 s: the open scenario needs more than 20 VUs
    let out = run_plan(plan(&plan_for("/delay/1500", 40), &s.url())).await;
    let grown = out.results.value("vus_max", "max").unwrap_or(0.0);
    assert!(grown > 37.0 && grown <= 67.0, "vus_max {grown}");
}
