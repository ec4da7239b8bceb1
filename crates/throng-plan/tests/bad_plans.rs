//! Malformed plans: each gives a clear error with a line and column, never a panic.
use std::path::Path;
use throng_plan::{load_str, LoadOptions};

const HEAD: &str = "base_url: http://127.0.0.1:1\nscenarios:\n  s:\n";

/// (plan, expected line, text the message must contain)
fn cases() -> Vec<(String, usize, &'static str)> {
    let s = |body: &str| format!("{HEAD}{body}");
    vec![
        ("".to_string(), 1, "the plan is empty"),
        ("scenarios: [1, 2\n".to_string(), 1, ""),
        ("nme: x\nscenarios: {}\n".to_string(), 1, "unknown field `nme`"),
        ("name: x\n".to_string(), 1, "no scenarios"),
        (s("    executor: constant-vu\n    flow: [ {get: /} ]\n"), 4, "unknown executor `constant-vu`"),
        (s("    executor: constant-vus\n    flow: [ {get: /} ]\n"), 4, "needs `duration`"),
        (s("    executor: constant-vus\n    duration: 10\n    flow: [ {get: /} ]\n"), 5, "without a unit"),
        (s("    executor: constant-vus\n    duration: 10x\n    flow: [ {get: /} ]\n"), 5, "unknown duration unit"),
        (s("    executor: constant-vus\n    vus: abc\n    duration: 1s\n    flow: [ {get: /} ]\n"), 5, ""),
        (s("    executor: constant-vus\n    vus: 0\n    duration: 1s\n    flow: [ {get: /} ]\n"), 5, "at least 1"),
        (s("    executor: constant-vus\n    duration: 1s\n    rate: 5\n    flow: [ {get: /} ]\n"), 6, "does not apply to executor constant-vus"),
        (s("    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    flow: [ {get: /} ]\n"), 4, "needs `preAllocatedVUs`"),
        (s("    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    preAllocatedVUs: 5\n    maxVUs: 2\n    flow: [ {get: /} ]\n"), 8, "below preAllocatedVUs"),
        (s("    executor: externally-controlled\n    vus: 5\n    maxVUs: 2\n    flow: [ {get: /} ]\n"), 6, "maxVUs (2) is below vus (5)"),
        (s("    executor: externally-controlled\n    rate: 5\n    flow: [ {get: /} ]\n"), 5, "does not apply to executor externally-controlled"),
        (s("    executor: ramping-vus\n    flow: [ {get: /} ]\n"), 4, "needs `stages`"),
        (s("    executor: ramping-vus\n    stages: [ {duration: 1s, target: -1} ]\n    flow: [ {get: /} ]\n"), 5, "0 or more"),
        (s("    executor: ramping-vus\n    stages: [ {duration: 1s, taget: 1} ]\n    flow: [ {get: /} ]\n"), 5, "unknown field `taget`"),
        (s("    executor: shared-iterations\n"), 4, "has no `flow:`"),
        (s("    executor: shared-iterations\n    flow: []\n"), 5, "the flow is empty"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /\n        post: /x\n"), 6, "has get, post"),
        (s("    executor: shared-iterations\n    flow:\n      - sleep: soon\n"), 6, "sleep:"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /items/{{nope}}\n"), 6, "unknown name `nope`"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        headers: { X: \"{{env.MISSING}}\" }\n"), 7, "`MISSING` is not set"),
        (s("    executor: shared-iterations\n    flow:\n      - post: /a\n        json: { a: 1, b: \"{{random_int(9,1)}}\" }\n"), 7, "upper bound"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        check: { status: 999 }\n"), 7, "status code"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        check: { duration: 500ms }\n"), 7, "comparison like"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        check: { body_matches: \"(\" }\n"), 7, "invalid regex"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        extract: { id: { json: \"items[\" } }\n"), 7, "not a JSON path"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        extract: { id: { header: A, json: $.a } }\n"), 7, "exactly one of"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        chek: { status: 200 }\n"), 7, "unknown field `chek`"),
        (s("    executor: shared-iterations\n    flow:\n      - group: g\n"), 6, "needs `flow:`"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  http_req_duraton: [\"p(95)<1\"]\n"), 7, "unknown metric `http_req_duraton`"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  http_req_duration: [\"p95<1\"]\n"), 7, "unknown aggregation method"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  http_req_failed: [\"p(95)<1\"]\n"), 7, "does not apply to rate metric"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nsummary_trend_stats: [avg, p95]\n"), 6, "`p95` is not a trend stat"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nsummary_trend_stats: [p(101)]\n"), 6, "`p(101)` is not a trend stat"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nsummary_trend_stats: []\n"), 6, "at least one stat"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  http_req_duration: [\"p(95)<<1\"]\n"), 7, "invalid threshold expression"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  \"http_req_duration{name}\": [\"p(95)<1\"]\n"), 7, "invalid threshold key"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\nthresholds:\n  http_reqs: [{ threshold: \"count>1\", abortOnFail: yes please }]\n"), 7, "abortOnFail"),
        ("scenarios:\n  s:\n    executor: shared-iterations\n    flow: [ {get: /relative} ]\n".to_string(), 4, "no base_url"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndata:\n  users: {{ file: missing.csv }}\n"), 7, "cannot read data file"),
        (s("    executor: shared-iterations\n    flow: [ {get: /} ]\n  s: {}\n"), 6, "duplicate"),
        ("a: &a [*a]\n".to_string(), 1, ""),
        (s("    executor: shared-iterations\n    flow:\n      - get: \"/a b/{{ vu }}\"\n"), 6, "contains a space or a control character"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        headers: { X-A: \"a\\r\\nX-B: b\" }\n"), 7, "must not contain CR, LF"),
        (s("    executor: shared-iterations\n    flow:\n      - get: /a\n        headers: { \"X A\": b }\n"), 7, "is not a header name"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  headers: {{ X-A: \"a\\nb\" }}\n"), 7, "must not contain CR, LF"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  http2: prior-knowledge\n  http2_connections: 0\n"), 8, "http2_connections: expected 1 to 1,000,000, got 0"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  http2: prior-knowledge\n  http2_streams: 10\n"), 8, "http2_streams needs http2_connections"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  http2: false\n  http2_connections: 4\n"), 8, "but http2 is false"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  keepalive: false\n  http2_connections: 4\n"), 8, "but keepalive is false"),
        (format!("{HEAD}    executor: shared-iterations\n    flow: [ {{get: /}} ]\ndefaults:\n  http2_connections: 4\n  http2_streams: 2000000\n"), 8, "http2_streams: expected 1 to 1,000,000"),
        (s("    executor: constant-vus\n    vus: 4294967297\n    duration: 1s\n    flow: [ {get: /} ]\n"), 5, "vus 4294967297 is above the limit of 1,000,000 VUs"),
        (s("    executor: per-vu-iterations\n    vus: 1000001\n    flow: [ {get: /} ]\n"), 5, "above the limit of 1,000,000 VUs"),
        (s("    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    preAllocatedVUs: 5\n    maxVUs: 99999999999\n    flow: [ {get: /} ]\n"), 8, "maxVUs 99999999999 is above the limit"),
        (s("    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    preAllocatedVUs: 2000000\n    flow: [ {get: /} ]\n"), 7, "preAllocatedVUs 2000000 is above the limit"),
        (s("    executor: ramping-vus\n    stages: [ {duration: 1s, target: 5000000} ]\n    flow: [ {get: /} ]\n"), 5, "stage target 5000000 is above the limit"),
        (s("    executor: ramping-vus\n    startVUs: 5000000\n    stages: [ {duration: 1s, target: 5} ]\n    flow: [ {get: /} ]\n"), 5, "startVUs 5000000 is above the limit"),
        (s("    executor: constant-arrival-rate\n    rate: 1e12\n    duration: 1s\n    preAllocatedVUs: 5\n    flow: [ {get: /} ]\n"), 5, "above the limit of 1,000,000 a second"),
        (s("    executor: ramping-arrival-rate\n    preAllocatedVUs: 5\n    stages: [ {duration: 1s, target: 2000000} ]\n    flow: [ {get: /} ]\n"), 6, "above the limit of 1,000,000 a second"),
    ]
}

