//! Templates, extraction, data sources, cookies, redirects, HTTP/2 and TLS through plans.
mod common;
use common::*;
use throng_testkit::CountingServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_render_and_extracts_chain() {
    let s = CountingServer::start().await;
    let p = r#"
base_url: BASE
env: { TEAM: core }
defaults:
  headers: { X-Team: "{{env.TEAM}}" }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - get: /json
        extract: { etag: { header: ETag }, first: { json: "$.items[0].id" }, word: { regex: "\"status\":\"(\\w+)\"" } }
        check: { status: 200, json: { "$.status": ok }, header: { ETag: v1 }, body_contains: items }
      - get: /json
        headers: { If-None-Match: "{{etag}}" }
        check: { status: 304 }
      - post: /echo
        name: echo
        query: { n: "{{first}}", w: "a b" }
        json: { vu: "{{vu}}", iter: "{{iter}}", sc: "{{scenario}}", word: "{{word}}", r: "{{random_int(5,5)}}", s: "{{random_string(4)}}", c: "{{random_choice(x)}}", id: "{{uuid}}", q: "say \"hi\"" }
        check: { status: 200, json: { "$.path": "/echo?n=42&w=a%20b" } }
thresholds:
  checks: ["rate==1"]
"#;
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.count(), 18);
    let echoes: Vec<_> = s
        .seen()
        .into_iter()
        .filter(|x| x.path.starts_with("/echo"))
        .collect();
    assert_eq!(echoes.len(), 6);
    for e in &echoes {
        let v: serde_json::Value = serde_json::from_str(&e.body).expect("valid JSON body");
        assert_eq!(v["sc"], "s");
        assert_eq!(v["word"], "ok");
        // a whole-value number is a JSON number
        assert_eq!(v["r"], 5);
        assert_eq!(v["c"], "x");
        assert_eq!(v["q"], "say \"hi\"");
        assert_eq!(v["s"].as_str().map(str::len), Some(4));
        assert_eq!(v["id"].as_str().map(str::len), Some(36));
        assert!(e.headers.iter().any(|(k, v)| k == "x-team" && v == "core"));
        assert!(e
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json"));
    }
    let mut vu_iter: Vec<(String, String)> = echoes
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.body).expect("json");
            (v["vu"].to_string(), v["iter"].to_string())
        })
        .collect();
    vu_iter.sort();
    assert_eq!(vu_iter.iter().filter(|(_, i)| i == "0").count(), 2);
    assert_eq!(vu_iter.iter().filter(|(_, i)| i == "2").count(), 2);
    // 4 checks on the first request, 1 on the second, 2 on the third, x 6 iterations
    let passes: u64 = out.results.checks.iter().map(|c| c.passes).sum();
    assert_eq!(passes, 6 * 7);
}

/// A request whose templates are all plain text is rendered once per VU and sent again as
/// it is while the VU sends nothing else between; sent after other requests it is rendered
/// again. Every request the server saw carries exactly its own step's method, path, headers
/// and body, never a neighbour's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_requests_are_sent_as_written_between_other_requests() {
    let s = CountingServer::start().await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - get: /a
        headers: { X-A: "1" }
      - get: /a
        headers: { X-A: "1" }
      - post: /b
        headers: { X-B: "2" }
        json: { kind: b }
      - get: /c/{{iter}}
      - post: /d
        form: { k: "v w" }
"#;
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    let seen = s.seen();
    assert_eq!(seen.len(), 30);
    assert_eq!(count(&out, "http_reqs"), 30);
    let by_path = s.by_path();
    assert_eq!(by_path.get("/a"), Some(&12), "{by_path:?}");
    assert_eq!(by_path.get("/b"), Some(&6), "{by_path:?}");
    assert_eq!(by_path.get("/d"), Some(&6), "{by_path:?}");
    let has = |h: &[(String, String)], k: &str| h.iter().any(|(n, _)| n == k);
    let header =
        |h: &[(String, String)], k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut c_paths = Vec::new();
    for r in &seen {
        match r.path.as_str() {
            "/a" => {
                assert_eq!(r.method, "GET");
                assert_eq!(header(&r.headers, "x-a").as_deref(), Some("1"));
                assert!(!has(&r.headers, "x-b") && r.body.is_empty(), "{r:?}");
            }
            "/b" => {
                assert_eq!(r.method, "POST");
                assert_eq!(r.body, r#"{"kind":"b"}"#);
                assert_eq!(header(&r.headers, "x-b").as_deref(), Some("2"));
                assert_eq!(
                    header(&r.headers, "content-type").as_deref(),
                    Some("application/json")
                );
                assert!(!has(&r.headers, "x-a"), "{r:?}");
            }
            "/d" => {
                assert_eq!(r.method, "POST");
                assert_eq!(r.body, "k=v%20w");
                assert!(!has(&r.headers, "x-a") && !has(&r.headers, "x-b"), "{r:?}");
            }
            p if p.starts_with("/c/") => {
                assert_eq!(r.method, "GET");
                assert!(r.body.is_empty() && !has(&r.headers, "x-b"), "{r:?}");
                c_paths.push(p.to_string());
            }
            other => panic!("unexpected path {other}"),
        }
    }
    c_paths.sort();
    assert_eq!(c_paths, ["/c/0", "/c/0", "/c/1", "/c/1", "/c/2", "/c/2"]);
}

