//! `Registry::add_bundle` (the slots of a (bundle, tag set) found with one lookup) against
//! `Registry::add_many` with the same samples: the same aggregates, per-interval series,
//! failure times and raw samples, across collections.
use std::collections::BTreeMap;
use std::time::Duration;
use throng_metrics::{Agg, Bundle, MetricId, Registry, SeriesKey, Snapshot, TagSet, TagSetId};

/// k6's twelve HTTP metrics, in the order throng-flow records them.
fn http_metrics(reg: &Registry) -> Vec<MetricId> {
    let b = reg.builtin();
    vec![
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
        b.http_req_duration_corrected,
    ]
}

/// Tag sets of mixed outcomes, interned in the same order in every registry (so their ids
/// agree): two successes, a 404 and a 503 (`expected_response:false`) and a connection
/// failure (`error`).
fn tag_sets(reg: &Registry) -> Vec<TagSetId> {
    [
        vec![
            ("name", "a"),
            ("status", "200"),
            ("expected_response", "true"),
        ],
        vec![
            ("name", "b"),
            ("status", "201"),
            ("expected_response", "true"),
        ],
        vec![
            ("name", "a"),
            ("status", "404"),
            ("expected_response", "false"),
        ],
        vec![
            ("name", "b"),
            ("status", "503"),
            ("expected_response", "false"),
        ],
        vec![
            ("name", "a"),
            ("status", "0"),
            ("error", "connection refused"),
        ],
    ]
    .into_iter()
    .map(|t| reg.intern(TagSet::new(t)))
    .collect()
}

/// A value that exercises every aggregate: zeros, fractions, large and odd numbers.
fn value(i: u64, j: usize) -> f64 {
    match (i + j as u64) % 5 {
        0 => 0.0,
        1 => (i % 997) as f64 * 0.731,
        2 => 1.0,
        3 => (i * 7919 % 100_000) as f64 / 3.0,
        _ => (j as f64) * 12.5 + (i % 13) as f64,
    }
}

/// Whether two aggregates are the same, to the bit and the histogram bucket.
fn agg_eq(a: &Agg, b: &Agg) -> bool {
    match (a, b) {
        (Agg::Trend(x), Agg::Trend(y)) => {
            (x.count, x.sum.to_bits(), x.min.to_bits(), x.max.to_bits())
                == (y.count, y.sum.to_bits(), y.min.to_bits(), y.max.to_bits())
                && x.hist == y.hist
        }
        _ => format!("{a:?}") == format!("{b:?}"),
    }
}

/// Asserts that two lists of series (cumulative or of the last interval) are the same,
/// with the same failure times kept (present or not) in their snapshots.
fn same_series<'a>(
    (sa, a): (&Snapshot, impl Iterator<Item = (&'a SeriesKey, &'a Agg)>),
    (sb, b): (&Snapshot, impl Iterator<Item = (&'a SeriesKey, &'a Agg)>),
) {
    let a: BTreeMap<_, _> = a.collect();
    let b: BTreeMap<_, _> = b.collect();
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, x) in &a {
        assert!(agg_eq(x, b[k]), "{k:?}: {x:?} != {:?}", b[k]);
        assert_eq!(
            sa.first_last(k).is_some(),
            sb.first_last(k).is_some(),
            "{k:?}"
        );
    }
}

fn same(a: &Snapshot, b: &Snapshot) {
    same_series((a, a.series()), (b, b.series()));
    same_series((a, a.interval_series()), (b, b.interval_series()));
}

