//! Live control of real runs against the demo target: pause, resume and scale through the
//! control API (`/v1/status`, k6's shape), observed at the server.
mod common;

use common::plan;
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer, Latency};
use throng_live::control::{client, StatusPatch};
use throng_run::servers::{self, LiveArgs};
use throng_run::{run, EngineControl, ExitCode, ReportFiles, RunRequest};
use tokio_util::sync::CancellationToken;

/// A demo answering every items request in 50 ms, so throughput is proportional to VUs.
async fn demo() -> DemoServer {
    let cfg = DemoConfig {
        latency: Latency::Fixed(Duration::from_millis(50)),
        ..DemoConfig::default()
    };
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo")
}

/// Starts `yaml` with the control API on a free loopback port; returns the API's address,
/// the control and the running run.
async fn start(
    yaml: &str,
    base: &str,
) -> (
    std::net::SocketAddr,
    EngineControl,
    tokio::task::JoinHandle<throng_run::RunOutcome>,
    servers::Servers,
) {
    let args = LiveArgs {
        control: Some(([127, 0, 0, 1], 0).into()),
        ..LiveArgs::default()
    };
    let s = servers::start(&args, &mut |_| {}).await.expect("servers");
    let addr = s.control.as_ref().expect("api").addr();
    let control = EngineControl::new();
    s.attach(&control);
    let req = RunRequest {
        control: Some(control.clone()),
        ..common::request(
            plan(yaml, base),
            CancellationToken::new(),
            ReportFiles::default(),
        )
    };
    let h = tokio::spawn(async move { run(req).await.expect("run starts") });
    (addr, control, h, s)
}

/// A patch that changes the VU count.
fn vus(n: u64) -> StatusPatch {
    StatusPatch {
        vus: Some(n),
        ..StatusPatch::default()
    }
}

/// A patch that pauses or resumes.
fn paused(p: bool) -> StatusPatch {
    StatusPatch {
        paused: Some(p),
        ..StatusPatch::default()
    }
}

/// Requests the server counts over `d`, per second.
async fn rate(server: &DemoServer, d: Duration) -> f64 {
    let (n0, t0) = (server.requests(), Instant::now());
    tokio::time::sleep(d).await;
    (server.requests() - n0) as f64 / t0.elapsed().as_secs_f64()
}

const EXTERNAL: &str = "scenarios:
  live:
    executor: externally-controlled
    vus: 2
    maxVUs: 6
    duration: 0
    flow:
      - get: BASE/api/v1/items
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_scale_change_what_the_server_sees() {
    let server = demo().await;
    let (addr, _control, h, _servers) = start(EXTERNAL, &server.url()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = client::status(addr).await.expect("status");
    assert!(s.running && !s.paused && !s.stopped, "{s:?}");
    assert_eq!((s.vus, s.vus_max), (2, 6));

    // 2 VUs at 50 ms: about 40 requests a second
    let two = rate(&server, Duration::from_secs(1)).await;
    assert!((20.0..=42.0).contains(&two), "2 VUs: {two:.1} req/s");

    // paused: iterations in flight finish, then the server sees nothing
    let s = client::patch(addr, paused(true)).await.expect("pause");
    assert!(s.paused);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let held = server.requests();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.requests(), held, "requests while paused");
    assert_eq!(client::status(addr).await.expect("status").vus, 2);

    // resumed and scaled to 6: three times the throughput
    let scale = StatusPatch {
        paused: Some(false),
        vus: Some(6),
        ..StatusPatch::default()
    };
    let s = client::patch(addr, scale).await.expect("scale");
    assert!(!s.paused);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client::status(addr).await.expect("status").vus, 6);
    let six = rate(&server, Duration::from_secs(1)).await;
    let ratio = six / two;
    // ideally 3×; a loaded 2-core machine shaves some off
    assert!(
        (2.0..=3.3).contains(&ratio),
        "6 VUs: {six:.1} req/s, {ratio:.2}× of 2 VUs"
    );

    // above maxVUs: refused, and nothing changes
    let e = client::patch(addr, vus(7)).await.expect_err("above maxVUs");
    assert!(e.to_string().contains("maxVUs (6)"), "{e}");
    assert_eq!(client::status(addr).await.expect("status").vus, 6);

    // k6's stop: the run ends as an interrupted run does
    let stop = StatusPatch {
        stopped: Some(true),
        ..StatusPatch::default()
    };
    client::patch(addr, stop).await.expect("stop");
    let out = tokio::time::timeout(Duration::from_secs(10), h)
        .await
        .expect("stops")
        .expect("joins");
    assert_eq!(out.exit_code, ExitCode::Interrupted);
    let s = client::status(addr).await.expect("status after the end");
    assert!(s.stopped && !s.running, "{s:?}");
    eprintln!("2 VUs {two:.1} req/s, 6 VUs {six:.1} req/s ({ratio:.2}×)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_holds_constant_vus_and_does_not_count_against_its_duration() {
    let server = demo().await;
    let yaml = "scenarios:
  s:
    executor: constant-vus
    vus: 3
    duration: 2s
    flow:
      - get: BASE/api/v1/items
";
    let (addr, _control, h, _servers) = start(yaml, &server.url()).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    client::patch(addr, paused(true)).await.expect("pause");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let held = server.requests();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.requests(), held, "requests while paused");
    // scaling is for the externally-controlled executor only, as in k6
    let e = client::patch(addr, vus(5)).await.expect_err("not scalable");
    assert!(e.to_string().contains("externally-controlled"), "{e}");
    client::patch(addr, paused(false)).await.expect("resume");
    let out = h.await.expect("joins");
    assert_eq!(out.exit_code, ExitCode::Ok);
    // 2 s of load plus about 1.65 s paused
    let took = out.results.run.duration_ms / 1000.0;
    assert!((3.4..=4.6).contains(&took), "took {took:.2}s");
    // 3 VUs × 2 s of running time at ~50 ms a request ≈ 120
    let served = server.requests();
    assert!((70..=125).contains(&served), "served {served}");
}
