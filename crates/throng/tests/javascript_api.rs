//! k6 APIs beyond the core (issue 14, second part), each script run by `throng run` against
//! the counting server with exact figures: `--stages-scale` and `--duration` on scripts and
//! plans, `k6/crypto` signing a JWT the test verifies, `randomSeed`, local module imports,
//! `handleSummary` with the jslib `textSummary` (compared with real k6 where installed).
mod common;
use common::{k6, text, throng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};
use throng_testkit::CountingServer;

/// A fresh folder for one test's files.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-jsapi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// Runs `throng run FILE` in `d` with `BASE` set, `--summary-export export.json` and `extra`;
/// returns the output, the export and how long it took.
async fn run_in(
    d: &Path,
    file: &str,
    base: &str,
    extra: &[&str],
) -> (Output, Option<Value>, Duration) {
    let export = d.join("export.json");
    let _ = std::fs::remove_file(&export);
    let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let (d, file, base) = (d.to_path_buf(), file.to_string(), base.to_string());
    let t0 = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .current_dir(&d)
            .args(["run", &file, "-e", &format!("BASE={base}"), "--quiet"])
            .args(["--summary-export", "export.json"])
            .args(&args)
            .output()
            .expect("throng runs")
    })
    .await
    .expect("join");
    let took = t0.elapsed();
    (out, read(&export), took)
}

