//! k6 scripts run by `throng run script.js` against the counting server: the server's
//! count equals `http_reqs`, checks, custom metrics, thresholds and exit codes are exact,
//! and (where k6 is installed) k6's summary export of the same script agrees on every
//! count.
mod common;
use common::{k6, text, throng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use throng_testkit::CountingServer;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-js-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// Runs `script` with `BASE` set to `base`; returns the output and the summary export.
async fn run(name: &str, script: &str, base: &str, extra: &[&str]) -> (Output, Option<Value>) {
    let d = dir(name);
    let js = d.join(format!("{name}.js"));
    std::fs::write(&js, script).expect("script");
    let export = d.join("export.json");
    let _ = std::fs::remove_file(&export);
    let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let base = base.to_string();
    let e = export.clone();
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .arg("run")
            .arg(&js)
            .args(["-e", &format!("BASE={base}"), "--quiet", "--no-summary"])
            .arg("--summary-export")
            .arg(&e)
            .args(&args)
            .output()
            .expect("throng runs")
    })
    .await
    .expect("join");
    (out, read(&export))
}

fn read(p: &Path) -> Option<Value> {
    let t = std::fs::read_to_string(p).ok()?;
    serde_json::from_str(&t).ok()
}

fn count(export: &Value, metric: &str, field: &str) -> f64 {
    export["metrics"][metric][field]
        .as_f64()
        .unwrap_or_else(|| panic!("{metric}.{field} in {export}"))
}

/// The same script in real k6: its summary export.
async fn k6_export(name: &str, script: &str, base: &str) -> Option<(Output, Value)> {
    let k6 = k6()?;
    let d = dir(&format!("k6-{name}"));
    std::fs::write(d.join("t.js"), script).expect("script");
    let base = base.to_string();
    let dd = d.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(k6)
            .current_dir(&dd)
            .args(["run", "-q", "--no-usage-report", "t.js"])
            .args(["-e", &format!("BASE={base}")])
            .args(["--summary-export", "export.json"])
            .output()
            .expect("k6 runs")
    })
    .await
    .expect("join");
    let v = read(&d.join("export.json")).unwrap_or_else(|| panic!("k6 export: {}", text(&out)));
    Some((out, v))
}

const SETUP_DATA: &str = r#"
import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const got = new Counter('got_n');
const sizes = new Trend('sizes');

export const options = {
  scenarios: { main: { executor: 'shared-iterations', vus: 3, iterations: 12 } },
  thresholds: { got_n: ['count==36'], checks: ['rate==1'] },
};

export function setup() {
  const r = http.get(`${__ENV.BASE}/json`);
  return { n: r.json('items.0.id') === 42 ? 3 : 0, first: r.json('items.1.id') };
}

export default function (data) {
  group('visit', () => {
    const r = http.get(`${__ENV.BASE}/visit/${data.n}`, { tags: { name: 'visit' } });
    check(r, { 'status is 200': (x) => x.status === 200, 'has timings': (x) => x.timings.duration >= 0 });
  });
  got.add(data.n);
  sizes.add(data.first);
}

