//! `--http-debug[=full]` prints every request and response, secrets redacted.
mod common;
use common::{text, throng};
use throng_demo::{DemoConfig, DemoServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_debug_prints_each_exchange_without_secrets() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let url = format!("{}/api/v1/ingest?token=qs-secret-1", server.url());
    for (flag, body_shown) in [("--http-debug", false), ("--http-debug=full", true)] {
        let mut c = throng();
        c.args([
            "quick",
            &url,
            "-n",
            "2",
            "-c",
            "1",
            "-m",
            "POST",
            "--no-color",
        ])
        .args([
            "-H",
            "X-API-KEY: test-api-key",
            "-H",
            "Authorization: Bearer hdr-secret-2",
        ])
        .args(["-d", r#"{"event":"debug-me"}"#, flag]);
        let o = tokio::task::spawn_blocking(move || c.output().expect("runs"))
            .await
            .expect("join");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.matches("Request:\nPOST ").count(), 2, "{}", text(&o));
        assert_eq!(err.matches("\nResponse:\nHTTP/1.1 200").count(), 2, "{err}");
        for secret in ["qs-secret-1", "hdr-secret-2", "test-api-key"] {
            assert!(!err.contains(secret), "{secret} leaked with {flag}:\n{err}");
        }
        assert!(err.contains("content-type: application/json"), "{err}");
        assert_eq!(err.contains("debug-me"), body_shown, "{flag}:\n{err}");
        assert_eq!(err.contains(r#""status":"accepted""#), body_shown, "{flag}");
    }
    assert_eq!(server.requests_for("/api/v1/ingest"), 4);
    server.stop().await;
}