fn read(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

fn count(export: &Value, metric: &str, field: &str) -> f64 {
    export["metrics"][metric][field]
        .as_f64()
        .unwrap_or_else(|| panic!("{metric}.{field} in {export}"))
}

const LONG_STAGES: &str = r#"
import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  stages: [ { duration: '5m', target: 3 }, { duration: '20m', target: 3 } ],
};
export default function () {
  http.get(`${__ENV.BASE}/stage`);
  sleep(0.2);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_scale_runs_a_25_minute_script_in_seconds() {
    let server = CountingServer::start().await;
    let d = dir("stages");
    std::fs::write(d.join("long.js"), LONG_STAGES).expect("script");
    let (out, export, took) = run_in(
        &d,
        "long.js",
        &server.url(),
        &["--stages-scale", "0.002", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // 5m + 20m at 0.002: 0.6 s + 2.4 s
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let e = export.expect("export");
    let n = count(&e, "http_reqs", "count");
    assert!(n >= 5.0, "{e}");
    assert_eq!(server.count() as f64, n);
    assert_eq!(count(&e, "vus_max", "max"), 3.0);
    // a bad factor is refused before any load
    let (out, _, _) = run_in(
        &d,
        "long.js",
        &server.url(),
        &["--stages-scale", "0", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(104), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--stages-scale"),
        "{}",
        text(&out)
    );
    assert_eq!(server.count() as f64, n);
}

const ARRIVALS_YAML: &str = r#"
name: scaled
base_url: BASE_URL
scenarios:
  arrivals:
    executor: constant-arrival-rate
    rate: 10
    timeUnit: 1s
    duration: 100s
    startTime: 25s
    preAllocatedVUs: 2
    maxVUs: 5
    flow: [ { get: /yaml } ]
"#;

const ARRIVALS_JS: &str = r#"
import http from 'k6/http';
export const options = {
  scenarios: { arrivals: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '100s',
    startTime: '25s', preAllocatedVUs: 2, maxVUs: 5 } },
};
export default function () { http.get(`${__ENV.BASE}/js`); }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_scale_shortens_plans_and_scripts_alike() {
    let server = CountingServer::start().await;
    let d = dir("arrivals");
    std::fs::write(
        d.join("plan.yaml"),
        ARRIVALS_YAML.replace("BASE_URL", &server.url()),
    )
    .expect("plan");
    std::fs::write(d.join("arrivals.js"), ARRIVALS_JS).expect("script");
    // 100 s at 10/s scaled by 0.02: 2 s, exactly 20 arrivals, after a 0.5 s start
    for (file, path) in [("plan.yaml", "/yaml"), ("arrivals.js", "/js")] {
        let (out, export, took) = run_in(
            &d,
            file,
            &server.url(),
            &["--stages-scale", "0.02", "--no-summary"],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out));
        assert!(took < Duration::from_secs(20), "{file} took {took:?}");
        let e = export.expect("export");
        assert_eq!(count(&e, "http_reqs", "count"), 20.0, "{file}: {e}");
        assert_eq!(server.count_prefix(path), 20, "{file}");
    }
}

const LONG_DURATION: &str = r#"
import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, duration: '10m' };
export default function () { http.get(`${__ENV.BASE}/d`); sleep(0.25); }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_overrides_a_scripts_duration() {
    let server = CountingServer::start().await;
    let d = dir("duration");
    std::fs::write(d.join("d.js"), LONG_DURATION).expect("script");
    let (out, export, took) = run_in(
        &d,
        "d.js",
        &server.url(),
        &["--duration", "1s", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let e = export.expect("export");
    let n = count(&e, "http_reqs", "count");
    // 2 VUs, one request every 0.25 s, for 1 s
    assert!((6.0..=10.0).contains(&n), "{e}");
    assert_eq!(server.count() as f64, n);
}

const JWT: &str = r#"
import http from 'k6/http';
import { check, randomSeed } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
export const options = {
  scenarios: { sign: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } },
  thresholds: { checks: ['rate==1'] },
};
function jwt(payload, secret) {
  const enc = (o) => encoding.b64encode(JSON.stringify(o), 'rawurl');
  const head = enc({ alg: 'HS256', typ: 'JWT' }) + '.' + enc(payload);
  return head + '.' + crypto.hmac('sha256', secret, head, 'base64rawurl');
}
export default function () {
  randomSeed(7);
  const draws = [Math.random(), Math.random()];
  const token = jwt({ sub: `vu${__VU}`, iter: __ITER }, __ENV.SECRET);
  http.post(`${__ENV.BASE}/jwt`, JSON.stringify(draws), { headers: { Authorization: `Bearer ${token}` } });
  const h = crypto.createHash('sha256');
  h.update('a');
  h.update('bc');
  const mac = crypto.createHMAC('sha256', 'Jefe');
  mac.update('what do ya want ');
  mac.update('for nothing?');
  check(null, {
    'sha256 hex': () => crypto.sha256('abc', 'hex') === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    'md5 base64': () => crypto.md5('abc', 'base64') === 'kAFQmDzST7DWlj99KOF/cg==',
    'sha1 hex': () => crypto.sha1('abc', 'hex') === 'a9993e364706816aba3e25717850c26c9cd0d89d',
    'md4 hex': () => crypto.md4('abc', 'hex') === 'a448017aaf21d8525fc10ae87aa6729d',
    'ripemd160 hex': () => crypto.ripemd160('abc', 'hex') === '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc',
    'sha512 len': () => crypto.sha512('abc', 'hex').length === 128 && crypto.sha384('abc', 'hex').length === 96,
    'createHash': () => h.digest('hex') === crypto.sha256('abc', 'hex'),
    'createHMAC': () => mac.digest('hex') === '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    'randomBytes': () => new Uint8Array(crypto.randomBytes(16)).length === 16,
    'binary digest': () => crypto.sha256(new Uint8Array([97, 98, 99]).buffer, 'binary').byteLength === 32,
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crypto_signs_a_jwt_the_server_can_verify_and_random_seed_repeats() {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let server = CountingServer::start().await;
    let d = dir("jwt");
    std::fs::write(d.join("jwt.js"), JWT).expect("script");
    let (out, export, _) = run_in(
        &d,
        "jwt.js",
        &server.url(),
        &["-e", "SECRET=s3cr3t", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 6.0);
    assert_eq!(count(&e, "checks", "passes"), 6.0 * 10.0);
    assert_eq!(count(&e, "checks", "fails"), 0.0);
    let seen = server.seen();
    assert_eq!(seen.len(), 6);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut subjects = Vec::new();
    for s in &seen {
        let auth = s
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .expect("authorization header");
        let token = auth.strip_prefix("Bearer ").expect("bearer");
        let (signed, sig) = token.rsplit_once('.').expect("three parts");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cr3t").expect("key");
        mac.update(signed.as_bytes());
        let want = b64.encode(mac.finalize().into_bytes());
        assert_eq!(sig, want, "signature of {token}");
        let payload = signed.split('.').nth(1).expect("payload");
        let claims: Value =
            serde_json::from_slice(&b64.decode(payload).expect("b64")).expect("claims");
        subjects.push(claims["sub"].as_str().unwrap_or_default().to_string());
        // randomSeed(7): every iteration of every VU draws the same two numbers
        assert_eq!(s.body, seen[0].body);
    }
    subjects.sort();
    assert_eq!(subjects, ["vu1", "vu1", "vu1", "vu2", "vu2", "vu2"]);
    let draws: Vec<f64> = serde_json::from_str(&seen[0].body).expect("draws");
    assert!(draws[0] != draws[1] && draws.iter().all(|x| (0.0..1.0).contains(x)));
    if let Some(k) = k6_run(&d, "jwt.js", &server.url(), &["SECRET=s3cr3t"]).await {
        same_counts(&e, &k);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_modules_import_nested_and_a_missing_one_fails_at_load() {
    let server = CountingServer::start().await;
    let d = dir("modules");
    std::fs::create_dir_all(d.join("lib/sub")).expect("dirs");
    std::fs::write(
        d.join("main.js"),
        "import http from 'k6/http';\nimport { path, VERSION } from './lib/paths.js';\nexport const options = { iterations: 3 };\nexport default function () { http.get(`${__ENV.BASE}${path(__ITER)}?v=${VERSION}`); }\n",
    )
    .expect("main");
    std::fs::write(
        d.join("lib/paths.js"),
        "import { PREFIX } from './sub/prefix.js';\nexport { VERSION } from '../version.js';\nexport function path(i) { return `${PREFIX}/${i}`; }\n",
    )
    .expect("paths");
    std::fs::write(
        d.join("lib/sub/prefix.js"),
        "export const PREFIX = '/mod';\n",
    )
    .expect("prefix");
    std::fs::write(d.join("version.js"), "export const VERSION = 3;\n").expect("version");
    let (out, export, _) = run_in(&d, "main.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 3.0);
    let mut paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    paths.sort();
    assert_eq!(paths, ["/mod/0?v=3", "/mod/1?v=3", "/mod/2?v=3"]);
    // k6 resolves the same imports
    let k6_ran = k6_run(&d, "main.js", &server.url(), &[]).await.is_some();
    let sent = if k6_ran { 6 } else { 3 };
    assert_eq!(server.count_prefix("/mod/"), sent);
    // a missing file fails at load, naming the importing file, line and column
    std::fs::write(
        d.join("lib/sub/prefix.js"),
        "import { X } from './gone.js';\nexport const PREFIX = X;\n",
    )
    .expect("prefix");
    let (out, _, _) = run_in(&d, "main.js", &server.url(), &["--no-summary"]).await;
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lib/sub/prefix.js:1:19"), "{err}");
    assert!(err.contains("./gone.js"), "{err}");
    assert_eq!(server.count(), sent);
    // and so does a remote module throng does not have built in
    std::fs::write(
        d.join("remote.js"),
        "import { x } from 'https://example.com/x.js';\nexport default function () {}\n",
    )
    .expect("remote");
    let (out, _, _) = run_in(&d, "remote.js", &server.url(), &["--no-summary"]).await;
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("remote.js:1:19"),
        "{}",
        text(&out)
    );
}

const SUMMARY: &str = r#"
import http from 'k6/http';
import { check, group } from 'k6';
import { textSummary } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';
export const options = {
  scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 8 } },
  thresholds: { http_req_failed: ['rate<0.5'], 'http_req_duration': ['p(95)<10000', 'max<0'] },
  summaryTrendStats: ['avg', 'p(99)', 'count'],
};
export default function () {
  group('g', () => {
    const r = http.get(`${__ENV.BASE}/sum/${__ITER % 2 === 0 ? 'ok' : 'x'}`);
    check(r, { 'is 200': (x) => x.status === 200 });
  });
}
export function handleSummary(data) {
  return {
    stdout: 'CUSTOM SUMMARY\n' + textSummary(data, { indent: ' ', enableColors: false }),
    'summary.json': JSON.stringify(data),
  };
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_summary_gets_k6s_data_and_writes_its_files() {
    let server = CountingServer::start().await;
    let d = dir("summary");
    std::fs::write(d.join("s.js"), SUMMARY).expect("script");
    let (out, export, _) = run_in(&d, "s.js", &server.url(), &[]).await;
    // max<0 fails: 99
    assert_eq!(out.status.code(), Some(99), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 8.0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CUSTOM SUMMARY"), "{}", text(&out));
    assert!(stdout.contains("http_reqs"), "{}", text(&out));
    assert!(stdout.contains("✓ is 200"), "{}", text(&out));
    let data = read(&d.join("summary.json")).expect("summary.json");
    let m = &data["metrics"];
    assert_eq!(m["http_reqs"]["type"], "counter");
    assert_eq!(m["http_reqs"]["values"]["count"], 8.0);
    assert_eq!(m["http_req_duration"]["type"], "trend");
    assert_eq!(m["http_req_duration"]["contains"], "time");
    let keys: Vec<&String> = m["http_req_duration"]["values"]
        .as_object()
        .expect("values")
        .keys()
        .collect();
    assert_eq!(keys, ["avg", "count", "p(99)"]);
    assert_eq!(m["http_req_duration"]["values"]["count"], 8.0);
    assert_eq!(
        m["http_req_duration"]["thresholds"]["p(95)<10000"]["ok"],
        true
    );
    assert_eq!(m["http_req_duration"]["thresholds"]["max<0"]["ok"], false);
    assert_eq!(m["http_req_failed"]["thresholds"]["rate<0.5"]["ok"], true);
    assert_eq!(m["checks"]["values"]["passes"], 8.0);
    assert_eq!(
        data["options"]["summaryTrendStats"],
        serde_json::json!(["avg", "p(99)", "count"])
    );
    let g = &data["root_group"]["groups"][0];
    assert_eq!(g["name"], "g");
    assert_eq!(g["checks"][0]["name"], "is 200");
    assert_eq!(g["checks"][0]["passes"], 8.0);
    assert!(data["state"]["testRunDurationMs"].as_f64().unwrap_or(0.0) > 0.0);
    // real k6, where installed, hands handleSummary the same shape
    let Some(k6) = k6() else { return };
    let kd = dir("summary-k6");
    // k6 would fetch the jslib (no network here): a stand-in of the same name
    let script = SUMMARY.replace(
        "import { textSummary } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';",
        "const textSummary = () => 'http_reqs';",
    );
    std::fs::write(kd.join("s.js"), script).expect("script");
    let (kd2, base) = (kd.clone(), server.url());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(k6)
            .current_dir(&kd2)
            .args([
                "run",
                "-q",
                "--no-usage-report",
                "s.js",
                "-e",
                &format!("BASE={base}"),
            ])
            .output()
            .expect("k6 runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(99), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CUSTOM SUMMARY"));
    let kdata = read(&kd.join("summary.json")).expect("k6 summary.json");
    let top = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    for k in ["metrics", "root_group", "options", "state"] {
        assert!(top(&kdata).contains(&k.to_string()), "k6 has {k}");
    }
    for name in [
        "http_reqs",
        "http_req_duration",
        "http_req_failed",
        "checks",
        "iterations",
    ] {
        let (a, b) = (&data["metrics"][name], &kdata["metrics"][name]);
        assert_eq!(a["type"], b["type"], "{name}");
        assert_eq!(a["contains"], b["contains"], "{name}");
        assert_eq!(top(&a["values"]), top(&b["values"]), "{name} values");
        assert_eq!(
            top(&a["thresholds"]),
            top(&b["thresholds"]),
            "{name} thresholds"
        );
        for t in top(&a["thresholds"]) {
            assert_eq!(
                a["thresholds"][&t]["ok"], b["thresholds"][&t]["ok"],
                "{name} {t}"
            );
        }
    }
    assert_eq!(kdata["metrics"]["http_reqs"]["values"]["count"], 8.0);
    assert_eq!(kdata["root_group"]["groups"][0]["checks"][0]["passes"], 8.0);
    assert_eq!(
        kdata["options"]["summaryTrendStats"],
        data["options"]["summaryTrendStats"]
    );
}

/// The same script in real k6 (where installed), run in `d` with `BASE` and `env`: its
/// summary export.
async fn k6_run(d: &Path, file: &str, base: &str, env: &[&str]) -> Option<Value> {
    let k6 = k6()?;
    let export = d.join("k6-export.json");
    let _ = std::fs::remove_file(&export);
    let (dd, file, base) = (d.to_path_buf(), file.to_string(), base.to_string());
    let env: Vec<String> = env
        .iter()
        .flat_map(|e| ["-e".to_string(), e.to_string()])
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(k6)
            .current_dir(&dd)
            .args(["run", "-q", "--no-usage-report", &file])
            .args(["-e", &format!("BASE={base}")])
            .args(&env)
            .args(["--summary-export", "k6-export.json"])
            .output()
            .expect("k6 runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "k6: {}", text(&out));
    Some(read(&export).unwrap_or_else(|| panic!("k6 export: {}", text(&out))))
}

/// throng's and k6's exports agree on requests, iterations and checks.
fn same_counts(ours: &Value, k6: &Value) {
    for (m, f) in [
        ("http_reqs", "count"),
        ("iterations", "count"),
        ("checks", "passes"),
        ("checks", "fails"),
    ] {
        assert_eq!(
            count(ours, m, f),
            count(k6, m, f),
            "{m}.{f}: throng {ours} / k6 {k6}"
        );
    }
}

const COOKIES: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = {
  scenarios: { c: { executor: 'per-vu-iterations', vus: 1, iterations: 2 } },
  thresholds: { checks: ['rate==1'] },
};
export default function () {
  const B = __ENV.BASE;
  const jar = http.cookieJar();
  http.get(`${B}/cookies`);
  const r = http.get(`${B}/set-cookie/sid/abc${__ITER}`);
  http.get(`${B}/cookies`);
  jar.set(B, 'extra', 'x1');
  const inJar = jar.cookiesForURL(`${B}/any`);
  http.get(`${B}/cookies`, { cookies: { mine: 'm', sid: { value: 'over', replace: true } } });
  jar.delete(B, 'extra');
  http.get(`${B}/cookies`);
  jar.clear(B);
  http.get(`${B}/cookies`);
  check(r, {
    'res.cookies': (x) => x.cookies.sid[0].value === `abc${__ITER}` && x.cookies.sid[0].path === '/',
    'cookiesForURL': () => inJar.sid[0] === `abc${__ITER}` && inJar.extra[0] === 'x1',
  });
}
"#;

/// The `Cookie` header of each request, its pairs sorted ("" when none).
fn cookie_headers(server: &CountingServer) -> Vec<String> {
    server
        .seen()
        .iter()
        .map(|s| {
            let h = s
                .headers
                .iter()
                .find(|(k, _)| k == "cookie")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut pairs: Vec<&str> = h.split("; ").filter(|p| !p.is_empty()).collect();
            pairs.sort();
            pairs.join("; ")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_kept_per_iteration_and_the_jar_is_the_scripts() {
    let server = CountingServer::start().await;
    let d = dir("cookies");
    std::fs::write(d.join("c.js"), COOKIES).expect("script");
    let (out, export, _) = run_in(&d, "c.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 12.0);
    assert_eq!(count(&e, "checks", "passes"), 4.0);
    let mut want = Vec::new();
    for i in 0..2 {
        let sid = format!("sid=abc{i}");
        want.extend([
            // every iteration starts with an empty jar (as k6)
            String::new(),
            String::new(),
            sid.clone(),
            "extra=x1; mine=m; sid=over".to_string(),
            sid,
            String::new(),
        ]);
    }
    assert_eq!(cookie_headers(&server), want);
    if let Some(k) = k6_run(&d, "c.js", &server.url(), &[]).await {
        same_counts(&e, &k);
        // k6 sent the same Cookie headers, request for request
        assert_eq!(cookie_headers(&server)[12..], want[..]);
    }
}

const BATCH: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = {
  scenarios: { b: { executor: 'per-vu-iterations', vus: 2, iterations: 2 } },
  thresholds: { checks: ['rate==1'] },
};
export default function () {
  const B = __ENV.BASE;
  const list = http.batch([
    `${B}/batch/a`,
    ['POST', `${B}/batch/b`, 'body-b', { headers: { 'X-K': 'b' } }],
    { method: 'GET', url: `${B}/delay/200` },
    { method: 'GET', url: `${B}/delay/200` },
  ]);
  const named = http.batch({ one: `${B}/batch/one`, two: ['GET', `${B}/status/404`] });
  const up = http.post(`${B}/upload`, { title: 'report', file: http.file('col1,col2\n1,2\n', 'data.csv', 'text/csv') });
  const auth = http.get(`${B.replace('http://', 'http://user:p%40ss@')}/auth`);
  check(list, {
    'array shape': (r) => r.length === 4 && r[0].status === 200 && r[1].request.method === 'POST' && r[1].url.endsWith('/batch/b'),
    'object shape': () => named.one.status === 200 && named.two.status === 404,
    'multipart': () => up.status === 200,
    'auth': () => auth.status === 200,
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_sends_in_parallel_and_files_are_multipart() {
    let server = CountingServer::start().await;
    let d = dir("batch");
    std::fs::write(d.join("b.js"), BATCH).expect("script");
    let (out, export, took) = run_in(&d, "b.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    // 4 iterations of 4 + 2 + 1 + 1 requests
    assert_eq!(count(&e, "http_reqs", "count"), 32.0);
    assert_eq!(server.count(), 32);
    assert_eq!(count(&e, "checks", "passes"), 16.0);
    assert_eq!(server.count_prefix("/batch/"), 12);
    assert_eq!(server.count_prefix("/delay/200"), 8);
    // the two 200 ms requests of each batch ran at once: one after the other, every
    // iteration would last at least 400 ms
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let slowest = count(&e, "iteration_duration", "max");
    assert!(
        (200.0..400.0).contains(&slowest),
        "iteration_duration max {slowest} ms"
    );
    let seen = server.seen();
    let b = seen
        .iter()
        .find(|s| s.path == "/batch/b")
        .expect("/batch/b");
    assert_eq!(b.method, "POST");
    assert_eq!(b.body, "body-b");
    assert!(
        b.headers.iter().any(|(k, v)| k == "x-k" && v == "b"),
        "{b:?}"
    );
    let up = seen.iter().find(|s| s.path == "/upload").expect("/upload");
    let ct = up
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart")
        .to_string();
    assert_eq!(
        up.body,
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nreport\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.csv\"\r\nContent-Type: text/csv\r\n\r\ncol1,col2\n1,2\n\r\n--{boundary}--\r\n"
        )
    );
    let auth = seen.iter().find(|s| s.path == "/auth").expect("/auth");
    assert!(
        auth.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Basic dXNlcjpwQHNz"),
        "{auth:?}"
    );
    if let Some(k) = k6_run(&d, "b.js", &server.url(), &[]).await {
        same_counts(&e, &k);
    }
}

const SHARED_ARRAY: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
import { SharedArray } from 'k6/data';
const rows = new SharedArray('rows', () => {
  const out = [];
  for (let i = 0; i < 500; i++) out.push({ id: i, by: __VU, tags: ['t' + (i % 3)] });
  return out;
});
export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 3, iterations: 2 } },
  thresholds: { checks: ['rate==1'] },
};
export default function () {
  const r = rows[(__VU * 7 + __ITER) % rows.length];
  http.get(`${__ENV.BASE}/row/${r.id}/by/${rows[0].by}`);
  check(rows, {
    'length': (a) => a.length === 500,
    'rows': (a) => a[499].id === 499 && a[499].tags[0] === 't1' && a[500] === undefined,
    'methods': (a) => a.filter((x) => x.id % 100 === 0).length === 5 && a.slice(2, 4).map((x) => x.id).join() === '2,3',
    'iterate': (a) => { let n = 0; for (const x of a) n += x.id; return n === 124750; },
    'read-only': (a) => { try { a[0] = 1; return false; } catch (e) { return Object.isFrozen(a[0]); } },
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_array_is_made_once_for_all_vus() {
    let server = CountingServer::start().await;
    let d = dir("shared");
    std::fs::write(d.join("s.js"), SHARED_ARRAY).expect("script");
    let (out, export, _) = run_in(&d, "s.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 6.0);
    assert_eq!(count(&e, "checks", "passes"), 30.0);
    let mut paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    paths.sort();
    // every VU read the rows the first VU made (VU n would have written by/n)
    let by: Vec<&str> = paths.iter().filter_map(|p| p.rsplit('/').next()).collect();
    assert!(by.iter().all(|b| *b == by[0]), "{paths:?}");
    let want: Vec<String> = {
        let mut w: Vec<String> = (1..=3)
            .flat_map(|vu| (0..2).map(move |it| (vu * 7 + it) % 500))
            .map(|id| format!("/row/{id}/by/{}", by[0]))
            .collect();
        w.sort();
        w
    };
    assert_eq!(paths, want);
    if let Some(k) = k6_run(&d, "s.js", &server.url(), &[]).await {
        same_counts(&e, &k);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_turns_the_ingest_script_into_a_plan_that_sends_the_same() {
    let server = CountingServer::start().await;
    let d = dir("convert");
    let script = common::repo().join("examples/k6-ingest.js");
    let base = server.url();
    let out = tokio::task::spawn_blocking(move || {
        throng()
            .args(["convert"])
            .arg(&script)
            .args(["-e", &format!("BASE={base}")])
            .output()
            .expect("throng convert")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(yaml.contains(r#"event {{vu}}-{{iter}}"#), "{yaml}");
    assert!(yaml.contains("{{now}}"), "{yaml}");
    assert!(yaml.contains("status: 200"), "{yaml}");
    assert!(yaml.contains("sleep: 100ms"), "{yaml}");
    assert!(yaml.contains("duration: <500ms"), "{yaml}");
    // what stays JavaScript is listed
    assert!(err.contains("custom metric `errors`"), "{err}");
    assert!(err.contains("2 steps converted"), "{err}");
    std::fs::write(d.join("plan.yaml"), &yaml).expect("plan");
    std::fs::copy(
        common::repo().join("examples/k6-ingest.js"),
        d.join("k6-ingest.js"),
    )
    .expect("copy");
    // the plan and the script, 20 iterations each: the same requests
    let (out, export, _) = run_in(
        &d,
        "plan.yaml",
        &server.url(),
        &["--iterations", "20", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 20.0);
    // both checks of the script: status is 200, under 500ms
    assert_eq!(count(&e, "checks", "passes"), 40.0);
    assert_eq!(server.count_prefix("/api/v1/ingest"), 20);
    let (out, export, _) = run_in(
        &d,
        "k6-ingest.js",
        &server.url(),
        &["--iterations", "20", "--no-summary"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 20.0);
    assert_eq!(server.count_prefix("/api/v1/ingest"), 40);
    // the plan's bodies have the script's shape, VU and iteration filled in
    for s in server.seen() {
        let v: Value = serde_json::from_str(&s.body).expect("json body");
        assert_eq!(v["source"], "k6-script");
        let m = v["message"].as_str().unwrap_or_default();
        let (vu, it) = m
            .trim_start_matches("event ")
            .split_once('-')
            .expect("vu-iter");
        assert!(
            vu.parse::<u64>().is_ok() && it.parse::<u64>().is_ok(),
            "{m}"
        );
        assert!(v["at"].as_str().unwrap_or_default().ends_with('Z'), "{v}");
        assert!(s
            .headers
            .iter()
            .any(|(k, v)| k == "x-api-key" && v == "test-api-key"));
    }
}

const TREND_STATS: &str = r#"
import http from 'k6/http';
export const options = { iterations: 5, summaryTrendStats: ['avg', 'p(99)', 'count', 'p(99.9)'] };
export default function () { http.get(`${__ENV.BASE}/stats`); }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_trend_stats_shape_throngs_own_summary() {
    let server = CountingServer::start().await;
    let d = dir("trendstats");
    std::fs::write(d.join("t.js"), TREND_STATS).expect("script");
    let (out, export, _) = run_in(&d, "t.js", &server.url(), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("http_req_duration."))
        .unwrap_or_else(|| panic!("{stdout}"));
    let stats: Vec<&str> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        .collect();
    assert_eq!(stats, ["avg", "p(99)", "count", "p(99.9)"], "{line}");
    assert!(line.contains("count=5 "), "{line}");
    assert_eq!(server.count(), 5);
    // --summary-export's trends carry the same stats, as k6's do
    let e = export.expect("export");
    let keys = |v: &Value, m: &str| -> Vec<String> {
        let mut k: Vec<String> = v["metrics"][m]
            .as_object()
            .unwrap_or_else(|| panic!("{m} in {v}"))
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let want = ["avg", "count", "p(99)", "p(99.9)"];
    assert_eq!(keys(&e, "http_req_duration"), want);
    assert_eq!(keys(&e, "iteration_duration"), want);
    assert_eq!(e["metrics"]["http_req_duration"]["count"], 5);
    if let Some(k) = k6_run(&d, "t.js", &server.url(), &[]).await {
        assert_eq!(keys(&k, "http_req_duration"), want);
        assert_eq!(keys(&k, "iteration_duration"), want);
    }
    // k6's flag replaces the script's list; a stat that is none is refused before any load
    let (out, export, _) = run_in(
        &d,
        "t.js",
        &server.url(),
        &["--summary-trend-stats", "med,p(75)"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        keys(&export.expect("export"), "http_req_duration"),
        ["med", "p(75)"]
    );
    let before = server.count();
    let (out, _, _) = run_in(
        &d,
        "t.js",
        &server.url(),
        &["--summary-trend-stats", "avg,p95"],
    )
    .await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out).contains("--summary-trend-stats: `p95` is not a trend stat"),
        "{}",
        text(&out)
    );
    assert_eq!(server.count(), before);
}

const REDIRECTS: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };
export default function () {
  const B = __ENV.BASE;
  const none = http.get(`${B}/redirect/3`, { redirects: 0 });
  const one = http.get(`${B}/redirect/3`, { redirects: 1 });
  const all = http.get(`${B}/redirect/3`);
  check(null, {
    'redirects: 0 stops at the first 302': () => none.status === 302,
    'redirects: 1 follows one hop': () => one.status === 302 && one.url.endsWith('/redirect/2'),
    'the default follows them all': () => all.status === 200 && all.url.endsWith('/redirect/0'),
  });
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_redirects_bounds_the_hops_of_one_request() {
    let server = CountingServer::start().await;
    let d = dir("redirects");
    std::fs::write(d.join("r.js"), REDIRECTS).expect("script");
    let (out, export, _) = run_in(&d, "r.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    // 1 + 2 + 4 requests (every hop is a request, as in k6)
    assert_eq!(count(&e, "http_reqs", "count"), 7.0);
    assert_eq!(server.count(), 7);
    assert_eq!(count(&e, "checks", "passes"), 3.0);
    if let Some(k) = k6_run(&d, "r.js", &server.url(), &[]).await {
        same_counts(&e, &k);
        assert_eq!(server.count(), 14);
    }
}

const OWN_STATE: &str = r#"
import http from 'k6/http';
import { check, sleep } from 'k6';
export const options = {
  scenarios: { s: { executor: 'per-vu-iterations', vus: 70, iterations: 3 } },
};
let mine = 0;
const born = __VU;
export function setup() { return { n: 0 }; }
export default function (data) {
  mine += 1;
  data.n += 1;
  const r = http.get(`${__ENV.BASE}/own?vu=${__VU}&born=${born}&iter=${__ITER}&mine=${mine}&data=${data.n}`);
  check(r, { ok: (r) => r.status === 200 });
  sleep(0.01 * (__VU % 3));
}
"#;

/// VUs share a QuickJS context (64 to a runtime, so 70 VUs use two), but each has its own
/// instance of the script: its top-level variables, its `__VU` and `__ITER`, and its copy
/// of setup()'s data, however their iterations interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vus_sharing_a_context_keep_their_own_module_state() {
    let server = CountingServer::start().await;
    let d = dir("own");
    std::fs::write(d.join("own.js"), OWN_STATE).expect("script");
    let (out, export, _) = run_in(&d, "own.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 210.0);
    assert_eq!(server.count(), 210);
    assert_eq!(count(&e, "checks", "passes"), 210.0);
    own_state_holds(&server.seen());
    if let Some(k) = k6_run(&d, "own.js", &server.url(), &[]).await {
        same_counts(&e, &k);
        // and k6's VUs show the same per-VU state
        own_state_holds(&server.seen()[210..]);
    }
}

/// Every VU of 70 made iterations 0, 1, 2, each seeing its own `__VU`, module variable and
/// setup data.
fn own_state_holds(seen: &[throng_testkit::Seen]) {
    let mut per_vu = std::collections::BTreeMap::<u64, Vec<u64>>::new();
    for s in seen {
        let q: std::collections::HashMap<&str, u64> = s
            .path
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k, v.parse().expect("number")))
            .collect();
        assert_eq!(q["vu"], q["born"], "{}", s.path);
        assert_eq!(q["mine"], q["iter"] + 1, "{}", s.path);
        assert_eq!(q["data"], q["iter"] + 1, "{}", s.path);
        per_vu.entry(q["vu"]).or_default().push(q["iter"]);
    }
    assert_eq!(per_vu.len(), 70);
    for (vu, mut iters) in per_vu {
        iters.sort();
        assert_eq!(iters, [0, 1, 2], "VU {vu}");
    }
}

const BATCH_COOKIES: &str = r#"
import http from 'k6/http';
export const options = {
  scenarios: { b: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } },
};
export default function () {
  const B = __ENV.BASE;
  http.get(`${B}/set-cookie/sid/s1`);
  http.batch([`${B}/cookies`, `${B}/cookies`, `${B}/set-cookie/late/l1`, `${B}/cookies`]);
  http.get(`${B}/cookies`);
}
"#;

/// Every request of a batch sends the VU jar's cookies (not only the first, which the
/// VU's own client sends), and cookies set by any of its responses land in the jar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_requests_all_use_the_vus_cookie_jar() {
    let server = CountingServer::start().await;
    let d = dir("batch-cookies");
    std::fs::write(d.join("bc.js"), BATCH_COOKIES).expect("script");
    let (out, export, _) = run_in(&d, "bc.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 6.0);
    let want = [
        "",
        "sid=s1",
        "sid=s1",
        "sid=s1",
        "sid=s1",
        "late=l1; sid=s1",
    ];
    assert_eq!(cookie_headers(&server), want);
    if k6().is_some() {
        let _ = k6_run(&d, "bc.js", &server.url(), &[]).await;
        // k6 sends the same (a batch's requests in any order)
        assert_eq!(cookie_headers(&server)[6..], want[..]);
    }
}

const BINARY: &str = r#"
import http from 'k6/http';
import { check } from 'k6';
const blob = open('blob.bin', 'b');
export const options = {
  scenarios: { b: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } },
};
export default function () {
  const B = __ENV.BASE;
  http.post(`${B}/raw`, blob, { headers: { 'Content-Type': 'application/octet-stream' } });
  http.post(`${B}/raw`, new Uint8Array(blob, 10, 5));
  http.post(`${B}/upload`, { title: 'pic', file: http.file(blob, 'blob.bin', 'application/octet-stream') });
  const r = http.get(`${B}/bytes/300`, { responseType: 'binary' });
  const t = http.get(`${B}/bytes/3`);
  check(r, {
    'binary body': (x) => x.body instanceof ArrayBuffer && x.body.byteLength === 300 && new Uint8Array(x.body)[299] === 43,
    'text body': () => typeof t.body === 'string',
    'open b': () => blob.byteLength === 256,
  });
}
"#;

/// `open(file, 'b')` reads bytes (an ArrayBuffer), which go out unchanged as a body, a
/// view of it, or a multipart file part; `responseType: 'binary'` gives an ArrayBuffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_and_bodies_go_out_byte_for_byte() {
    let server = CountingServer::start().await;
    let d = dir("binary");
    std::fs::write(d.join("bin.js"), BINARY).expect("script");
    let blob: Vec<u8> = (0..=255u8).collect();
    std::fs::write(d.join("blob.bin"), &blob).expect("blob");
    let (out, export, _) = run_in(&d, "bin.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = export.expect("export");
    assert_eq!(count(&e, "http_reqs", "count"), 5.0);
    assert_eq!(count(&e, "checks", "passes"), 3.0);
    let seen = server.seen();
    assert_eq!(seen[0].raw[..], blob[..]);
    assert_eq!(seen[1].raw[..], blob[10..15]);
    let up = &seen[2].raw;
    let ct = seen[2]
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let boundary = ct.split("boundary=").nth(1).expect("boundary");
    let head = "Content-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    let at = up
        .windows(head.len())
        .position(|w| w == head.as_bytes())
        .expect("file part")
        + head.len();
    assert_eq!(up[at..at + 256], blob[..]);
    assert_eq!(&up[at + 256..at + 258], b"\r\n");
    assert!(up.ends_with(format!("--{boundary}--\r\n").as_bytes()));
    if let Some(k) = k6_run(&d, "bin.js", &server.url(), &[]).await {
        same_counts(&e, &k);
        let k6_seen = &server.seen()[5..];
        assert_eq!(k6_seen[0].raw[..], blob[..]);
        assert_eq!(k6_seen[1].raw[..], blob[10..15]);
    }
}

const JARS: &str = r#"
import http from 'k6/http';
const kept = new http.CookieJar();
export const options = {
  scenarios: { c: { executor: 'per-vu-iterations', vus: 1, iterations: 2 } },
};
export default function () {
  const B = __ENV.BASE;
  const mine = new http.CookieJar();
  http.get(`${B}/set-cookie/own/o${__ITER}`);
  http.get(`${B}/set-cookie/kept/k${__ITER}`, { jar: kept });
  http.get(`${B}/cookies`, { jar: mine });
  mine.set(B, 'm', 'v');
  http.get(`${B}/cookies`, { jar: mine });
  http.get(`${B}/cookies`, { jar: kept });
  http.get(`${B}/cookies`);
  http.get(`${B}/cookies`, { jar: kept, cookies: { x: '1' } });
}
"#;

/// `new http.CookieJar()` is a jar of its own that requests use with `{ jar }`: a jar made
/// at init keeps its cookies across iterations while the VU's own is emptied, and
/// `params.cookies` join the given jar's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_cookie_jars_are_their_own_and_params_jar_picks_one() {
    let server = CountingServer::start().await;
    let d = dir("jars");
    std::fs::write(d.join("j.js"), JARS).expect("script");
    let (out, export, _) = run_in(&d, "j.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 14.0);
    let want = [
        "",
        "",
        "",
        "m=v",
        "kept=k0",
        "own=o0",
        "kept=k0; x=1",
        "",
        "kept=k0",
        "",
        "m=v",
        "kept=k1",
        "own=o1",
        "kept=k1; x=1",
    ];
    assert_eq!(cookie_headers(&server), want);
    if k6().is_some() {
        let _ = k6_run(&d, "j.js", &server.url(), &[]).await;
        assert_eq!(cookie_headers(&server)[14..], want[..]);
    }
}

/// Local modules that import each other (a cycle, which k6 allows) load and run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circular_local_imports_run_as_in_k6() {
    let server = CountingServer::start().await;
    let d = dir("circular");
    std::fs::create_dir_all(d.join("lib")).expect("lib");
    std::fs::write(
        d.join("lib/a.js"),
        "import { b } from './b.js';\nexport function a() { return 'a' + typeof b; }\n",
    )
    .expect("a");
    std::fs::write(
        d.join("lib/b.js"),
        "import { a } from './a.js';\nexport function b() { return 'b' + a(); }\n",
    )
    .expect("b");
    std::fs::write(
        d.join("c.js"),
        "import http from 'k6/http';\nimport { b } from './lib/b.js';\nexport const options = { iterations: 2 };\nexport default function () { http.get(`${__ENV.BASE}/${b()}`); }\n",
    )
    .expect("script");
    let (out, export, _) = run_in(&d, "c.js", &server.url(), &["--no-summary"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(count(&export.expect("export"), "http_reqs", "count"), 2.0);
    let paths: Vec<String> = server.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/bafunction", "/bafunction"]);
    if k6().is_some() {
        let _ = k6_run(&d, "c.js", &server.url(), &[]).await;
        let k6_paths: Vec<String> = server.seen()[2..].iter().map(|s| s.path.clone()).collect();
        assert_eq!(k6_paths, paths);
    }
}