fn write_data(dir: &std::path::Path, rows: usize) {
    std::fs::create_dir_all(dir).expect("dir");
    let mut csv = String::from("id,name\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},user{i}\n"));
    }
    std::fs::write(dir.join("users.csv"), csv).expect("csv");
    let json: Vec<_> = (0..rows).map(|i| serde_json::json!({"id": i})).collect();
    std::fs::write(
        dir.join("users.json"),
        serde_json::to_string(&json).expect("j"),
    )
    .expect("json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_rows_are_used_in_order() {
    let s = CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-seq-{}", s.addr.port()));
    write_data(&dir, 5);
    let p = "base_url: BASE\ndata:\n  users: { file: users.csv, pick: sequential }\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 12\n    flow:\n      - get: /u/{{users.id}}/{{users.name}}\n";
    let out = run_plan(plan_in(p, &s.url(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0);
    let paths: Vec<String> = s.seen().into_iter().map(|x| x.path).collect();
    let expected: Vec<String> = (0..12)
        .map(|i| format!("/u/{}/user{}", i % 5, i % 5))
        .collect();
    assert_eq!(paths, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_rows_are_never_used_twice() {
    let s = CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-uniq-{}", s.addr.port()));
    write_data(&dir, 30);
    let p = "base_url: BASE\ndata:\n  users: { file: users.json, pick: unique }\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 6\n    iterations: 40\n    flow:\n      - get: /u/{{users.id}}\n";
    let out = run_plan(plan_in(p, &s.url(), &dir)).await;
    let mut paths: Vec<String> = s.seen().into_iter().map(|x| x.path).collect();
    assert_eq!(paths.len(), 30, "{}", out.summary);
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 30);
    assert_eq!(out.results.scenarios[0].failed, 10);
    assert_eq!(count(&out, "http_reqs"), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_and_redirects() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\nscenarios:\n  s:\n    executor: per-vu-iterations\n    vus: 2\n    iterations: 2\n    flow:\n      - get: /set-cookie/sid/v{{vu}}\n      - get: /cookies\n        check: { body_matches: \"^sid=v[12]$\" }\n        extract: { sid: { cookie: sid } }\n      - get: /redirect/3\n        name: hop\n        check: { status: 200, body_contains: landed }\nthresholds:\n  checks: [\"rate==1\"]\n  \"http_reqs{name:hop,status:302}\": [\"count==12\"]\n";
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    // 4 iterations x (1 + 1 + 4 hops)
    assert_eq!(s.count(), 24);
    assert_eq!(count(&out, "http_reqs"), 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_from_the_plan() {
    let s = CountingServer::start().await;
    let p = "base_url: BASE\ndefaults:\n  http2: prior-knowledge\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 2\n    iterations: 10\n    flow:\n      - get: /\n";
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0);
    assert!(s.seen().iter().all(|x| x.version == "HTTP/2.0"));
    assert_eq!(s.count(), 10);
    assert_eq!(s.connections(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_self_signed_ca_file() {
    let s = CountingServer::start_tls().await;
    let dir = std::env::temp_dir().join(format!("throng-tls-{}", s.addr.port()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("ca.pem"), s.cert_pem.clone().expect("pem")).expect("write");
    let base = format!("https://localhost:{}", s.addr.port());
    let p = "base_url: BASE\ndefaults:\n  ca_file: ca.pem\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 5\n    flow:\n      - get: /\n        check: { status: 200 }\nthresholds:\n  checks: [\"rate==1\"]\n  http_req_tls_handshaking: [\"max>0\"]\n";
    let out = run_plan(plan_in(p, &base, &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert!(s.seen().iter().all(|x| x.version == "HTTP/2.0"));
    assert_eq!(s.count(), 5);

    // without the CA every request fails as a TLS error, and the run goes on
    let p2 = "base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 3\n    flow:\n      - get: /\nthresholds:\n  \"http_reqs{error_code:1310,status:0}\": [\"count==3\"]\n";
    let out = run_plan(plan_in(p2, &base, &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "http_reqs"), 3);
    assert_eq!(out.results.value("http_req_failed", "passes"), Some(3.0));

    let p3 = "base_url: BASE\ndefaults:\n  insecure_skip_tls_verify: true\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 2\n    flow:\n      - get: /\n        check: { status: 200 }\nthresholds:\n  checks: [\"rate==1\"]\n  \"http_reqs{status:200}\": [\"count==2\"]\n";
    let out = run_plan(plan_in(p3, &base, &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_kind_and_the_run_goes_on() {
    let s = CountingServer::start().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let p = format!("base_url: BASE\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 4\n    flow:\n      - get: /reset\n        name: reset\n      - get: /delay/500\n        name: stall\n        timeout: 50ms\n      - get: http://127.0.0.1:{closed}/\n        name: refused\n      - get: /\n        name: fine\nthresholds:\n  \"http_reqs{{name:refused,error_code:1212}}\": [\"count==4\"]\n  \"http_reqs{{name:stall,error_code:1050}}\": [\"count==4\"]\n  \"http_reqs{{name:fine,status:200}}\": [\"count==4\"]\n  \"http_reqs{{name:reset,status:0}}\": [\"count==7\"]\n");
    let out = run_plan(plan(&p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "iterations"), 4);
    // the first /reset of an iteration rides the kept-alive connection of the last one's
    // `fine`: the server reads it and drops the connection, so the GET is sent again on a
    // new one. Both attempts reached the server and both are counted (7 = 1 + 3 × 2).
    assert_eq!(s.count_prefix("/reset"), 7);
    assert_eq!(
        count(&out, "http_reqs"),
        s.count() + 4,
        "all but the refused ones"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_rows_are_shared_by_every_scenario_of_a_run() {
    let s = CountingServer::start().await;
    let dir = std::env::temp_dir().join(format!("throng-uniq2-{}", s.addr.port()));
    write_data(&dir, 30);
    let p = "base_url: BASE\ndata:\n  users: { file: users.json, pick: unique }\nscenarios:\n  a:\n    executor: shared-iterations\n    vus: 3\n    iterations: 20\n    flow:\n      - get: /u/{{users.id}}\n  b:\n    executor: shared-iterations\n    vus: 3\n    iterations: 20\n    flow:\n      - get: /u/{{users.id}}\n";
    let out = run_plan(plan_in(p, &s.url(), &dir)).await;
    let mut paths: Vec<String> = s.seen().into_iter().map(|x| x.path).collect();
    assert_eq!(paths.len(), 30, "{}", out.summary);
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 30);
}

/// A flow with sleeps at its top level runs each stretch between two sleeps in a future of
/// its own (so a sleeping VU holds little): requests keep their order, a value extracted
/// before a sleep is used after it, and a leading and a trailing sleep are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeps_split_a_flow_and_values_cross_them() {
    let s = CountingServer::start().await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: per-vu-iterations
    vus: 3
    iterations: 2
    flow:
      - sleep: 10ms
      - get: /json
        extract: { first: { json: "$.items[0].id" } }
      - get: /a/{{vu}}/{{iter}}
      - sleep: 10ms..20ms
      - get: /b/{{first}}/{{vu}}/{{iter}}
      - sleep: 10ms
"#;
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.count(), 18);
    assert_eq!(s.count_prefix("/json"), 6);
    assert_eq!(s.count_prefix("/a/"), 6);
    assert_eq!(s.count_prefix("/b/42/"), 6);
    // per VU and iteration: /json, then /a, then /b, in that order
    let seen = s.seen();
    for vu in 1..=3 {
        for iter in 0..2 {
            let at = |p: &str| seen.iter().position(|x| x.path == p);
            let a = at(&format!("/a/{vu}/{iter}")).expect("/a seen");
            let b = at(&format!("/b/42/{vu}/{iter}")).expect("/b seen");
            assert!(a < b, "vu {vu} iter {iter}: /a before /b");
        }
    }
}

/// The JSON document `/doc` answers with, in chunks that split a token, an escape and a
/// multi-byte character.
const DOC: &str = "{\"id\":\"a\\\"b\\\\c\\u00e9\\n\\u0001\",\"n\":1.5,\"items\":[{\"id\":10},{\"id\":\"twenty\"}],\"obj\":{\"b\":2,\"a\":[1,null]},\"dup\":1,\"dup\":2,\"text\":\"café ok\"}";

/// `DOC` as a chunked body, cut at these byte offsets.
fn chunked(doc: &str, cuts: &[usize]) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    let bytes = doc.as_bytes();
    let mut from = 0;
    for &to in cuts.iter().chain(std::iter::once(&bytes.len())) {
        out.extend_from_slice(format!("{:x}\r\n", to - from).as_bytes());
        out.extend_from_slice(&bytes[from..to]);
        out.extend_from_slice(b"\r\n");
        from = to;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Extracts by simple paths (scanned without parsing the document into values) and by
/// full JSONPath give exactly what the parsed document gives, on a chunked body; the
/// values, escaped again into a JSON request body, arrive intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_extracts_and_body_checks_on_a_chunked_body() {
    use std::sync::{Arc, Mutex};
    use throng_testkit::{RawConn, RawServer};
    let echoed: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = echoed.clone();
    // cut inside the `\u00e9` escape, inside the number 1.5 and inside the two bytes of é
    let e_acute = DOC.find('é').expect("é");
    let cuts = [
        DOC.find("u00e9").expect("escape") + 2,
        DOC.find("1.5").expect("n") + 1,
        e_acute + 1,
    ];
    let response = chunked(DOC, &cuts);
    let s = RawServer::start(move |mut c: RawConn| {
        let sink = sink.clone();
        let response = response.clone();
        async move {
            while let Some(r) = c.read_request().await {
                if r.path == "/doc" {
                    c.write(&response).await;
                } else {
                    if let Ok(mut e) = sink.lock() {
                        e.push(r.body);
                    }
                    c.respond(200, "ok").await;
                }
            }
        }
    })
    .await;
    let p = r#"
base_url: BASE
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - get: /doc
        extract:
          e_id: { json: "$.id" }
          e_item: { json: "$.items[1].id" }
          e_num: { json: "$['items'][0].id" }
          e_missing: { json: "$.items[5].id" }
          e_deep_missing: { json: "$.n.x" }
          e_obj: { json: "$.obj" }
          e_null: { json: "$.obj.a[1]" }
          e_dup: { json: "$.dup" }
          e_float: { json: "$.n" }
          e_last: { json: "$.items[-1].id" }
          e_any: { json: "$..a[0]" }
        check:
          status: 200
          body_contains: "é ok"
          json: { "$.items[0].id": 10, "$.n": "1.5", "$.dup": 2, "$.missing": "*", "$.items[-1].id": twenty }
      - post: /echo
        json: { id: "{{e_id}}", item: "{{e_item}}", num: "{{e_num}}", missing: "{{e_missing}}", deep: "{{e_deep_missing}}", obj: "{{e_obj}}", nul: "{{e_null}}", dup: "{{e_dup}}", float: "{{e_float}}", last: "{{e_last}}", any: "{{e_any}}" }
        check: { body_contains: ok }
"#;
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.requests(), 12);
    assert_eq!(count(&out, "http_reqs"), 12);
    let bodies = echoed.lock().map(|e| e.clone()).unwrap_or_default();
    assert_eq!(bodies.len(), 6);
    for b in &bodies {
        let v: serde_json::Value = serde_json::from_slice(b).expect("a JSON request body");
        // variables are text: a whole-value variable is a JSON string
        let expected = serde_json::json!({
            "id": "a\"b\\c\u{e9}\n\u{1}", "item": "twenty", "num": "10", "missing": "",
            "deep": "", "obj": "{\"a\":[1,null],\"b\":2}", "nul": "null", "dup": "2",
            "float": "1.5", "last": "twenty", "any": "1",
        });
        assert_eq!(v, expected);
    }
    // per iteration: 7 checks on /doc, of which `$.missing` exists fails; 1 on /echo
    let tally: Vec<(String, u64, u64)> = out
        .results
        .checks
        .iter()
        .map(|c| (c.name.clone(), c.passes, c.fails))
        .collect();
    let missing = tally.iter().find(|c| c.0 == "$.missing exists");
    assert_eq!(missing.map(|c| (c.1, c.2)), Some((0, 6)), "{tally:?}");
    let passes: u64 = tally.iter().map(|c| c.1).sum();
    let fails: u64 = tally.iter().map(|c| c.2).sum();
    assert_eq!((passes, fails), (6 * 7, 6), "{tally:?}");
}
