//! `throng compare`, `throng baseline save` and `throng run --baseline --fail-if` against
//! real runs of examples/baseline.yaml on demo targets: two runs of the same plan pass the
//! gates, a run against a target with 50 ms more latency fails the p95 gate (exit 99).
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use std::process::Output;
use throng_demo::{DemoConfig, DemoServer, Latency};

fn tmp() -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-compare-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

async fn demo(latency_ms: u64) -> DemoServer {
    let cfg = DemoConfig {
        latency: Latency::Fixed(std::time::Duration::from_millis(latency_ms)),
        ..DemoConfig::default()
    };
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo")
}

async fn throng_out(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || throng().args(&args).output().expect("runs"))
        .await
        .expect("joins")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs the plan against `server`, writes `results`, checks throng's count is the server's.
async fn run(server: &DemoServer, results: &Path, extra: &[&str]) -> Output {
    let before = server.requests_for("/api/v1/ingest");
    let mut args: Vec<String> = vec![
        "run".into(),
        "examples/baseline.yaml".into(),
        "--base-url".into(),
        server.url(),
        "--no-summary".into(),
        "--results".into(),
        s(results),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let o = throng_out(args).await;
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results).expect("results")).expect("json");
    let reqs = r["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "http_reqs"))
        .and_then(|m| m["values"]["count"].as_f64())
        .expect("http_reqs");
    assert_eq!(
        reqs as u64,
        server.requests_for("/api/v1/ingest") - before,
        "throng's http_reqs is what the server counted"
    );
    o
}

const GATES: [&str; 6] = [
    "--fail-if",
    "throughput<-10%",
    "--fail-if",
    "p(95)>+50%",
    "--fail-if",
    "error_rate>+0.5pp",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_plan_passes_and_added_latency_fails_the_p95_gate() {
    let dir = tmp();
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    let fast = demo(20).await;
    for f in [&a, &b] {
        let o = run(&fast, f, &[]).await;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let slow = demo(70).await;
    let o = run(&slow, &c, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // same plan, same target: every gate passes
    let mut args = vec!["compare".to_string(), s(&a), s(&b)];
    args.extend(GATES.iter().map(|g| g.to_string()));
    let o = throng_out(args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("gates (the last run against the one before it): PASSED"),
        "{out}"
    );
    assert_eq!(out.matches("✅").count(), 3, "{out}");
    for row in ["overall", "scenario api", "name ingest"] {
        assert!(out.lines().any(|l| l == row), "{row}: {out}");
    }

    // 50 ms more latency: the p95 gate fails, the others pass; exit 99
    let (md, html, junit) = (dir.join("c.md"), dir.join("c.html"), dir.join("c.xml"));
    let mut args = vec!["compare".to_string(), s(&a), s(&c)];
    args.extend(GATES.iter().map(|g| g.to_string()));
    args.extend([
        "--md".into(),
        s(&md),
        "--html".into(),
        s(&html),
        "--junit".into(),
        s(&junit),
    ]);
    let o = throng_out(args).await;
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("❌ p(95)>+50% [overall]"), "{out}");
    assert!(out.contains("✅ throughput<-10% [overall]"), "{out}");
    let junit = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(junit.matches("<testcase ").count(), 3, "{junit}");
    assert_eq!(junit.matches("<failure ").count(), 1, "{junit}");
    assert!(junit.contains(r#"tests="3" failures="1""#), "{junit}");
    let md = std::fs::read_to_string(&md).expect("md");
    assert!(md.contains("## Gates: FAILED"), "{md}");
    assert!(md.contains("| ❌ | `p(95)>+50%` | overall |"), "{md}");
    let html = std::fs::read_to_string(&html).expect("html");
    assert!(html.contains(r#"id="latency-distribution""#));
    assert!(!html.contains("<script"), "no scripts, no CDN");

    // three runs: the version-vs-version table, no gates, exit 0
    let o = throng_out(vec!["compare".into(), s(&a), s(&b), s(&c)]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with(&format!("comparing {} → {} → {}", s(&a), s(&b), s(&c))),
        "{out}"
    );

    // a baseline kept, then a run gated on it inside `throng run`
    let kept = dir.join("baselines/api.json");
    let o = throng_out(vec![
        "baseline".into(),
        "save".into(),
        s(&a),
        "--to".into(),
        s(&kept),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read(&kept).expect("kept"),
        std::fs::read(&a).expect("a")
    );
    let mut extra = vec!["--baseline", kept.to_str().expect("utf-8")];
    extra.extend(GATES);
    let o = run(&slow, &dir.join("d.json"), &extra).await;
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("❌ p(95)>+50%"),
        "{}",
        text(&o)
    );
    let o = run(&fast, &dir.join("e.json"), &extra).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // a results file of another schema version is refused, naming the file and version
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&a).expect("a")).expect("json");
    v["version"] = serde_json::json!(2);
    let old = dir.join("v2.json");
    std::fs::write(&old, serde_json::to_vec(&v).expect("encode")).expect("write");
    let o = throng_out(vec!["compare".into(), s(&old), s(&b)]).await;
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}: unsupported results version 2", s(&old))),
        "{err}"
    );
    let o = throng_out(vec![
        "baseline".into(),
        "save".into(),
        s(&old),
        "--to".into(),
        s(&dir.join("x.json")),
    ])
    .await;
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    // a bad gate is a flag error
    let o = throng_out(vec![
        "compare".into(),
        s(&a),
        s(&b),
        "--fail-if".into(),
        "latency>1%".into(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unknown figure `latency`"),
        "{}",
        text(&o)
    );
    fast.stop().await;
    slow.stop().await;
}
