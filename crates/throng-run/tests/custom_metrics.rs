//! Custom metrics (`metrics:` + `add:`), `expected_statuses` and several checks on one
//! field, against the demo's rate limiter (whose 429s are the expected behaviour).
mod common;
use common::*;
use throng_demo::{DemoConfig, DemoServer, RateLimit};
use tokio_util::sync::CancellationToken;

async fn limited_demo() -> DemoServer {
    let cfg = DemoConfig {
        // 5 requests a second with no burst: most of a quick loop is turned away
        rate_limit: Some(RateLimit {
            per_second: 5.0,
            burst: 1.0,
        }),
        ..DemoConfig::default()
    };
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo")
}

const PLAN: &str = r#"
base_url: BASE
metrics:
  accepted: counter
  limited: rate
  last_status: gauge
  ingest_time: { type: trend, time: true }
expected_statuses: [200..299, 429]
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 25
    flow:
      - post: /api/v1/ingest
        name: ingest
        headers: { X-API-KEY: test-api-key }
        json: { n: "{{iter}}" }
        checks:
          - { status: [200, 429], name: "status is 200 or 429" }
          - { status: 429 }
        extract: { id: { json: "$.id" } }
        add:
          accepted: "{{id}}"
          limited: "{{ status == 429 }}"
          last_status: "{{status}}"
          ingest_time: "{{duration}}"
      - get: /api/v1/items/1
        name: unauthorized
        expected_statuses: [401]
thresholds:
  http_req_failed: ["rate==0"]
  accepted: ["count>0"]
  ingest_time: ["p(95)<1000"]
  last_status: ["value>=200"]
  limited: ["rate>0.2"]
  "checks{check:status is 200 or 429}": ["rate==1"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_metrics_and_expected_statuses_reach_every_output() {
    let server = limited_demo().await;
    let dir = std::env::temp_dir().join(format!("throng-custom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let files = throng_run::ReportFiles {
        summary_export: Some(dir.join("export.json")),
        results: Some(dir.join("results.json")),
        html: Some(dir.join("report.html")),
        markdown: Some(dir.join("report.md")),
        ndjson: Some(dir.join("samples.ndjson")),
        ..Default::default()
    };
    let out = run_with_files(plan(PLAN, &server.url()), CancellationToken::new(), files).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let limited = server.responses_with_status(429);
    let ok = server.responses_with_status(200);
    assert!(limited > 10 && ok > 0, "{ok} ok, {limited} limited");
    assert_eq!(ok + limited, 50);
    assert_eq!(server.responses_with_status(401), 50);
    // 429 and the step's 401 are expected: nothing failed, and the tag says so
    assert_eq!(count(&out, "http_reqs"), server.requests());
    assert_eq!(out.results.value("http_req_failed", "rate"), Some(0.0));
    let export: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("export.json")).expect("export"))
            .expect("json");
    let m = &export["metrics"];
    assert!(
        m["http_req_duration{expected_response:true}"]["count"].as_f64() == Some(100.0)
            || m["http_req_duration{expected_response:true}"]["p(95)"].is_number(),
        "{m}"
    );
    // two checks on one field: every response passes the first, only the 429s the second
    let check = |name: &str| {
        out.results
            .checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| (c.passes, c.fails))
    };
    assert_eq!(check("status is 200 or 429"), Some((50, 0)));
    assert_eq!(check("status is 429"), Some((limited, ok)));
    // the four kinds, with exact figures
    assert_eq!(
        out.results.value("accepted", "count"),
        Some(
            // ids are 1..=ok, summed
            (ok * (ok + 1) / 2) as f64
        )
    );
    assert_eq!(
        out.results.value("limited", "rate"),
        Some(limited as f64 / 50.0)
    );
    assert_eq!(
        out.results.value("ingest_time", "count").map(|c| c as u64),
        Some(50)
    );
    let last = out.results.value("last_status", "value").unwrap_or(0.0);
    assert!(last == 200.0 || last == 429.0, "{last}");
    for name in ["accepted", "limited", "last_status", "ingest_time"] {
        assert!(m[name].is_object(), "export lacks {name}: {m}");
        assert!(out.summary.contains(name), "summary lacks {name}");
        let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
        assert!(md.contains(name), "markdown lacks {name}");
        let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
        assert!(html.contains(name), "html lacks {name}");
        let nd = std::fs::read_to_string(dir.join("samples.ndjson")).expect("ndjson");
        assert!(
            nd.contains(&format!(r#""metric":"{name}""#)),
            "ndjson lacks {name}"
        );
    }
    // 429s by scenario and request, though the plan counts them as expected
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(
        md.contains(&format!("| s | POST | ingest | {limited} |")),
        "{md}"
    );
    // one Point per request, from the first one on
    let nd = std::fs::read_to_string(dir.join("samples.ndjson")).expect("ndjson");
    let points = nd
        .lines()
        .filter(|l| l.contains(r#""type":"Point""#) && l.contains(r#""metric":"http_reqs""#))
        .count() as u64;
    assert_eq!(points, server.requests());
    assert!(out.results.thresholds_ok(), "{}", out.summary);
}

#[test]
fn bad_metric_declarations_and_statuses_are_plan_errors() {
    let bad = r#"
metrics:
  http_reqs: counter
  "9lives": rate
  odd: histogram
expected_statuses: [200..199, 700]
scenarios:
  s:
    executor: shared-iterations
    flow:
      - get: http://127.0.0.1:1/
        add: { nope: "1" }
        checks: [ { status: [200, 201], body_contains: x, name: two } ]
"#;
    let errs = throng_plan::load_str(bad, std::path::Path::new("bad.yaml"), &Default::default())
        .expect_err("errors")
        .to_string();
    for want in [
        "bad.yaml:3:3: metrics: `http_reqs` is a built-in metric",
        "`9lives` is not a metric name",
        "has type `histogram`: expected counter, gauge, rate or trend",
        "bad.yaml:6:21: expected_statuses: expected a status (100-599) or a range",
        "bad.yaml:6:31: expected_statuses",
        "add: no metric `nope` is declared",
        "name: names one check, but this mapping holds several",
    ] {
        assert!(errs.contains(want), "missing `{want}` in:\n{errs}");
    }
}
