//! Latency accuracy: a known injected delay, coordinated omission under a stall, and
//! queue-mode arrivals (counts exact, time bands wide).
mod common;
use common::*;
use throng_demo::{DemoConfig, DemoServer};
use throng_testkit::CountingServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_delay_is_measured_as_it_is() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 4\n    duration: 3s\n    flow:\n      - get: /delay/20\n";
    let out = run_plan(plan(p, &s.url())).await;
    let p50 = out.results.value("http_req_duration", "med").expect("med");
    let p99 = out
        .results
        .value("http_req_duration", "p(99)")
        .expect("p99");
    let min = out.results.value("http_req_duration", "min").expect("min");
    // the server sleeps 20 ms on a 1 ms timer; the band allows for it and a loaded machine
    assert!(min >= 19.9, "min {min}");
    assert!((20.0..22.5).contains(&p50), "p50 {p50}");
    assert!((20.0..30.0).contains(&p99), "p99 {p99}");
    assert_eq!(s.count(), count(&out, "http_reqs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrected_latency_shows_a_stall_that_send_latency_hides() {
    let cfg = DemoConfig {
        stall: Some((
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(10),
        )),
        ..DemoConfig::default()
    };
    let d = DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo");
    // like `throng quick -q 200 -c 10`: 10 VUs share the schedule, late sends are queued
    // the demo stalls from 9 s to 10 s of every 10 s; the run lasts 11 s
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 200\n    timeUnit: 1s\n    duration: 11s\n    preAllocatedVUs: 10\n    maxVUs: 10\n    when_busy: queue\n    flow:\n      - get: /health\n";
    let out = run_plan(plan(p, &d.url())).await;
    let r = &out.results;
    assert_eq!(count(&out, "http_reqs"), 2200, "{}", out.summary);
    assert_eq!(d.requests(), 2200);
    assert_eq!(count(&out, "dropped_iterations"), 0);
    let send_p99 = r.value("http_req_duration", "p(99)").expect("p99");
    let corrected_p99 = r
        .value("http_req_duration_corrected", "p(99)")
        .expect("p99c");
    // ~9% of the intended sends fall in the stall: the corrected p99 shows ~1 s of it,
    // while only the 10 requests in flight (0.5%) saw it from their send
    assert!(send_p99 < 100.0, "send-based p99 {send_p99}");
    assert!(corrected_p99 > 700.0, "corrected p99 {corrected_p99}");
    assert!(out.summary.contains("http_req_duration_corrected"));
    let g = r.generator.as_ref().expect("generator");
    assert!(!g.bottleneck, "{g:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_arrivals_run_until_the_duration_and_the_rest_are_dropped() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 100\n    timeUnit: 1s\n    duration: 2s\n    preAllocatedVUs: 2\n    maxVUs: 2\n    when_busy: queue\n    flow:\n      - get: /delay/40\n";
    let out = run_plan(plan(p, &s.url())).await;
    let reqs = count(&out, "http_reqs");
    let dropped = count(&out, "dropped_iterations");
    assert_eq!(s.count(), reqs, "{}", out.summary);
    // 2 VUs at 25/s each keep half of 100/s; the duration is a limit, so what is still
    // queued at 2 s never starts: every one of the 200 arrivals ran or was dropped
    assert_eq!(reqs + dropped, 200, "{}", out.summary);
    assert!((90..=104).contains(&reqs), "{reqs}");
    // the queue made the last sends ~1 s late
    let corrected = out
        .results
        .value("http_req_duration_corrected", "max")
        .expect("max");
    assert!(corrected > 800.0, "{corrected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_iterations_are_called_out_as_a_generator_limit() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 50\n    timeUnit: 1s\n    duration: 1s\n    preAllocatedVUs: 1\n    maxVUs: 1\n    flow:\n      - get: /delay/100\n";
    let out = run_plan(plan(p, &s.url())).await;
    let g = out.results.generator.as_ref().expect("generator");
    assert!(g.bottleneck && g.dropped_iterations > 0, "{g:?}");
    assert!(out
        .summary
        .contains("the load generator was the bottleneck"));
}