#[test]
fn a_bundle_records_what_add_many_records_across_collections() {
    let (slow, fast) = (Registry::new(), Registry::new());
    slow.enable_raw();
    fast.enable_raw();
    let metrics = http_metrics(&slow);
    let tags = tag_sets(&slow);
    assert_eq!(tags, tag_sets(&fast));
    let bundle: Bundle = fast.bundle(&metrics);
    assert_eq!(bundle.len(), 12);
    assert!(bundle.metrics().eq(metrics.iter().copied()));
    let mut seed = 0x2545_f491_u64;
    let mut samples = 0u64;
    let mut collections = 0;
    for i in 0..6000u64 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let t = tags[(seed >> 33) as usize % tags.len()];
        // closed-model responses have eleven samples, open-model ones twelve
        let n = if i % 3 == 0 { 12 } else { 11 };
        // one request (http_reqs), then its figures
        let values: Vec<f64> = (0..n)
            .map(|j| if j == 0 { 1.0 } else { value(i, j) })
            .collect();
        let pairs: Vec<(MetricId, f64)> = metrics
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect();
        slow.add_many(t, &pairs);
        fast.add_bundle(&bundle, t, &values);
        samples += n as u64;
        // a plain sample on a series the bundle also records shares its slot
        if i % 7 == 0 {
            slow.add(metrics[1], t, 3.25);
            fast.add(metrics[1], t, 3.25);
            samples += 1;
        }
        if i % 997 == 0 {
            same(&slow.collect(), &fast.collect());
            collections += 1;
        }
    }
    assert_eq!(collections, 7);
    let (a, b) = (slow.collect(), fast.collect());
    same(&a, &b);
    assert_eq!(a.count("http_reqs", &[]), 6000.0);
    assert_eq!(b.count("http_reqs", &[]), 6000.0);
    // three of the five tag sets are failures (404, 503, connection refused)
    let failures = b
        .series()
        .filter(|(k, _)| b.first_last(k).is_some())
        .count();
    assert_eq!(failures, 3 * 12);
    // raw samples: the same series and values, in the same order
    let raw = |r: &Registry| -> Vec<(u64, u64)> {
        r.take_raw()
            .into_iter()
            .map(|s| (s.key.packed(), s.value.to_bits()))
            .collect()
    };
    let (ra, rb) = (raw(&slow), raw(&fast));
    assert_eq!(ra.len() as u64, samples);
    assert_eq!(ra, rb);
}

#[test]
fn a_response_right_after_a_collection_lands_in_the_next_interval() {
    let reg = Registry::new();
    let metrics = http_metrics(&reg);
    let bundle = reg.bundle(&metrics);
    let t = tag_sets(&reg)[0];
    reg.add_bundle(&bundle, t, &[1.0, 10.0]);
    reg.add_bundle(&bundle, t, &[1.0, 20.0]);
    let first = reg.collect();
    assert_eq!(first.count_interval("http_reqs", &[]), 2.0);
    reg.add_bundle(&bundle, t, &[1.0, 30.0]);
    let second = reg.collect();
    assert_eq!(second.count_interval("http_reqs", &[]), 1.0);
    assert_eq!(second.count("http_reqs", &[]), 3.0);
    let d = second
        .aggregate_interval("http_req_duration", &[])
        .expect("interval trend");
    let d = d.trend().expect("trend");
    assert_eq!((d.count, d.min, d.max), (1, 30.0, 30.0));
    let all = second.aggregate("http_req_duration", &[]).expect("trend");
    let all = all.trend().expect("trend");
    assert_eq!(
        (all.count, all.sum, all.min, all.max),
        (3, 60.0, 10.0, 30.0)
    );
    // only the values given were recorded: no blocked time, no corrected duration
    assert!(second.aggregate("http_req_blocked", &[]).is_none());
    assert!(second
        .aggregate("http_req_duration_corrected", &[])
        .is_none());
    // nothing new: an empty interval, the same totals
    let third = reg.collect();
    assert_eq!(third.count_interval("http_reqs", &[]), 0.0);
    assert_eq!(third.count("http_reqs", &[]), 3.0);
}

