//! The threshold grammar: `metric{tag:value}` keys and `stat op number` expressions.
//! Input: the key, a newline, the expression (no newline: the whole input is tried as both).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use throng_metrics::threshold::{parse_key, Expr, Stat};
use throng_metrics::{Agg, MetricKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (key, expr) = text.split_once('\n').unwrap_or((text, text));
    if let Ok((metric, filter)) = parse_key(key) {
        assert!(!metric.is_empty(), "{key:?}");
        assert!(filter.iter().all(|(k, _)| !k.is_empty()), "{key:?}");
    }
    let _ = Stat::parse(expr);
    let Ok(e) = Expr::parse(expr) else {
        return;
    };
    assert!(e.value.is_finite(), "{expr:?}");
    // the stat as written back parses to the same stat
    let name = e.stat.name();
    assert_eq!(Stat::parse(&name), Ok(e.stat), "{expr:?} -> {name:?}");
    // and evaluates against every kind of aggregate
    let mut trend = Agg::new(MetricKind::Trend);
    for v in [0.0, 1.5, 250.0, 1e9] {
        trend.add(v);
    }
    let mut counter = Agg::new(MetricKind::Counter);
    counter.add(3.0);
    let mut rate = Agg::new(MetricKind::Rate);
    rate.add(1.0);
    rate.add(0.0);
    let mut gauge = Agg::new(MetricKind::Gauge);
    gauge.add(-2.0);
    for agg in [
        &trend,
        &Agg::new(MetricKind::Trend),
        &counter,
        &rate,
        &gauge,
    ] {
        let _ = e.stat.check_kind(agg.kind());
        for elapsed in [Duration::ZERO, Duration::from_millis(1500)] {
            let v = e.stat.of(agg, elapsed);
            let _ = e.passes(v);
        }
    }
});
