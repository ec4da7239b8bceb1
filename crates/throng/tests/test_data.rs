//! `throng fixtures` end to end: 10,000 users whose tokens the demo's verifying endpoint
//! accepts, byte-identical files per seed, bad input with file:line:col, and signing keys
//! kept out of every output.
mod common;
use common::{repo, text, throng};
use std::path::{Path, PathBuf};
use throng_demo::{DemoConfig, DemoServer};

const SECRET: &str = "fixture-test-signing-key";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-data-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn fixtures(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    throng()
        .arg("fixtures")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_users_with_tokens_the_demo_accepts() {
    let dir = tmp("10k");
    let users = dir.join("users.json");
    let spec = repo().join("examples/fixtures/users.yaml");
    let env = format!("JWT_SECRET={SECRET}");
    let o = fixtures(
        &spec,
        &users,
        &["--count", "10000", "-e", &env, "--seed", "42"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 10000 rows"));
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&users).expect("users.json")).expect("JSON");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 10_000);
    assert_eq!(rows[9_999]["id"], 10_000);
    assert!(rows[0]["address"]["city"].is_string());

    let server = DemoServer::start(
        ([127, 0, 0, 1], 0).into(),
        DemoConfig {
            jwt_secret: SECRET.into(),
            ..DemoConfig::default()
        },
    )
    .await
    .expect("demo");
    let plan = dir.join("verify.yaml");
    std::fs::write(
        &plan,
        format!(
            "base_url: {}\ndata:\n  users: {{ file: users.json, pick: unique }}\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 50\n    iterations: 10000\n    flow:\n      - get: /api/v1/verify\n        headers: {{ Authorization: \"Bearer {{{{users.token}}}}\" }}\n        check: {{ status: 200, json: {{ \"$.valid\": true }} }}\nthresholds:\n  checks: [\"rate==1\"]\n",
            server.url()
        ),
    )
    .expect("plan");
    let export = dir.join("summary.json");
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .arg("run")
            .arg(&plan)
            .args(["--quiet", "--no-color", "--summary-export"])
            .arg(&export)
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.requests_for("/api/v1/verify"), 10_000);
    assert_eq!(server.responses_with_status(200), 10_000);
    assert_eq!(server.responses_with_status(401), 0);
    // another secret: every token is refused
    let wrong = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let client_tok = rows[0]["token"].as_str().expect("token").to_string();
    let url = format!("{}/api/v1/verify", wrong.url());
    let o = throng()
        .args([
            "quick",
            &url,
            "-n",
            "1",
            "-c",
            "1",
            "--quiet",
            "--no-summary",
        ])
        .args(["-H", &format!("Authorization: Bearer {client_tok}")])
        .output()
        .expect("runs");
    assert!(o.status.code().is_some(), "{}", text(&o));
    assert_eq!(wrong.responses_with_status(401), 1);
    server.stop().await;
    wrong.stop().await;
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_other_bytes() {
    let dir = tmp("seed");
    let spec = repo().join("examples/fixtures/users.yaml");
    let env = format!("JWT_SECRET={SECRET}");
    let now = "2026-01-01T00:00:00Z";
    let mut files = Vec::new();
    for (name, seed, format) in [
        ("a.json", "42", "json"),
        ("b.json", "42", "json"),
        ("c.json", "43", "json"),
        ("a.csv", "42", "csv"),
        ("b.csv", "42", "csv"),
        ("a.ndjson", "42", "ndjson"),
    ] {
        let out = dir.join(name);
        let o = fixtures(
            &spec,
            &out,
            &[
                "--count", "2000", "-e", &env, "--seed", seed, "--now", now, "--format", format,
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        files.push(std::fs::read(&out).expect("written"));
    }
    assert_eq!(files[0], files[1], "same seed, same bytes");
    assert_ne!(files[0], files[2], "another seed");
    assert_eq!(files[3], files[4]);
    let first_csv_row = String::from_utf8_lossy(&files[3])
        .lines()
        .nth(1)
        .map(str::to_string);
    let first_ndjson: serde_json::Value =
        serde_json::from_slice(files[5].split(|b| *b == b'\n').next().expect("line"))
            .expect("json line");
    assert!(first_csv_row
        .expect("row")
        .contains(first_ndjson["token"].as_str().expect("token")));
}

#[test]
fn bad_input_is_an_error_with_file_line_and_column() {
    let dir = tmp("bad");
    std::fs::write(
        dir.join("not-a-key.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .expect("pem");
    let cases = [
        (
            "unknown.yaml",
            "fields:\n  id: \"{{seq}}\"\n  x: \"{{frobnicate(1)}}\"\n",
            vec![],
            "unknown.yaml:3:7: unknown function `frobnicate`",
        ),
        (
            "secret.yaml",
            "fields:\n  t: \"{{jwt_hs256(env.JWT_SECRET, {sub: seq})}}\"\n",
            vec![],
            "secret.yaml:2:7: environment value `JWT_SECRET` is not set",
        ),
        (
            "pem.yaml",
            "fields:\n  t: \"{{jwt_rs256('not-a-key.pem', {sub: seq})}}\"\n",
            vec![],
            "pem.yaml:2:7: jwt_rs256: not-a-key.pem is not an RSA private key",
        ),
        (
            "json.yaml",
            "fields:\n  id: \"{{seq}}\"\n  meta: \"{{ env.META | json }}\"\n",
            vec!["-e", "META={\"a\": "],
            "json.yaml:3:10: `{\"a\": ` is not valid JSON",
        ),
        (
            "row.yaml",
            "fields:\n  id: \"{{seq}}\"\n  meta: \"{{ random_choice('[1]', '[1') | json }}\"\n",
            vec![],
            "row.yaml:3:9: row ",
        ),
    ];
    for (file, spec, extra, want) in cases {
        let p = dir.join(file);
        std::fs::write(&p, spec).expect("spec");
        let out = dir.join(format!("{file}.json"));
        let mut args = vec!["--count", "50", "--seed", "1"];
        args.extend(extra);
        let o = fixtures(&p, &out, &args);
        assert_eq!(o.status.code(), Some(104), "{file}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{file}: {err}");
        assert!(!out.exists(), "{file}: no partial file is left");
    }
    let o = fixtures(
        &dir.join("missing.yaml"),
        &dir.join("x.json"),
        &["--count", "1"],
    );
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let o = fixtures(
        &dir.join("row.yaml"),
        &dir.join("x.json"),
        &["--count", "1", "--format", "xml"],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expected json, csv or ndjson"),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_from_env_is_redacted_in_every_output() {
    let dir = tmp("redact");
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    // the name does not look secret: its use as a key makes it so
    let key = "k7-plain-named-value";
    let plan = dir.join("sign.yaml");
    std::fs::write(
        &plan,
        format!(
            "base_url: {}\nscenarios:\n  s:\n    executor: shared-iterations\n    iterations: 3\n    flow:\n      - get: /health\n        headers: {{ X-Sig: \"{{{{hmac_sha256(env.SIGNING, 'body')}}}}\", X-Jwt: \"{{{{jwt_hs256(env.SIGNING, {{sub: vu}})}}}}\" }}\n",
            server.url()
        ),
    )
    .expect("plan");
    let results = dir.join("results.json");
    let md = dir.join("report.md");
    let env = format!("SIGNING={key}");
    let out = tokio::task::spawn_blocking({
        let (plan, results, md) = (plan.clone(), results.clone(), md.clone());
        move || {
            throng()
                .arg("run")
                .arg(&plan)
                .args(["-e", &env, "--no-color", "--results"])
                .arg(&results)
                .arg("--md")
                .arg(&md)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut seen = text(&out);
    seen.push_str(&std::fs::read_to_string(&results).expect("results"));
    seen.push_str(&std::fs::read_to_string(&md).expect("md"));
    assert!(
        seen.contains("SIGNING=***"),
        "the command line is kept, redacted"
    );
    assert!(!seen.contains(key), "the key leaked:\n{seen}");
    server.stop().await;
}
