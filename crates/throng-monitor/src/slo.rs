//! SLOs: an objective judged per window over the run (`window: 1m`), met when it holds in
//! at least `target` of the windows.
//!
//! Objective grammar: `STAT(METRIC[{tag:value}]) OP NUMBER` over a k6 metric
//! (`rate(http_req_failed) < 0.001`, `p(95)(http_req_duration) < 600`), or over a monitor
//! series: `monitor:NAME.SERIES OP NUMBER` (every sample in the window must pass) or
//! `STAT(monitor:NAME.SERIES) OP NUMBER` with STAT one of value, min, max, avg, delta.
//! Windows start at the run's start; a last window shorter than half a window joins the
//! one before. A metric window without samples counts its stat as 0 (as a k6 threshold
//! does); a monitor window without samples is not met.
use crate::MonitorResults;
use std::collections::BTreeMap;
use std::time::Duration;
pub use throng_metrics::monitor::{Objective, Slo, SloResult, SloWindow, Subject};
use throng_metrics::threshold::Op;
use throng_metrics::{Agg, SampledStats, Snapshot};

/// Gathers each metric SLO's window aggregates from the once-a-second snapshots.
pub struct SloTracker {
    slos: Vec<Slo>,
    windows: Vec<BTreeMap<u64, Agg>>,
    prev_t: f64,
}

impl SloTracker {
    /// A tracker of `slos`.
    pub fn new(slos: Vec<Slo>) -> SloTracker {
        let n = slos.len();
        SloTracker {
            slos,
            windows: vec![BTreeMap::new(); n],
            prev_t: 0.0,
        }
    }

    /// Adds what arrived since the previous snapshot, taken `t` seconds into the run.
    pub fn tick(&mut self, snap: &Snapshot, t: f64) {
        let mid = (self.prev_t + t) / 2.0;
        self.prev_t = t;
        for (slo, wins) in self.slos.iter().zip(&mut self.windows) {
            let Subject::Metric { metric, filter } = &slo.objective.subject else {
                continue;
            };
            let Some(agg) = snap.aggregate_interval(metric.as_str(), filter) else {
                continue;
            };
            let idx = (mid / slo.window.as_secs_f64().max(1e-3)).floor().max(0.0) as u64;
            wins.entry(idx).and_modify(|a| a.merge(&agg)).or_insert(agg);
        }
    }

    /// Judges every SLO over a run of `elapsed` seconds.
    pub fn finish(self, elapsed: f64, monitors: &MonitorResults) -> Vec<SloResult> {
        self.slos
            .into_iter()
            .zip(self.windows)
            .map(|(slo, wins)| judge(&slo, wins, elapsed, monitors))
            .collect()
    }
}

fn monitor_points<'a>(m: &'a MonitorResults, series: &str) -> Option<&'a Vec<(f64, f64)>> {
    let (name, s) = series.strip_prefix("monitor:")?.split_once('.')?;
    m.monitors.iter().find(|r| r.name == name)?.series.get(s)
}

/// Larger is worse for `<`/`<=`, smaller for `>`/`>=`.
fn worse(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Gt | Op::Ge => a < b,
        _ => a > b,
    }
}

