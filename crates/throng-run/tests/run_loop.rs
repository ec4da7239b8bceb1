//! The run loop stays on time whatever its outputs do.
mod common;
use common::*;
use std::time::Duration;
use throng_testkit::{CountingServer, RawConn, RawServer};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_remote_write_receiver_does_not_delay_the_run_loop() {
    let target = CountingServer::start().await;
    // a receiver that takes 3 s to answer each push
    let receiver = RawServer::start(|mut c: RawConn| async move {
        while c.read_request().await.is_some() {
            tokio::time::sleep(Duration::from_secs(3)).await;
            c.respond(204, "").await;
        }
    })
    .await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n    duration: 4s\n    flow:\n      - get: /\n      - sleep: 100ms\n";
    let files = throng_run::ReportFiles {
        remote_write: Some(format!("{}/api/v1/write", receiver.url())),
        ..Default::default()
    };
    let out = run_with_files(plan(p, &target.url()), CancellationToken::new(), files).await;
    assert_eq!(out.exit_code.code(), 0, "{:?}", out.write_errors);
    assert!(out.write_errors.is_empty(), "{:?}", out.write_errors);
    // one timeline point a second while the load ran: the loop never waited for a push
    let during = out.results.timeline.iter().filter(|p| p.t < 4.5).count();
    assert!(during >= 4, "{:?}", out.results.timeline);
    // and the pushes still happened: one while running and the final one
    assert!(receiver.requests() >= 2, "{}", receiver.requests());
    assert_eq!(count(&out, "http_reqs"), target.count());
}
