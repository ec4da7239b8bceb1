//! `throng merge` is exact: the same deterministic latencies recorded by 4 instances (each
//! taking every 4th sample, as execution segments stripe iterations) and by one process give
//! byte-identical histograms, the same counts, the same percentiles and the same verdicts.
use throng_metrics::{Registry, TagSet, ThresholdSet};
use throng_report::merge::merge;
use throng_report::{InstanceInfo, Results, RunInfo};

/// A latency per sample, from a fixed formula: 0.5 ms to about 2 s, many repeats.
fn latency(k: u64) -> f64 {
    0.5 + ((k * 7919) % 2000) as f64 * (1.0 + (k % 7) as f64 * 0.137)
}

const SAMPLES: u64 = 20_000;

fn results(owned: impl Fn(u64) -> bool, instance: Option<(usize, usize)>) -> Results {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let ok = reg.intern(TagSet::new([("name", "home"), ("status", "200")]));
    let bad = reg.intern(TagSet::new([("name", "home"), ("status", "503")]));
    for k in (0..SAMPLES).filter(|k| owned(*k)) {
        let t = if k % 10 == 0 { bad } else { ok };
        reg.add_many(
            t,
            &[
                (b.http_reqs, 1.0),
                (b.http_req_duration, latency(k)),
                (b.http_req_failed, if k % 10 == 0 { 1.0 } else { 0.0 }),
            ],
        );
    }
    let snap = reg.collect();
    let run = RunInfo {
        plan: "p".into(),
        plan_file: "p.yaml".into(),
        target: None,
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 10_000.0,
        interrupted: false,
        aborted_by: None,
        exit_code: 0,
        command: None,
    };
    let mut th = ThresholdSet::default();
    let (metric, filter) = throng_metrics::threshold::parse_key("http_req_duration").expect("key");
    th.items.push(throng_metrics::Threshold {
        key: "http_req_duration".into(),
        metric,
        filter,
        expr: throng_metrics::threshold::Expr::parse("p(99)<2500").expect("expr"),
        abort_on_fail: false,
        delay_abort_eval: std::time::Duration::ZERO,
    });
    let verdicts = th.evaluate(&snap, std::time::Duration::from_secs(10));
    let mut r = Results::build(&snap, &th, &verdicts, run, vec![], vec![]);
    r.instance = instance.map(|(i, n)| InstanceInfo {
        instance_id: i.to_string(),
        run_id: "r".into(),
        segment: if n == 1 {
            "0:1".into()
        } else {
            format!("{}:{}", frac(i, n), frac(i + 1, n))
        },
        sequence: (0..=n).map(|j| frac(j, n)).collect::<Vec<_>>().join(","),
        throng_version: "0.1.0".into(),
        plan_digest: "d".into(),
        started_at_unix_ms: 1_767_225_600_000,
        ..InstanceInfo::default()
    });
    r
}

/// A fraction as segments print it (`1/4`, `1/2`, `0`, `1`).
fn frac(i: usize, n: usize) -> String {
    let g = gcd(i, n);
    match (i / g, n / g) {
        (0, _) => "0".into(),
        (a, b) if a == b => "1".into(),
        (a, b) => format!("{a}/{b}"),
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn four_instances_merge_to_the_one_process_histogram_byte_for_byte() {
    let one = results(|_| true, None);
    let parts: Vec<(String, Results)> = (0..4)
        .map(|i| {
            (
                format!("segment-{i}.json"),
                results(|k| k % 4 == i as u64, Some((i, 4))),
            )
        })
        .collect();
    // through the file format, as `throng merge` reads them
    let parts: Vec<(String, Results)> = parts
        .into_iter()
        .map(|(f, r)| {
            let text = serde_json::to_string(&r).expect("json");
            (f, Results::from_json(text.as_bytes()).expect("reads back"))
        })
        .collect();
    let merged = merge(&parts).expect("merges").results;
    let hdr = |r: &Results, status: &str| {
        r.series
            .iter()
            .find(|s| {
                s.metric == "http_req_duration"
                    && s.tags.get("status").map(String::as_str) == Some(status)
            })
            .and_then(|s| s.hdr.clone())
            .expect("histogram")
    };
    for status in ["200", "503"] {
        assert_eq!(hdr(&merged, status), hdr(&one, status), "status {status}");
    }
    let m = |r: &Results| r.metric("http_req_duration").expect("trend").values.clone();
    let (a, b) = (m(&merged), m(&one));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        if k == "avg" || k == "max" {
            // sums of floats in another order: equal to the last bits
            assert!(
                (v - b[k]).abs() <= 1e-9 * b[k].abs(),
                "{k}: {v} vs {}",
                b[k]
            );
        } else {
            // percentiles come from the histogram: exactly equal
            assert_eq!(*v, b[k], "{k}");
        }
    }
    assert_eq!(
        merged.metric("http_reqs").map(|m| m.values["count"]),
        Some(20_000.0)
    );
    assert_eq!(merged.status_codes, one.status_codes);
    assert_eq!(merged.status_codes["503"], 2_000);
    assert_eq!(merged.thresholds, one.thresholds);
    assert_eq!(merged.latency_histogram, one.latency_histogram);
    assert_eq!(merged.merge.map(|m| m.instances.len()), Some(4));
}
