//! `throng k8s render`: the manifests validate offline against the Kubernetes schema (the
//! official Python client's models, deploy/k8s/validate.py), and a field Kubernetes does not
//! know is caught. The example plan they carry runs as local segments with exact counts.
mod common;
use common::{repo, text, throng};
use std::path::PathBuf;
use std::process::Command;
use throng_demo::{DemoConfig, DemoServer};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-k8s-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// Runs the validator; `None` (with the reason printed) when the kubernetes client is absent.
fn validate(path: &std::path::Path) -> Option<std::process::Output> {
    let o = Command::new("python3")
        .arg(repo().join("deploy/k8s/validate.py"))
        .arg(path)
        .output();
    match o {
        Ok(o) if o.status.code() == Some(2) => {
            println!("skipped: {}", String::from_utf8_lossy(&o.stdout).trim());
            None
        }
        Ok(o) => Some(o),
        Err(e) => {
            println!("skipped: python3 is not available ({e})");
            None
        }
    }
}

#[test]
fn rendered_manifests_validate_against_the_kubernetes_schema() {
    let dir = tmp("render");
    let o = throng()
        .args([
            "k8s",
            "render",
            "examples/scale-out.yaml",
            "--instances",
            "8",
            "--image",
            "throng:0.1.0",
            "--namespace",
            "load",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--start-in",
            "60s",
        ])
        .output()
        .expect("throng runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let y = String::from_utf8_lossy(&o.stdout).to_string();
    for want in [
        "kind: ConfigMap",
        "users.csv: |",
        "path: data/users.csv",
        "completionMode: Indexed",
        "completions: 8",
        "parallelism: 8",
        "backoffLimitPerIndex: 1",
        "- auto/8",
        "fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']",
        "- --wait-for",
        "runAsNonRoot: true",
        "claimName: throng-scale-out-results",
    ] {
        assert!(y.contains(want), "missing `{want}` in\n{y}");
    }
    let m = dir.join("manifests.yaml");
    std::fs::write(&m, &y).expect("write");
    let Some(v) = validate(&m) else { return };
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    assert!(String::from_utf8_lossy(&v.stdout).contains("4 objects, 0 errors"));
    // the validator is strict: a misspelt field and a wrong type are errors
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        y.replace("completionMode: Indexed", "completionMod: Indexed")
            .replace("completions: 8", "completions: eight"),
    )
    .expect("write");
    let v = validate(&bad).expect("validator ran before");
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(
        out.contains("completionMod: no such field in V1JobSpec"),
        "{out}"
    );
    assert!(out.contains("completions: expected int, got str"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_refuses_bad_flags_with_104() {
    let o = throng()
        .args([
            "k8s",
            "render",
            "examples/scale-out.yaml",
            "--instances",
            "0",
        ])
        .args(["--image", "throng:0.1.0"])
        .output()
        .expect("throng runs");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--instances 0: give 1 to 100000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_out_example_runs_as_local_segments() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let url = server.url();
    let o = tokio::task::spawn_blocking(move || {
        throng()
            .args(["run", "examples/scale-out.yaml", "--local-segments", "3"])
            .args(["--base-url", &url, "--no-color"])
            .output()
            .expect("throng runs")
    })
    .await
    .expect("join");
    // 50 unique users + 20/s for 3 s: 110 requests in all, however they are split
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(server.requests(), 110);
    assert!(String::from_utf8_lossy(&o.stderr).contains("merged 3 of 3 instances"));
}