fn judge(slo: &Slo, mut wins: BTreeMap<u64, Agg>, elapsed: f64, mon: &MonitorResults) -> SloResult {
    let w = slo.window.as_secs_f64().max(1e-3);
    let n = ((elapsed / w - 0.5).ceil().max(1.0)) as u64;
    let late: Vec<u64> = wins.keys().copied().filter(|i| *i >= n).collect();
    for i in late {
        if let Some(a) = wins.remove(&i) {
            wins.entry(n - 1).and_modify(|x| x.merge(&a)).or_insert(a);
        }
    }
    let e = &slo.objective.expr;
    let mut per_window = Vec::new();
    for i in 0..n {
        let (from, to) = (
            i as f64 * w,
            if i + 1 == n {
                f64::INFINITY
            } else {
                (i + 1) as f64 * w
            },
        );
        let (value, met) = match &slo.objective.subject {
            Subject::Metric { .. } => {
                let v = wins
                    .get(&i)
                    .map(|a| e.stat.of(a, Duration::from_secs_f64(w)))
                    .unwrap_or(0.0);
                (Some(v), e.passes(v))
            }
            Subject::Monitor { series, each } => {
                let pts: Vec<(f64, f64)> = monitor_points(mon, series)
                    .map(|p| {
                        p.iter()
                            .filter(|(t, _)| *t >= from && *t < to)
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                if pts.is_empty() {
                    (None, false)
                } else if *each {
                    let worst =
                        pts.iter()
                            .map(|p| p.1)
                            .fold(None, |acc: Option<f64>, v| match acc {
                                Some(a) if !worse(e.op, v, a) => Some(a),
                                _ => Some(v),
                            });
                    (worst, pts.iter().all(|p| e.passes(p.1)))
                } else {
                    let mut s = SampledStats::default();
                    for (t, v) in &pts {
                        s.add(*t, *v);
                    }
                    let v = e.stat.of_sampled(&s);
                    (Some(v), e.passes(v))
                }
            }
        };
        per_window.push(SloWindow {
            start_s: from,
            value,
            met,
        });
    }
    let windows = per_window.len() as u64;
    let met = per_window.iter().filter(|w| w.met).count() as u64;
    let compliance = if windows == 0 {
        0.0
    } else {
        met as f64 / windows as f64
    };
    let worst = per_window
        .iter()
        .filter(|w| w.value.is_some())
        .fold(None::<&SloWindow>, |acc, x| match (acc, x.value) {
            (Some(a), Some(v)) if !worse(e.op, v, a.value.unwrap_or(v)) => Some(a),
            _ => Some(x),
        })
        .cloned();
    let allowed = (1.0 - slo.target) * windows as f64;
    let budget_consumed = (allowed > 1e-9).then(|| (windows - met) as f64 / allowed);
    SloResult {
        name: slo.name.clone(),
        objective: slo.objective.source.clone(),
        window_s: w,
        target: slo.target,
        windows,
        met,
        compliance,
        worst,
        budget_consumed,
        ok: windows > 0 && compliance + 1e-9 >= slo.target,
        per_window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MonitorReport;
    use throng_metrics::threshold::Stat;
    use throng_metrics::{Registry, TagSet};

    #[test]
    fn parses_objectives() {
        let o = Objective::parse("rate(http_req_failed) < 0.001").expect("ok");
        assert_eq!(o.expr.stat, Stat::Rate);
        assert!(
            matches!(o.subject, Subject::Metric { ref metric, .. } if metric == "http_req_failed")
        );
        let o = Objective::parse("p(95)(http_req_duration{name:ingest}) < 600").expect("ok");
        assert_eq!(o.expr.stat, Stat::P(95.0));
        assert!(matches!(o.subject, Subject::Metric { ref filter, .. } if filter.len() == 1));
        let o = Objective::parse("monitor:redis.queue < 1000").expect("ok");
        assert!(matches!(o.subject, Subject::Monitor { each: true, .. }));
        let o = Objective::parse("max(monitor:api.cpu) < 80%").expect("ok");
        assert!(matches!(o.subject, Subject::Monitor { each: false, .. }));
        for bad in [
            "",
            "http_req_failed < 1",
            "rate(http_req_failed)",
            "p(95)(x < 1",
            "p(95)(monitor:a.b) < 1",
            "zz(x) < 1",
        ] {
            assert!(Objective::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_of_a_metric_and_a_monitor() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::default());
        let slo = |o: &str| Slo {
            name: "x".into(),
            objective: Objective::parse(o).expect("ok"),
            window: Duration::from_secs(1),
            target: 0.9,
        };
        let mut tr = SloTracker::new(vec![
            slo("rate(http_req_failed) < 0.5"),
            slo("monitor:m.q < 10"),
        ]);
        for sec in 1..=6 {
            let failed = sec == 3 || sec == 4;
            for _ in 0..10 {
                reg.add(b.http_req_failed, t, if failed { 1.0 } else { 0.0 });
            }
            tr.tick(&reg.collect(), sec as f64 + 0.01);
        }
        tr.tick(&reg.collect(), 6.05);
        let mon = MonitorResults {
            monitors: vec![MonitorReport {
                name: "m".into(),
                series: [("q".to_string(), vec![(0.5, 1.0), (1.5, 50.0), (2.5, 2.0)])].into(),
                ..MonitorReport::default()
            }],
        };
        let r = tr.finish(6.05, &mon);
        assert_eq!((r[0].windows, r[0].met), (6, 4));
        assert!(!r[0].ok);
        assert_eq!(r[0].worst.as_ref().map(|w| w.value), Some(Some(1.0)));
        assert_eq!(
            r[0].budget_consumed.map(|b| (b * 1000.0).round()),
            Some(3333.0)
        );
        // windows 0 and 2 met; 1 has 50; 3..5 have no samples
        assert_eq!((r[1].windows, r[1].met), (6, 2));
        assert_eq!(r[1].worst.as_ref().and_then(|w| w.value), Some(50.0));
    }
}
