//! The per-second series stay bounded over a very long run, and the rolled-up series still
//! add up exactly; failure kinds carry the real time of their first and last occurrence.
use std::path::Path;
use std::time::{Duration, Instant};
use throng_metrics::{Registry, TagSet, TagSetId};
use throng_plan::{load_str, LoadOptions};
use throng_report::series::{SeriesRecorder, MAX_POINTS};

fn recorder(duration: &str) -> SeriesRecorder {
    let yaml = format!(
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: {duration}\n    flow:\n      - get: http://127.0.0.1:1/\n"
    );
    match load_str(&yaml, Path::new("p.yaml"), &LoadOptions::default()) {
        Ok(p) => SeriesRecorder::new(&p),
        Err(e) => panic!("plan: {e}"),
    }
}

struct Tags {
    ok_a: TagSetId,
    ok_b: TagSetId,
    bad: TagSetId,
}

fn tags(reg: &Registry) -> Tags {
    let t = |name: &str, status: &str, expected: &str| {
        reg.intern(TagSet::new([
            ("scenario", "s"),
            ("name", name),
            ("status", status),
            ("expected_response", expected),
        ]))
    };
    Tags {
        ok_a: t("a", "200", "true"),
        ok_b: t("b", "200", "true"),
        bad: t("a", "500", "false"),
    }
}

/// Two and a half hours of seconds through the whole recorder (snapshots of a real
/// registry): the recent seconds stay at 1 s, older ones are rolled up into 10 s and 60 s
/// buckets, points held stay within the cap, and the rolled-up series add up to the exact
/// totals. (The 48-hour and 40-day runs are in `rollup.rs`'s unit tests, which skip the
/// registry to stay fast in debug builds.)
#[test]
fn a_long_run_keeps_a_bounded_series_with_exact_totals() {
    const SECONDS: u64 = 9000;
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let tg = tags(&reg);
    let mut rec = recorder("150m");
    let (mut reqs, mut fails, mut a_reqs) = (0u64, 0u64, 0u64);
    let mut most_held = 0;
    let mut first_10s_max: f64 = 0.0;
    for s in 0..SECONDS {
        // a varying load: 1–4 requests of `a`, one of `b` every third second, a failure
        // every seventh (latencies under 2 ms keep the HDR histograms small)
        let n_a = 1 + s % 4;
        for i in 0..n_a {
            let ms = 0.05 + ((s * 31 + i * 7) % 190) as f64 / 100.0;
            if (3600..3610).contains(&s) {
                first_10s_max = first_10s_max.max(ms);
            }
            reg.add_many(tg.ok_a, &[(b.http_reqs, 1.0), (b.http_req_duration, ms)]);
        }
        a_reqs += n_a;
        reqs += n_a;
        if s % 3 == 0 {
            reg.add_many(tg.ok_b, &[(b.http_reqs, 1.0), (b.http_req_duration, 0.5)]);
            reqs += 1;
        }
        if s % 7 == 0 {
            reg.add_many(
                tg.bad,
                &[
                    (b.http_reqs, 1.0),
                    (b.http_req_failed, 1.0),
                    (b.http_req_duration, 0.01),
                ],
            );
            reqs += 1;
            fails += 1;
            a_reqs += 1;
            if (3600..3610).contains(&s) {
                first_10s_max = first_10s_max.max(0.01);
            }
        }
        rec.tick(&reg.collect(), (s + 1) as f64, 2);
        if s % 600 == 0 {
            most_held = most_held.max(rec.points_held());
        }
    }
    // held: five series (all, timeline, names a and b, scenario s), each within the cap
    assert!(rec.points_held() <= 5 * MAX_POINTS, "{}", rec.points_held());
    assert!(most_held <= 5 * MAX_POINTS, "{most_held}");
    assert_eq!(rec.seconds().len(), 900);
    let out = rec.finish();
    let n = out.seconds.len();
    assert!(n <= MAX_POINTS, "{n}");
    // the first hour in minutes, then 75 minutes of 10 s buckets, then the last 900 seconds
    assert_eq!(n, 60 + 450 + 900);
    assert_eq!(out.seconds.iter().filter(|p| p.span_s == 60.0).count(), 60);
    assert_eq!(out.seconds.iter().filter(|p| p.span_s == 10.0).count(), 450);
    assert_eq!(out.seconds[60].t, 3610.0);
    assert_eq!(out.seconds[60].max, first_10s_max);
    assert_eq!(out.seconds.iter().map(|p| p.reqs).sum::<u64>(), reqs);
    assert_eq!(out.seconds.iter().map(|p| p.failures).sum::<u64>(), fails);
    assert_eq!(
        out.seconds.iter().map(|p| p.span_s).sum::<f64>(),
        SECONDS as f64
    );
    // the last point's running totals are the run's
    let last = out.seconds.last().expect("points");
    assert_eq!((last.total_reqs, last.total_failures), (reqs, fails));
    assert_eq!(last.t, SECONDS as f64);
    // in time order, without overlap
    assert!(out.seconds.windows(2).all(|w| w[0].t < w[1].t));
    let a = &out.by_name["a"];
    assert!(a.len() <= MAX_POINTS);
    assert_eq!(a.iter().map(|p| p.reqs).sum::<u64>(), a_reqs);
    assert_eq!(
        out.by_name["b"].iter().map(|p| p.reqs).sum::<u64>(),
        SECONDS.div_ceil(3)
    );
    assert_eq!(
        out.by_scenario["s"].iter().map(|p| p.reqs).sum::<u64>(),
        reqs
    );
    assert_eq!(out.timeline.len(), n);
    assert_eq!(
        out.timeline
            .last()
            .map(|p| (p.http_reqs, p.http_req_failed)),
        Some((reqs, fails))
    );
    assert_eq!(out.phases[0].requests, reqs);
}

