//! Test data through whole runs: seeded fakers (one stream per VU), and data sources
//! generated at load with `pick: unique`, counted by the server.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use throng_plan::{load_str, LoadOptions};
use throng_testkit::CountingServer;

fn seeded_plan(yaml: &str, base: &str, dir: &Path, seed: u64) -> throng_plan::Plan {
    let opts = LoadOptions {
        seed: Some(seed),
        ..LoadOptions::default()
    };
    match load_str(&yaml.replace("BASE", base), &dir.join("plan.yaml"), &opts) {
        Ok(p) => p,
        Err(e) => panic!("plan does not load:\n{e}"),
    }
}

const FAKES: &str = r#"
base_url: BASE
scenarios:
  s:
    executor: per-vu-iterations
    vus: 5
    iterations: 2
    flow:
      - post: /f/{{vu}}/{{iter}}
        json: { name: "{{fake.name}}", email: "{{fake.email}}", id: "{{fake.uuid}}", n: "{{random_int(1, 1000000)}}" }
"#;

/// Body by path (`/f/VU/ITER`) of one seeded run.
async fn fake_bodies(seed: u64) -> BTreeMap<String, String> {
    let s = CountingServer::start().await;
    let out = run_plan(seeded_plan(FAKES, &s.url(), &std::env::temp_dir(), seed)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    s.seen().into_iter().map(|x| (x.path, x.body)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fakers_differ_across_vus_and_repeat_with_the_seed() {
    let a = fake_bodies(7).await;
    assert_eq!(a.len(), 10);
    let distinct: std::collections::BTreeSet<&String> = a.values().collect();
    assert_eq!(distinct.len(), 10, "every VU and iteration differs: {a:?}");
    for body in a.values() {
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert!(v["n"].is_number(), "{body}");
        assert!(
            v["email"].as_str().is_some_and(|e| e.contains('@')),
            "{body}"
        );
    }
    // the same seed gives every VU the same values, whatever order the VUs ran in
    assert_eq!(fake_bodies(7).await, a);
    assert_ne!(fake_bodies(8).await, a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_unique_source_never_repeats_a_row_under_50_vus() {
    let dir = std::env::temp_dir().join(format!("throng-unique-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("users.yaml"),
        "fields:\n  id: \"{{seq}}\"\n  name: \"{{fake.name}}\"\n",
    )
    .expect("spec");
    let p = r#"
base_url: BASE
data:
  users: { generate: users.yaml, count: 3000, pick: unique }
scenarios:
  s:
    executor: shared-iterations
    vus: 50
    iterations: 3000
    flow:
      - get: /u/{{users.id}}
"#;
    let s = CountingServer::start().await;
    let out = run_plan(seeded_plan(p, &s.url(), &dir, 3)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let by_path = s.by_path();
    assert_eq!(s.count(), 3000);
    assert_eq!(by_path.len(), 3000, "3000 distinct ids");
    assert!(by_path.values().all(|n| *n == 1));
    for i in 1..=3000 {
        assert!(by_path.contains_key(&format!("/u/{i}")), "id {i}");
    }
}
