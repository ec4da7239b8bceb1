//! Recovery after the breaking level: the load drops to half the max sustainable load and
//! each one-second window of that run is judged by the criteria that can be read per
//! second (latency percentiles from the window's own histogram, and the failed share).
use super::criteria::Criterion;
use throng_metrics::names;
use throng_metrics::threshold::Stat;
use throng_report::limit::RecoveryResult;
use throng_report::series::SecondPoint;

/// A window's value of `stat`, where a second can give it.
fn window_stat(c: &Criterion, w: &SecondPoint) -> Option<f64> {
    match (c.metric.as_str(), c.expr.stat) {
        (names::HTTP_REQ_FAILED, Stat::Rate) => Some(w.failures as f64 / (w.reqs as f64).max(1.0)),
        (names::HTTP_REQ_DURATION, Stat::P(q)) => {
            let listed = [(50.0, w.p50), (90.0, w.p90), (95.0, w.p95), (99.0, w.p99)];
            Some(match listed.iter().find(|(k, _)| *k == q) {
                Some((_, v)) => *v,
                None => w
                    .percentiles
                    .iter()
                    .find(|(k, _)| *k >= q)
                    .map(|p| p.1)
                    .unwrap_or(w.max),
            })
        }
        (names::HTTP_REQ_DURATION, Stat::Med) => Some(w.p50),
        (names::HTTP_REQ_DURATION, Stat::Max) => Some(w.max),
        _ => None,
    }
}

/// Whether a window with requests meets every criterion it can be judged by.
pub fn window_ok(criteria: &[Criterion], w: &SecondPoint) -> bool {
    w.reqs > 0
        && criteria
            .iter()
            .all(|c| window_stat(c, w).map(|v| c.expr.passes(v)).unwrap_or(true))
}

/// Judges the recovery run's seconds: the time from the drop to the start of the first
/// window that met the criteria.
pub fn judge(
    criteria: &[Criterion],
    load: f64,
    seconds: &[SecondPoint],
    watched_s: f64,
) -> RecoveryResult {
    let windows: Vec<(f64, bool)> = seconds
        .iter()
        .map(|w| (w.t, window_ok(criteria, w)))
        .collect();
    let recovered_after_s = seconds
        .iter()
        .zip(&windows)
        .find(|(_, (_, ok))| *ok)
        .map(|(w, _)| ((w.t - w.span_s).max(0.0) * 10.0).round() / 10.0);
    RecoveryResult {
        load,
        recovered_after_s,
        watched_s,
        requests: seconds.iter().map(|w| w.reqs).sum(),
        windows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(t: f64, reqs: u64, failures: u64, p95: f64) -> SecondPoint {
        SecondPoint {
            t,
            span_s: 1.0,
            reqs,
            failures,
            p95,
            ..SecondPoint::default()
        }
    }

    #[test]
    fn the_first_window_meeting_every_criterion_ends_the_recovery() {
        let c: Vec<Criterion> = ["p(95)<500", "rate<0.01"]
            .iter()
            .map(|s| s.parse().expect("criterion"))
            .collect();
        let secs = [
            second(1.0, 100, 100, 1.0),
            second(2.0, 100, 3, 2.0),
            second(3.0, 100, 0, 900.0),
            second(4.0, 100, 0, 20.0),
            second(5.0, 100, 0, 20.0),
        ];
        let r = judge(&c, 50.0, &secs, 5.0);
        assert_eq!(r.recovered_after_s, Some(3.0));
        assert_eq!(
            r.windows.iter().map(|w| w.1).collect::<Vec<_>>(),
            [false, false, false, true, true]
        );
        // a window without requests says nothing
        assert!(!window_ok(&c, &second(1.0, 0, 0, 0.0)));
        assert_eq!(judge(&c, 50.0, &secs[..3], 3.0).recovered_after_s, None);
    }
}