/// Failure kinds record when their first and last failure happened (to the millisecond,
/// counted from the run's start), not the once-a-second time of the report that saw them.
#[test]
fn failure_kinds_carry_the_real_first_and_last_times() {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let tg = tags(&reg);
    let timeout = reg.intern(TagSet::new([
        ("scenario", "s"),
        ("name", "b"),
        ("status", "0"),
        ("expected_response", "false"),
        ("error", "timeout"),
    ]));
    let mut rec = recorder("10s");
    let start = Instant::now();
    let since = |d: Duration| d.as_secs_f64();
    let fail = |t: TagSetId| {
        reg.add_many(t, &[(b.http_reqs, 1.0), (b.http_req_failed, 1.0)]);
        since(start.elapsed())
    };
    reg.add(b.http_reqs, tg.ok_a, 1.0);
    std::thread::sleep(Duration::from_millis(120));
    let first_500 = fail(tg.bad);
    std::thread::sleep(Duration::from_millis(200));
    let t_timeout = fail(timeout);
    std::thread::sleep(Duration::from_millis(150));
    let last_500 = fail(tg.bad);
    std::thread::sleep(Duration::from_millis(100));
    // the first report, about half a second in
    rec.tick(&reg.collect(), since(start.elapsed()), 2);
    std::thread::sleep(Duration::from_millis(50));
    let again_500 = fail(tg.bad);
    rec.tick(&reg.collect(), since(start.elapsed()), 2);
    let out = rec.finish();
    let kind = |k: &str| {
        out.failures
            .iter()
            .find(|f| f.kind == k)
            .unwrap_or_else(|| panic!("no {k} in {:?}", out.failures))
    };
    let h500 = kind("http 500");
    assert_eq!(h500.count, 3);
    assert_eq!(h500.names, vec!["a".to_string()]);
    let to = kind("timeout");
    assert_eq!(to.count, 1);
    // the recorder's clock starts a little after `start`'s (it is the registry's, mapped by
    // the report times), so each time is within a few ms of when the failure was recorded
    let near = |got: f64, want: f64| {
        assert!(
            (got - want).abs() < 0.005,
            "recorded at {want:.4}s, reported {got}s"
        );
        // milliseconds
        assert_eq!((got * 1000.0).round() / 1000.0, got);
    };
    near(h500.first_seen_s, first_500);
    near(h500.last_seen_s, again_500);
    near(to.first_seen_s, t_timeout);
    near(to.last_seen_s, t_timeout);
    assert!(h500.first_seen_s < to.first_seen_s && to.first_seen_s < last_500);
}

/// The results file's timeline of running totals is thinned the same way: a 48-hour
/// run's keeps the cap, ends on the run's totals, and a short run's keeps every second.
#[test]
fn the_timeline_of_a_long_run_is_thinned() {
    let point = |s: u64| throng_report::TimelinePoint {
        t: s as f64,
        vus: 3,
        http_reqs: 5 * s,
        http_req_failed: s / 7,
        iterations: 5 * s,
    };
    let long = throng_report::series::thin_timeline((1..=48 * 3600).map(point).collect());
    assert_eq!(long.len(), 24 + 1350 + 450 + 900);
    assert_eq!(long.last(), Some(&point(48 * 3600)));
    assert_eq!(long[0], point(3600));
    assert!(long.windows(2).all(|w| w[0].t < w[1].t));
    let short: Vec<_> = (1..=600).map(point).collect();
    assert_eq!(throng_report::series::thin_timeline(short.clone()), short);
}