export function teardown(data) {
  http.get(`${__ENV.BASE}/teardown/${data.n}/${data.first}`);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_data_reaches_every_vu_and_teardown() {
    let server = CountingServer::start().await;
    let (out, export) = run("setup", SETUP_DATA, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("summary export");
    let paths = server.by_path();
    assert_eq!(paths.get("/json"), Some(&1), "{paths:?}");
    assert_eq!(paths.get("/visit/3"), Some(&12), "{paths:?}");
    assert_eq!(paths.get("/teardown/3/7"), Some(&1), "{paths:?}");
    assert_eq!(server.count(), 14);
    assert_eq!(count(&e, "http_reqs", "count"), 14.0);
    assert_eq!(count(&e, "iterations", "count"), 12.0);
    assert_eq!(count(&e, "checks", "passes"), 24.0);
    assert_eq!(count(&e, "checks", "fails"), 0.0);
    assert_eq!(count(&e, "got_n", "count"), 36.0);
    assert_eq!(count(&e, "sizes", "avg"), 7.0);
    if let Some((k, ke)) = k6_export("setup", SETUP_DATA, &server.url()).await {
        assert_eq!(k.status.code(), Some(0), "k6: {}", text(&k));
        for (m, f) in [
            ("http_reqs", "count"),
            ("iterations", "count"),
            ("checks", "passes"),
            ("checks", "fails"),
            ("got_n", "count"),
            ("sizes", "avg"),
        ] {
            assert_eq!(count(&ke, m, f), count(&e, m, f), "{m}.{f}");
        }
    }
}

const RAMPING: &str = r#"
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Rate } from 'k6/metrics';

export const errors = new Rate('errors');

export const options = {
  stages: [ { duration: '1s', target: 4 }, { duration: '1s', target: 4 }, { duration: '500ms', target: 0 } ],
  thresholds: { http_req_failed: ['rate<0.01'], errors: ['rate<0.01'], http_req_duration: ['p(95)<2000'] },
};

export default function () {
  const payload = JSON.stringify({ vu: __VU, iter: __ITER, at: new Date().toISOString() });
  const r = http.post(`${__ENV.BASE}/echo`, payload, { headers: { 'Content-Type': 'application/json' } });
  const ok = check(r, {
    'status is 200': (x) => x.status === 200,
    'echoed': (x) => x.json('body').includes('"vu":' + __VU),
  });
  errors.add(!ok);
  sleep(0.05);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_stages_post_json_and_a_custom_rate() {
    let server = CountingServer::start().await;
    let (out, export) = run("ramping", RAMPING, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("summary export");
    let n = count(&e, "http_reqs", "count");
    assert!(n > 10.0, "{e}");
    assert_eq!(server.count() as f64, n);
    assert_eq!(count(&e, "iterations", "count"), n);
    assert_eq!(count(&e, "checks", "passes"), 2.0 * n);
    assert_eq!(count(&e, "errors", "passes"), 0.0);
    assert_eq!(count(&e, "errors", "fails"), n);
    let seen = server.seen();
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert!(s.body.starts_with("{\"vu\":"), "{s:?}");
        assert!(
            s.headers
                .iter()
                .any(|(k, v)| k == "content-type" && v == "application/json"),
            "{s:?}"
        );
    }
}

const FAILING: &str = r#"
import http from 'k6/http';
import { check, group } from 'k6';

export const options = {
  vus: 2,
  iterations: 6,
  thresholds: { checks: ['rate>0.9'], 'http_req_duration{name:bad}': ['p(99)<10000'] },
};

export default function () {
  group('pages', function () {
    const a = http.get(`${__ENV.BASE}/ok`);
    check(a, { 'ok is 200': (r) => r.status === 200 });
    const b = http.get(`${__ENV.BASE}/status/503`, { tags: { name: 'bad' } });
    check(b, { 'bad is 200': (r) => r.status === 200 });
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_checks_and_failing_thresholds_exit_99() {
    let server = CountingServer::start().await;
    let (out, export) = run("failing", FAILING, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(99), "{}", text(&out));
    let e = export.expect("summary export");
    assert_eq!(server.count(), 12);
    assert_eq!(count(&e, "http_reqs", "count"), 12.0);
    assert_eq!(count(&e, "checks", "passes"), 6.0);
    assert_eq!(count(&e, "checks", "fails"), 6.0);
    assert_eq!(count(&e, "http_req_failed", "passes"), 6.0);
    assert!(
        e["metrics"]["checks"]["thresholds"]["rate>0.9"].is_boolean(),
        "{e}"
    );
    if let Some((k, ke)) = k6_export("failing", FAILING, &server.url()).await {
        assert_eq!(k.status.code(), Some(99), "k6: {}", text(&k));
        for (m, f) in [
            ("http_reqs", "count"),
            ("iterations", "count"),
            ("checks", "passes"),
            ("checks", "fails"),
            ("http_req_failed", "passes"),
        ] {
            assert_eq!(count(&ke, m, f), count(&e, m, f), "{m}.{f}");
        }
        assert_eq!(
            ke["metrics"]["checks"]["thresholds"],
            e["metrics"]["checks"]["thresholds"]
        );
    }
}

const THROWS: &str = r#"
import http from 'k6/http';
export const options = { iterations: 4 };
export default function () {
  http.get(`${__ENV.BASE}/x`);
  if (__ITER % 2 === 1) {
    throw new Error('boom ' + __ITER);
  }
  http.get(`${__ENV.BASE}/y`);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_is_an_iteration_error_and_the_run_goes_on() {
    let server = CountingServer::start().await;
    let (out, export) = run("throws", THROWS, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("summary export");
    assert_eq!(server.count(), 6);
    assert_eq!(count(&e, "http_reqs", "count"), 6.0);
    assert_eq!(count(&e, "iterations", "count"), 4.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Error: boom 1"), "{err}");
    assert!(err.contains("throws.js:7:"), "the JS stack: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scripts_fail_at_load_naming_the_place() {
    let cases = [
        (
            "syntax",
            "import http from 'k6/http';\nexport default function () {\n  let x = (1 + ;\n}\n",
            "syntax.js:3:11: SyntaxError",
        ),
        (
            "module",
            "import ws from 'k6/ws';\nexport default function () {}\n",
            "could not load module 'k6/ws'",
        ),
        (
            "export",
            "import { batchy } from 'k6/http';\nexport default function () {}\n",
            "Could not find export 'batchy' in module 'k6/http'",
        ),
        (
            "local",
            "import lib from './missing.js';\nexport default function () {}\n",
            "local.js:1:17: cannot import \"./missing.js\"",
        ),
        (
            "option",
            "export const options = { vus: 1, hosts: {} };\nexport default function () {}\n",
            "option `hosts` is not supported",
        ),
        (
            "exec",
            "export const options = { scenarios: { a: { executor: 'per-vu-iterations', exec: 'nope' } } };\nexport default function () {}\n",
            "runs `nope`, which the script does not export",
        ),
    ];
    for (name, script, want) in cases {
        let (out, export) = run(name, script, "http://127.0.0.1:9", &[]).await;
        assert_eq!(out.status.code(), Some(107), "{name}: {}", text(&out));
        assert!(export.is_none(), "{name}: no run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_script_runs_against_the_demo_target() {
    let mut ran = 0;
    for entry in std::fs::read_dir(common::repo().join("examples")).expect("examples") {
        let p = entry.expect("entry").path();
        if p.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let server = throng_demo::DemoServer::start(
            ([127, 0, 0, 1], 0).into(),
            throng_demo::DemoConfig::default(),
        )
        .await
        .expect("demo");
        let d = dir("examples");
        let export = d.join(format!(
            "{}.json",
            p.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
        ));
        let (pp, e, base) = (p.clone(), export.clone(), server.url());
        let out = tokio::task::spawn_blocking(move || {
            throng()
                .arg("run")
                .arg(&pp)
                .args(["-e", &format!("BASE={base}"), "--quiet", "--no-summary"])
                .arg("--summary-export")
                .arg(&e)
                .output()
                .expect("throng runs")
        })
        .await
        .expect("join");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            p.display(),
            text(&out)
        );
        let e = read(&export).expect("export");
        assert_eq!(
            server.requests() as f64,
            count(&e, "http_reqs", "count"),
            "{}",
            p.display()
        );
        ran += 1;
    }
    assert!(ran >= 2);
}

const MODULES: &str = r#"
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
const users = new SharedArray('users', () => JSON.parse(open('./users.json')));
export const options = {
  scenarios: { only: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } },
  thresholds: { checks: ['rate==1'] },
};
export default function () {
  check(null, {
    'shared array': () => users.length === 3 && users[2] === 'c' && Object.isFrozen(users),
    'b64 round trip': () => encoding.b64decode(encoding.b64encode('héllo?>'), 'std', 's') === 'héllo?>',
    'b64 url': () => encoding.b64encode('héllo?>', 'rawurl') === 'aMOpbGxvPz4',
    'execution': () => exec.scenario.name === 'only' && exec.vu.idInTest === __VU && exec.vu.iterationInScenario === __ITER,
    'env': () => __ENV.BASE.startsWith('http://'),
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_encoding_and_execution_modules() {
    let d = dir("modules");
    std::fs::write(d.join("users.json"), r#"["a","b","c"]"#).expect("data");
    let (out, export) = run("modules", MODULES, "http://127.0.0.1:9", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "checks", "passes"), 30.0);
    assert_eq!(count(&e, "iterations", "count"), 6.0);
}

const ABORTS: &str = r#"
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
export const options = { vus: 2, duration: '60s' };
export default function () {
  http.get(`${__ENV.BASE}/x`);
  if (__VU === 1 && __ITER === 2) {
    exec.test.abort('enough');
  }
  sleep(0.05);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_abort_stops_the_run_with_108() {
    let server = CountingServer::start().await;
    let t0 = std::time::Instant::now();
    let (out, export) = run("aborts", ABORTS, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(108), "{}", text(&out));
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(30),
        "stopped early"
    );
    let e = export.expect("export");
    // the abort stops the load at once: the other VU's request in flight then may reach
    // the server without a response to record (as in k6)
    let n = count(&e, "http_reqs", "count");
    let seen = server.count() as f64;
    assert!(seen == n || seen == n + 1.0, "server {seen}, http_reqs {n}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("test.abort(): enough"), "{err}");
}

const BUSY: &str = r#"
import http from 'k6/http';
export const options = {
  scenarios: { s: { executor: 'constant-vus', vus: 2, duration: '1s', gracefulStop: '0s' } },
};
export default function () {
  http.get(`${__ENV.BASE}/x`);
  while (true) {}
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_javascript_is_stopped_at_the_end_of_the_run() {
    let server = CountingServer::start().await;
    let (out, export) = run("busy", BUSY, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(server.count(), 2);
    assert_eq!(count(&e, "http_reqs", "count"), 2.0);
}

const SLEEPERS: &str = r#"
import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 1000, iterations: 2, maxDuration: '60s' } },
};
export default function () {
  http.get(`${__ENV.BASE}/s/${__VU % 7}`);
  sleep(0.2);
}
"#;

/// 1,000 VUs each sleeping between requests: every request reaches the server and is
/// counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sleeping_vus_each_run_their_iterations() {
    let server = CountingServer::start().await;
    let (out, export) = run("sleepers", SLEEPERS, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(server.count(), 2000);
    assert_eq!(count(&e, "http_reqs", "count"), 2000.0);
    assert_eq!(count(&e, "iterations", "count"), 2000.0);
}

const DEEP: &str = r#"
import http from 'k6/http';
function down(n) { return n === 0 ? 0 : 1 + down(n - 1); }
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 3, iterations: 6 } } };
export default function () {
  http.get(`${__ENV.BASE}/before`);
  down(1e7);
  http.get(`${__ENV.BASE}/after`);
}
"#;

/// Endless recursion (on VUs sharing a runtime, after a request moved them between
/// stacks) is a JavaScript RangeError ending the iteration, never a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_range_error_not_a_crash() {
    let server = CountingServer::start().await;
    let (out, export) = run("deep", DEEP, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(server.count(), 6);
    assert_eq!(count(&e, "http_reqs", "count"), 6.0);
    assert_eq!(count(&e, "iterations", "count"), 6.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("RangeError: Maximum call stack size exceeded"),
        "{err}"
    );
}

#[test]
fn validate_reads_a_script_as_run_does() {
    let p = common::repo().join("examples/k6-scenarios.js");
    let o = throng().arg("validate").arg(&p).output().expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ok — 2 scenarios, 2 thresholds"), "{out}");
    let d = dir("validate");
    let bad = d.join("bad.js");
    std::fs::write(&bad, "export default function () {\n  let x = (1 + ;\n}\n").expect("write");
    let o = throng().arg("validate").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(107), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.js:2:11: SyntaxError"));
}

const STOPPED: &str = r#"
import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  scenarios: { s: { executor: 'constant-vus', vus: 40, duration: '1s', gracefulStop: '0s' } },
};
function nap(n) { if (n === 0) { sleep(30); return 0; } return nap(n - 1) + 1; }
export default function () {
  http.get(`${__ENV.BASE}/s`);
  nap(__VU % 9);
}
"#;

/// A hard stop (gracefulStop 0s) interrupts 40 VUs sleeping at different call depths: each
/// sleep throws inside its native as its VU resumes, building a stack trace, and the run
/// ends normally. VUs taking turns on one QuickJS runtime once linked their call frames
/// into each other's, and this segfaulted in QuickJS's `build_backtrace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_stop_of_sleeping_vus_never_crashes() {
    for _ in 0..3 {
        let server = CountingServer::start().await;
        let (out, export) = run("stopped", STOPPED, &server.url(), &[]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let e = export.expect("export");
        assert_eq!(count(&e, "http_reqs", "count"), 40.0);
        assert_eq!(server.count(), 40);
    }
}

const ASYNC: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = {
  scenarios: { a: { executor: 'per-vu-iterations', vus: 70, iterations: 4 } },
};
async function leg(i) {
  const vu = __VU;
  await null;
  http.get(`${__ENV.BASE}/leg?vu=${__VU}&was=${vu}&i=${i}`);
  await Promise.resolve(1);
  return __VU === vu;
}
export default async function () {
  const vu = __VU;
  const all = await Promise.all([leg(1), leg(2), leg(3)]);
  check(all, { 'every continuation ran as its own VU': (a) => a.every((x) => x) && __VU === vu });
  if (__ITER === 3 && __VU % 10 === 0) {
    await null;
    throw new Error(`late boom ${__VU}`);
  }
}
"#;

/// `async` default functions on VUs that share a runtime: each VU's `await` continuations
/// run on its own turn (never on another VU's, which would tag its requests and read its
/// `__VU`), an error thrown after an `await` is logged as the iteration's, and the run's
/// counts are the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_continuations_stay_with_their_vu() {
    let server = CountingServer::start().await;
    let (out, export) = run("async", ASYNC, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 840.0);
    assert_eq!(server.count(), 840);
    assert_eq!(count(&e, "checks", "passes"), 280.0);
    assert_eq!(count(&e, "checks", "fails"), 0.0);
    for s in server.seen() {
        let q = s.path.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let vu = q.split('&').find_map(|kv| kv.strip_prefix("vu="));
        let was = q.split('&').find_map(|kv| kv.strip_prefix("was="));
        assert_eq!(vu, was, "{}", s.path);
    }
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_eq!(logs.matches("Error: late boom").count(), 7, "{logs}");
}

const BROKEN_INIT: &str = r#"
import http from 'k6/http';
export const options = { vus: 20, iterations: 40 };
if (__VU === 13) throw new Error('init boom on VU 13');
export default function () { http.get(`${__ENV.BASE}/never`); }
"#;

const DEEP_DATA: &str = r#"
import http from 'k6/http';
export const options = { iterations: 1 };
let deep = [];
for (let i = 0; i < 20000; i++) deep = [deep];
function down(n) { return n === 0 ? 0 : 1 + down(n - 1); }
export default function () {
  const text = JSON.stringify(deep);
  http.post(`${__ENV.BASE}/deep?depth=${down(3000)}`, String(text.length));
}
export function teardown() { throw new Error('teardown boom'); }
"#;

/// A VU whose init code throws stops the test with its error, exit 107, as k6 does (the
/// other VUs' init ran at load, so nothing was sent yet); data nested 20,000 deep
/// stringifies and 3,000 frames of recursion run (the VU stack is 16 MiB); a teardown
/// that throws makes the run exit 107 after its results are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_errors_deep_data_and_teardown_errors() {
    let server = CountingServer::start().await;
    let (out, _) = run("broken-init", BROKEN_INIT, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(107), "{}", text(&out));
    assert!(text(&out).contains("init boom on VU 13"), "{}", text(&out));
    assert!(server.count() <= 40, "{}", server.count());
    let server = CountingServer::start().await;
    let (out, export) = run("deep-data", DEEP_DATA, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(107), "{}", text(&out));
    assert!(text(&out).contains("teardown boom"), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 1.0);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/deep?depth=3000");
    assert_eq!(seen[0].body, (2 * 20000 + 2).to_string());
}

const MANY_URLS: &str = r#"
import http from 'k6/http';
export const options = { iterations: 1300 };
export default function () {
  http.get(`${__ENV.BASE}/item/${__ITER}`);
  http.get(`${__ENV.BASE}/named/${__ITER}`, { tags: { name: 'named' } });
}
"#;

/// A URL built per request makes a tag set (and histograms) per URL: past the first 1,000
/// URLs of unnamed requests the rest are tagged `(other URLs)`, with a warning, and a
/// request the script named is tagged with its name as `url` too. Counts stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_built_per_request_do_not_make_a_series_each() {
    let server = CountingServer::start().await;
    let d = dir("many-urls");
    let ndjson = d.join("samples.json");
    let out_arg = format!("json={}", ndjson.display());
    let (out, export) = run("many-urls", MANY_URLS, &server.url(), &["--out", &out_arg]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        count(&export.expect("export"), "http_reqs", "count"),
        2600.0
    );
    assert_eq!(server.count(), 2600);
    assert!(
        text(&out).contains("more than 1000 different URLs"),
        "{}",
        text(&out)
    );
    let mut urls = std::collections::HashMap::<String, u64>::new();
    for line in std::fs::read_to_string(&ndjson).expect("samples").lines() {
        let v: Value = serde_json::from_str(line).expect("json line");
        if v["type"] == "Point" && v["metric"] == "http_reqs" {
            let u = v["data"]["tags"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            *urls.entry(u).or_default() += 1;
        }
    }
    assert_eq!(urls.get("named"), Some(&1300));
    assert_eq!(urls.get("(other URLs)"), Some(&300));
    assert_eq!(urls.len(), 1000 + 2);
}

const SCENARIO_TAGS: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = {
  tags: { env: 'test', sc: 'none' },
  scenarios: {
    a: { executor: 'shared-iterations', vus: 1, iterations: 3, exec: 'a', tags: { sc: 'A' } },
    b: { executor: 'shared-iterations', vus: 1, iterations: 2, exec: 'b', tags: { sc: 'B' } },
  },
  thresholds: {
    'http_reqs{sc:A}': ['count==3'],
    'http_reqs{sc:B}': ['count==2'],
    'http_reqs{env:test}': ['count==5'],
    'checks{sc:B}': ['rate==1'],
    'http_reqs{sc:none}': ['count==0'],
  },
};
export function a() { http.get(`${__ENV.BASE}/a`); }
export function b() { check(http.get(`${__ENV.BASE}/b`), { ok: (r) => r.status === 200 }); }
"#;

/// `options.tags` and a scenario's `tags` (which win) reach every request and check
/// sample of its VUs, so thresholds on them judge what was sent — as in k6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_and_global_tags_reach_requests_and_checks() {
    let server = CountingServer::start().await;
    let (out, export) = run("scenario-tags", SCENARIO_TAGS, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 5.0);
    assert_eq!(server.count(), 5);
}

const CHECK_THROWS: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = { iterations: 4 };
export default function () {
  const r = http.get(`${__ENV.BASE}/before`);
  check(r, { fine: (x) => x.status === 200 });
  if (__ITER % 2 === 1) check(r, { broken: (x) => x.nope.deeper === 1 });
  http.get(`${__ENV.BASE}/after`);
}
"#;

/// An exception in a check's function ends the iteration as in k6: the check is not
/// counted, the rest of the iteration is not run, the error is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_in_a_check_ends_the_iteration() {
    let server = CountingServer::start().await;
    let (out, export) = run("check-throws", CHECK_THROWS, &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "checks", "passes"), 4.0);
    assert_eq!(count(&e, "checks", "fails"), 0.0);
    assert_eq!(count(&e, "http_reqs", "count"), 6.0);
    assert_eq!(server.count(), 6);
    assert_eq!(text(&out).matches("TypeError").count(), 2, "{}", text(&out));
}

const ABORT_IN_INIT: &str = r#"
import http from 'k6/http';
import exec from 'k6/execution';
export const options = { vus: 4, iterations: 8 };
if (__ENV.WHEN === 'load' || (__ENV.WHEN === 'vu' && __VU === 3)) exec.test.abort('not today');
export default function () { http.get(`${__ENV.BASE}/x`); }
"#;

/// `test.abort()` in the init code stops the test with exit 108, as in k6: when the init
/// run at load calls it (no load at all) and when one VU's init does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_abort_in_init_code_exits_108() {
    let server = CountingServer::start().await;
    let (out, _) = run(
        "abort-init-load",
        ABORT_IN_INIT,
        &server.url(),
        &["-e", "WHEN=load"],
    )
    .await;
    assert_eq!(out.status.code(), Some(108), "{}", text(&out));
    assert!(text(&out).contains("not today"), "{}", text(&out));
    assert_eq!(server.count(), 0);
    let (out, _) = run(
        "abort-init-vu",
        ABORT_IN_INIT,
        &server.url(),
        &["-e", "WHEN=vu"],
    )
    .await;
    assert_eq!(out.status.code(), Some(108), "{}", text(&out));
    assert!(server.count() <= 8);
    if let Some(k6) = k6() {
        let d = dir("abort-init-load");
        let out = std::process::Command::new(k6)
            .args(["run", "-q", "--no-usage-report", "-e", "WHEN=load"])
            .arg(d.join("abort-init-load.js"))
            .args(["-e", &format!("BASE={}", server.url())])
            .output()
            .expect("k6 runs");
        assert_eq!(out.status.code(), Some(108), "k6: {}", text(&out));
    }
}