#[test]
fn every_bad_plan_names_line_column_and_what_was_expected() {
    let mut failures = Vec::new();
    for (i, (yaml, line, text)) in cases().into_iter().enumerate() {
        let got = std::panic::catch_unwind(|| {
            load_str(&yaml, Path::new("bad.yaml"), &LoadOptions::default())
        });
        let Ok(res) = got else {
            failures.push(format!("case {i}: panicked"));
            continue;
        };
        let errs = match res {
            Ok(_) => {
                failures.push(format!("case {i}: loaded but should fail:\n{yaml}"));
                continue;
            }
            Err(e) => e,
        };
        let first = &errs.0[0];
        let msg = errs.to_string();
        if first.line != line || first.column == 0 || !msg.contains(text) {
            failures.push(format!(
                "case {i}: expected line {line} containing {text:?}, got:\n{msg}\n--- plan:\n{yaml}"
            ));
        }
        assert!(msg.contains("bad.yaml:"), "{msg}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn vu_counts_must_fit_in_the_open_file_limit() {
    let yaml = format!(
        "{HEAD}    executor: constant-vus\n    vus: 2000\n    duration: 1s\n    flow: [ {{get: /}} ]\n"
    );
    let opts = LoadOptions {
        open_file_limit: Some(1024),
        ..LoadOptions::default()
    };
    let errs = load_str(&yaml, Path::new("p.yaml"), &opts).expect_err("too many for the fds");
    let msg = errs.to_string();
    assert_eq!(errs.0.len(), 1, "{msg}");
    assert!(
        msg.starts_with("error: p.yaml:5:10: vus 2000 needs about 2,020 open files (one connection per VU) but the open-file limit is 1,024: raise it (`ulimit -n 2020`) or lower vus"),
        "{msg}"
    );
    let opts = LoadOptions {
        open_file_limit: Some(4096),
        ..LoadOptions::default()
    };
    assert!(load_str(&yaml, Path::new("p.yaml"), &opts).is_ok());
    // iterations hold no connection: any count fits whatever the open-file limit
    let many = format!(
        "{HEAD}    executor: shared-iterations\n    vus: 50\n    iterations: 2000000\n    flow: [ {{get: /}} ]\n"
    );
    let opts = LoadOptions {
        open_file_limit: Some(256),
        ..LoadOptions::default()
    };
    assert!(load_str(&many, Path::new("p.yaml"), &opts).is_ok());
}

#[test]
fn a_huge_plan_says_plan_too_large_with_the_limit() {
    // 250,001 nodes: the mapping, `scenarios`, its empty mapping and 124,999 `kN: v` pairs
    let mut yaml = String::from("scenarios: {}\nenv:\n");
    for i in 0..124_999 {
        yaml.push_str(&format!("  k{i}: v\n"));
    }
    let errs = load_str(&yaml, Path::new("big.yaml"), &LoadOptions::default()).expect_err("big");
    let msg = errs.to_string();
    assert_eq!(errs.0.len(), 1, "{msg}");
    assert!(
        msg.contains("plan too large: 250,001 nodes (limit 250,000 keys, values and list items)"),
        "{msg}"
    );
    assert!(!msg.contains("budget") && !msg.contains("Nodes {"), "{msg}");
    assert!(errs.0[0].line > 0 && errs.0[0].column > 0, "{msg}");
}

#[test]
fn a_missing_data_file_is_one_error_not_one_per_template() {
    let yaml = format!(
        "{HEAD}    executor: shared-iterations\n    flow:\n      - get: /u/{{{{users.id}}}}\n      - post: /login\n        json: {{ name: \"{{{{users.name}}}}\" }}\ndata:\n  users: {{ file: missing.csv }}\n"
    );
    let errs = load_str(&yaml, Path::new("p.yaml"), &LoadOptions::default()).expect_err("bad");
    let msg = errs.to_string();
    assert_eq!(errs.0.len(), 1, "{msg}");
    assert!(msg.contains("cannot read data file"), "{msg}");
    assert!(!msg.contains("has no field"), "{msg}");
    // a data source that loaded still checks its fields
    let dir = std::env::temp_dir().join(format!("throng-bad-plans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("users.csv"), "id,name\n1,ann\n").expect("csv");
    let yaml = format!(
        "{HEAD}    executor: shared-iterations\n    flow:\n      - get: /u/{{{{users.nope}}}}\ndata:\n  users: {{ file: users.csv }}\n"
    );
    let opts = LoadOptions {
        base_dir: Some(dir.clone()),
        ..LoadOptions::default()
    };
    let errs = load_str(&yaml, Path::new("p.yaml"), &opts).expect_err("bad field");
    assert!(errs.to_string().contains("has no field `nope`"), "{errs}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn several_errors_are_reported_together() {
    let yaml = format!(
        "{HEAD}    executor: constant-vus\n    duration: 1x\n    flow:\n      - get: /{{{{a}}}}\n      - get: /{{{{b}}}}\nthresholds:\n  nope: [\"avg<1\"]\n"
    );
    let errs = load_str(&yaml, Path::new("p.yaml"), &LoadOptions::default()).expect_err("bad");
    assert_eq!(errs.0.len(), 4, "{errs}");
    assert_eq!(errs.0[2].line, 8);
    assert_eq!(errs.0[2].column, 15, "{errs}");
}

#[test]
#[ignore = "prints every message for review: cargo test -p throng-plan --test bad_plans -- --ignored --nocapture"]
fn print_messages() {
    for (yaml, _, _) in cases() {
        if let Err(e) = load_str(&yaml, Path::new("bad.yaml"), &LoadOptions::default()) {
            println!("{e}\n");
        }
    }
}