#[test]
fn failure_series_of_a_bundle_keep_their_first_and_last_times() {
    let reg = Registry::new();
    let metrics = http_metrics(&reg);
    let bundle = reg.bundle(&metrics);
    let tags = tag_sets(&reg);
    let (ok, bad) = (tags[0], tags[3]);
    let key = |m: MetricId, t: TagSetId| SeriesKey { metric: m, tags: t };
    reg.add_bundle(&bundle, ok, &[1.0, 5.0]);
    let t0 = reg.epoch().elapsed();
    reg.add_bundle(&bundle, bad, &[1.0, 5.0, 0.0]);
    std::thread::sleep(Duration::from_millis(30));
    let t1 = reg.epoch().elapsed();
    reg.add_bundle(&bundle, bad, &[1.0, 6.0]);
    let t2 = reg.epoch().elapsed();
    let s = reg.collect();
    let (first, last) = s.first_last(&key(metrics[0], bad)).expect("times kept");
    assert!(t0 <= first && first <= t1 && t1 <= last && last <= t2);
    // one clock read per call: every sample of a response shares its time
    assert_eq!(s.first_last(&key(metrics[1], bad)), Some((first, last)));
    assert_eq!(
        s.first_last(&key(metrics[2], bad)).map(|x| x.0),
        Some(first)
    );
    assert_eq!(s.first_last(&key(metrics[0], ok)), None);
    // after a collection the bundle's remembered slots still keep times
    std::thread::sleep(Duration::from_millis(5));
    reg.add_bundle(&bundle, bad, &[1.0]);
    let (f2, l2) = reg
        .collect()
        .first_last(&key(metrics[0], bad))
        .expect("times");
    assert_eq!(f2, first);
    assert!(l2 > last);
}

#[test]
fn another_registrys_bundle_still_records_exactly() {
    let (a, b) = (Registry::new(), Registry::new());
    let foreign = a.bundle(&http_metrics(&a));
    // b's own bundle gets b's first number, as `foreign` got a's
    let own = b.bundle(&http_metrics(&b));
    let t = tag_sets(&b)[1];
    for _ in 0..10 {
        b.add_bundle(&foreign, t, &[1.0, 2.0]);
        b.add_bundle(&own, t, &[1.0, 4.0]);
    }
    let s = b.collect();
    assert_eq!(s.count("http_reqs", &[]), 20.0);
    let d = s.aggregate("http_req_duration", &[]).expect("trend");
    assert_eq!(d.trend().map(|t| (t.count, t.sum)), Some((20, 60.0)));
    assert_eq!(a.collect().count("http_reqs", &[]), 0.0);
}

#[test]
fn bundles_from_many_threads_merge_exactly() {
    let reg = Registry::new();
    let metrics = http_metrics(&reg);
    let bundle = reg.bundle(&metrics);
    let tags = tag_sets(&reg);
    let handles: Vec<_> = (0..4u64)
        .map(|k| {
            let (reg, bundle, tags) = (reg.clone(), bundle.clone(), tags.clone());
            std::thread::spawn(move || {
                for i in 0..2500u64 {
                    let t = tags[((i + k) % tags.len() as u64) as usize];
                    let values: Vec<f64> = (0..11)
                        .map(|j| if j == 0 { 1.0 } else { ((i + j) % 50) as f64 })
                        .collect();
                    reg.add_bundle(&bundle, t, &values);
                }
            })
        })
        .collect();
    // collections while the threads record
    for _ in 0..20 {
        reg.collect();
        std::thread::yield_now();
    }
    for h in handles {
        h.join().expect("thread");
    }
    let s = reg.collect();
    assert_eq!(s.count("http_reqs", &[]), 10_000.0);
    let d = s.aggregate("http_req_duration", &[]).expect("trend");
    let d = d.trend().expect("trend");
    // (i + 1) % 50 over i in 0..2500 is 50 rounds of 0..=49: 50 × 1225 per thread
    assert_eq!((d.count, d.sum, d.max), (10_000, 4.0 * 50.0 * 1225.0, 49.0));
    assert_eq!(s.count("data_received", &[]), 4.0 * 50.0 * 1225.0);
}
