//! The recording hot path and threshold evaluation.
//!   cargo bench -p throng-metrics -- --save-baseline main
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use throng_metrics::threshold::{parse_key, Expr};
use throng_metrics::{Registry, TagSet, Threshold, ThresholdSet};

fn record(c: &mut Criterion) {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let tags = reg.intern(TagSet::new([("name", "x"), ("status", "200")]));
    c.bench_function("record counter", |bn| {
        bn.iter(|| reg.add(b.http_reqs, tags, black_box(1.0)))
    });
    let mut v = 0.0;
    c.bench_function("record trend", |bn| {
        bn.iter(|| {
            v = (v + 0.37) % 500.0;
            reg.add(b.http_req_duration, tags, black_box(v))
        })
    });
    let samples: Vec<(throng_metrics::MetricId, f64)> = [
        b.http_reqs,
        b.http_req_duration,
        b.http_req_blocked,
        b.http_req_connecting,
        b.http_req_tls_handshaking,
        b.http_req_sending,
        b.http_req_waiting,
        b.http_req_receiving,
        b.http_req_failed,
        b.data_sent,
        b.data_received,
    ]
    .into_iter()
    .map(|m| (m, 1.5))
    .collect();
    c.bench_function("record one request (11 samples, one lock)", |bn| {
        bn.iter(|| reg.add_many(tags, black_box(&samples)))
    });
    let ids: Vec<throng_metrics::MetricId> = samples.iter().map(|s| s.0).collect();
    let bundle = reg.bundle(&ids);
    let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
    c.bench_function(
        "record one request as a bundle (11 samples, one lookup)",
        |bn| bn.iter(|| reg.add_bundle(&bundle, tags, black_box(&values))),
    );
}

fn thresholds(c: &mut Criterion) {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    for i in 0..20 {
        let t = reg.intern(TagSet::new([
            ("name", format!("n{i}")),
            ("status", "200".into()),
        ]));
        for v in 0..1000 {
            reg.add(b.http_req_duration, t, v as f64 * 0.1);
            reg.add(b.http_req_failed, t, 0.0);
        }
    }
    let snap = reg.collect();
    let mut set = ThresholdSet::default();
    for (key, expr) in [
        ("http_req_duration", "p(95)<600"),
        ("http_req_duration{name:n3}", "p(99)<800"),
        ("http_req_failed", "rate<0.01"),
    ] {
        let (metric, filter) = parse_key(key).expect("key");
        set.items.push(Threshold {
            key: key.into(),
            metric,
            filter,
            expr: Expr::parse(expr).expect("expr"),
            abort_on_fail: false,
            delay_abort_eval: std::time::Duration::ZERO,
        });
    }
    c.bench_function("evaluate 3 thresholds over 40 series", |bn| {
        bn.iter(|| set.evaluate(&snap, std::time::Duration::from_secs(10)))
    });
    c.bench_function("parse threshold", |bn| {
        bn.iter(|| Expr::parse(black_box("p(99.9) <= 300")))
    });
}

criterion_group!(benches, record, thresholds);
criterion_main!(benches);
