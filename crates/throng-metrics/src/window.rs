//! Windowed thresholds (`"http_req_failed": ["rate<0.05 over 1m"]`), alert-style: the
//! expression is judged on each full window of the run (windows start at the run's start)
//! and the threshold fails as soon as one full window breaks it. Its observed value is the
//! worst full window's (before the first full window: the window so far, which is not
//! judged).
//!
//! Each once-a-second snapshot's new samples go to the window holding the middle of its
//! interval (as SLO windows do); a window without samples counts its stat as 0, as a k6
//! threshold does. At the end, a window ending within half a second of the run's end
//! counts as full; a shorter last window is not judged.
use crate::threshold::{Op, ThresholdSet, Verdict};
use crate::{Agg, Snapshot};
use std::time::Duration;

/// One windowed threshold's state.
#[derive(Debug, Clone)]
struct Win {
    /// Index of the threshold in its set.
    index: usize,
    len: f64,
    /// The first window not judged yet, and what it holds so far.
    next: u64,
    current: Option<Agg>,
    judged: u64,
    failed: u64,
    worst: Option<f64>,
}

/// The windowed thresholds of a set, fed every snapshot.
#[derive(Debug, Clone, Default)]
pub struct WindowedThresholds {
    set: ThresholdSet,
    wins: Vec<Win>,
    prev_t: f64,
}

/// Larger is worse for `<`/`<=` (and `==`/`!=`), smaller for `>`/`>=`.
fn worse(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Gt | Op::Ge => a < b,
        _ => a > b,
    }
}

impl WindowedThresholds {
    /// The tracker of `set`'s windowed thresholds (those written with ` over DURATION`).
    pub fn new(set: &ThresholdSet) -> WindowedThresholds {
        let wins = set
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, t)| {
                t.expr.window.map(|w| Win {
                    index,
                    len: w.as_secs_f64().max(1.0),
                    next: 0,
                    current: None,
                    judged: 0,
                    failed: 0,
                    worst: None,
                })
            })
            .collect();
        WindowedThresholds {
            set: set.clone(),
            wins,
            prev_t: 0.0,
        }
    }

    /// Adds what arrived since the previous snapshot, taken `t` seconds into the run, and
    /// judges the windows that are over.
    pub fn tick(&mut self, snap: &Snapshot, t: f64) {
        let mid = (self.prev_t + t) / 2.0;
        self.prev_t = t;
        for w in &mut self.wins {
            let th = &self.set.items[w.index];
            let idx = (mid / w.len).floor().max(0.0) as u64;
            while w.next < idx {
                Self::judge(w, &self.set);
            }
            if let Some(agg) = snap.aggregate_interval(th.metric.as_str(), &th.filter) {
                match &mut w.current {
                    Some(a) => a.merge(&agg),
                    None => w.current = Some(agg),
                }
            }
        }
    }

    /// Judges the windows left at the end of a run of `elapsed` seconds (those ending
    /// within half a second of it).
    pub fn finish(&mut self, elapsed: f64) {
        for w in &mut self.wins {
            while (w.next + 1) as f64 * w.len <= elapsed + 0.5 {
                Self::judge(w, &self.set);
            }
        }
    }

    /// Judges window `w.next` and moves on to the next one.
    fn judge(w: &mut Win, set: &ThresholdSet) {
        let e = &set.items[w.index].expr;
        let v = w
            .current
            .take()
            .map(|a| e.stat.of(&a, Duration::from_secs_f64(w.len)))
            .unwrap_or(0.0);
        w.judged += 1;
        if !e.passes(v) {
            w.failed += 1;
        }
        if w.worst.is_none_or(|x| worse(e.op, v, x)) {
            w.worst = Some(v);
        }
        w.next += 1;
    }

    /// Replaces the verdicts of the windowed thresholds (from [`ThresholdSet::evaluate`] of
    /// the same set, which judges them over the whole run) by their windows' verdicts.
    pub fn apply(&self, verdicts: &mut [Verdict]) {
        for w in &self.wins {
            let Some(v) = verdicts.get_mut(w.index) else {
                continue;
            };
            let e = &self.set.items[w.index].expr;
            let observed = w.worst.unwrap_or_else(|| {
                w.current
                    .as_ref()
                    .map(|a| e.stat.of(a, Duration::from_secs_f64(w.len)))
                    .unwrap_or(0.0)
            });
            *v = Verdict {
                ok: w.failed == 0,
                observed,
            };
        }
    }

    /// `(windows judged, windows failed)` of the threshold at `index` of the set (`None`
    /// when it is not windowed).
    pub fn windows(&self, index: usize) -> Option<(u64, u64)> {
        self.wins
            .iter()
            .find(|w| w.index == index)
            .map(|w| (w.judged, w.failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::{Expr, Threshold};
    use crate::{Registry, TagSet};

    fn set(expr: &str) -> ThresholdSet {
        ThresholdSet {
            items: vec![Threshold {
                key: "http_req_failed".into(),
                metric: "http_req_failed".into(),
                filter: Vec::new(),
                expr: Expr::parse(expr).expect("parses"),
                abort_on_fail: false,
                delay_abort_eval: Duration::ZERO,
            }],
        }
    }

    /// Ten seconds, one snapshot a second; seconds 4 and 5 fail every request.
    fn run(expr: &str, elapsed: f64) -> (Verdict, (u64, u64)) {
        let (v, w) = run_any(expr, elapsed);
        (v, w.expect("windowed"))
    }

    fn run_any(expr: &str, elapsed: f64) -> (Verdict, Option<(u64, u64)>) {
        let reg = Registry::new();
        let failed = reg.builtin().http_req_failed;
        let tags = reg.intern(TagSet::default());
        let s = set(expr);
        let mut w = WindowedThresholds::new(&s);
        let mut t = 0.0;
        while t < elapsed {
            t += 1.0;
            let bad = (4.0..6.0).contains(&(t - 1.0));
            for i in 0..10 {
                reg.add(failed, tags, if bad || i == 0 { 1.0 } else { 0.0 });
            }
            w.tick(&reg.collect(), t.min(elapsed));
        }
        w.finish(elapsed);
        let mut v = s.evaluate(&reg.collect(), Duration::from_secs_f64(elapsed));
        w.apply(&mut v);
        (v[0].clone(), w.windows(0))
    }

    #[test]
    fn any_full_window_breaking_it_fails() {
        // 2 s windows: [4,6) is all failures
        let (v, (judged, failed)) = run("rate<0.5 over 2s", 10.0);
        assert_eq!((judged, failed), (5, 1));
        assert!(!v.ok);
        assert_eq!(v.observed, 1.0);
        // 5 s windows: [0,5) has 4 seconds of 1 failure and one of 10: 14/50; so has [5,10)
        let (v, (judged, failed)) = run("rate<0.5 over 5s", 10.0);
        assert_eq!((judged, failed), (2, 0));
        assert!(v.ok, "{v:?}");
        assert_eq!(v.observed, 0.28);
        // the whole run's rate passes the same bound written without a window
        let (v, w) = run_any("rate<0.5", 10.0);
        assert!(v.ok && w.is_none());
    }

    #[test]
    fn a_short_last_window_is_not_judged() {
        // 4 s windows over 10 s: [0,4) and [4,8) judged, [8,10) is not
        let (_, (judged, failed)) = run("rate<0.5 over 4s", 10.0);
        assert_eq!((judged, failed), (2, 1));
        // nothing full yet: passes, showing the window so far
        let (v, (judged, _)) = run("rate<0.5 over 1m", 10.0);
        assert_eq!(judged, 0);
        assert!(v.ok);
    }
}
