//! `throng suite` from the command line: examples/suite/suite.yaml (three plans, one
//! failing, a command, a short find-limit) writes every step's reports and the combined
//! index.html and report.md, and exits 99; a suite with errors names file:line:col.
mod common;
use common::{text, throng};
use std::process::Output;
use throng_demo::{DemoConfig, DemoServer};

async fn throng_out(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || throng().args(&args).output().expect("runs"))
        .await
        .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_with_a_failing_plan_writes_the_combined_report_and_exits_99() {
    let server = DemoServer::start(
        ([127, 0, 0, 1], 0).into(),
        DemoConfig {
            capacity: Some("400/s".parse().expect("capacity")),
            ..DemoConfig::default()
        },
    )
    .await
    .expect("demo");
    let out = std::env::temp_dir().join(format!("throng-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = throng_out(vec![
        "suite".into(),
        "examples/suite/suite.yaml".into(),
        "--out-dir".into(),
        out.display().to_string(),
        "--base-url".into(),
        server.url(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("suite demo-suite: FAILED"),
        "{}",
        text(&o)
    );
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    for row in [
        "| 1 | ../baseline.yaml | plan | ✅ passed | 150 requests",
        "| 2 | ../impossible-threshold.yaml | plan | ❌ failed | 10 requests",
        "| 3 | sh -c echo resetting between plans | exec | ✅ passed | exit status 0",
        "| 4 | baseline again | plan | ✅ passed | 150 requests",
        "| 5 | find-limit ../capacity.yaml | find_limit | ✅ passed | max sustainable load: 100 it/s",
    ] {
        assert!(md.contains(row), "{row}\n{md}");
    }
    assert!(md.contains("(exit code 99)"), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert_eq!(html.matches(r#"<tr class="step">"#).count(), 5);
    assert!(
        html.contains(r#"<a href="01-baseline/report.html">"#),
        "{html}"
    );
    for f in [
        "01-baseline/results.json",
        "01-baseline/report.html",
        "02-impossible-threshold/junit.xml",
        "03-sh--c-echo-resetting-between-plans/output.txt",
        "04-baseline-again/report.md",
        "05-capacity/limit.json",
        "05-capacity/report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing: {}", text(&o));
    }
    assert_eq!(
        std::fs::read_to_string(out.join("03-sh--c-echo-resetting-between-plans/output.txt"))
            .expect("output"),
        "resetting between plans\n"
    );
    // every request throng counted is one the server saw
    let mut counted = 0u64;
    for f in [
        "01-baseline",
        "02-impossible-threshold",
        "04-baseline-again",
    ] {
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join(f).join("results.json")).expect("results"),
        )
        .expect("json");
        counted += r["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == "http_reqs"))
            .and_then(|m| m["values"]["count"].as_f64())
            .expect("http_reqs") as u64;
    }
    let limit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("05-capacity/limit.json")).expect("limit"))
            .expect("json");
    counted += limit["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(|l| l["requests"].as_u64())
        .sum::<u64>();
    assert_eq!(counted, server.requests());
    server.stop().await;
}

#[test]
fn suite_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("throng-suite-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\ncooldown: 5x\nsteps:\n  - plan: missing.yaml\n  - exec: []\n  - { plan: a.yaml, exec: [\"true\"] }\n",
    )
    .expect("write");
    let o = throng().arg("suite").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let f = bad.display().to_string();
    for at in [":2:11:", ":4:11:", ":5:11:", ":6:5:"] {
        assert!(err.contains(&format!("{f}{at}")), "{at}: {err}");
    }
    assert!(err.contains("unknown duration unit `x`"), "{err}");
    assert!(err.contains("plan `missing.yaml` not found"), "{err}");
    assert!(
        err.contains("a step is one of `plan:`, `exec:` or `find_limit:`"),
        "{err}"
    );
    std::fs::write(&bad, "name: bad\nsteps:\n  - plan: x.yaml\n    wat: 1\n").expect("write");
    let o = throng().arg("suite").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{f}:4:")) && err.contains("wat"),
        "{err}"
    );
}
