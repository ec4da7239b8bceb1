//! Builds the dashboard's frame from the run's state once a second.
use std::collections::BTreeMap;
use throng_live::dashboard::{DashAction, DashFrame, DashPoint, DashScenario, DashThreshold};
use throng_live::LiveView;
use throng_metrics::threshold::Verdict;
use throng_metrics::{ActionRecord, Agg, Snapshot, ThresholdSet};
use throng_report::series::SeriesRecorder;

/// Everything a frame is made of.
pub(crate) struct FrameInput<'a> {
    pub plan: &'a str,
    pub planned_s: f64,
    pub finished: bool,
    pub snap: &'a Snapshot,
    pub recorder: &'a SeriesRecorder,
    pub view: &'a LiveView,
    pub thresholds: &'a ThresholdSet,
    pub verdicts: &'a [Verdict],
    /// The timeline's actions so far (`timeline.records()`).
    pub actions: &'a [ActionRecord],
}

pub(crate) fn frame(i: FrameInput<'_>) -> DashFrame {
    let last = i.recorder.seconds().last().cloned().unwrap_or_default();
    let mut checks = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let b = i.snap.builtin();
    for (k, agg) in i.snap.series() {
        let tags = i.snap.tags(k.tags);
        match (k.metric, agg) {
            (m, Agg::Rate { trues, total }) if m == b.checks => {
                let e: &mut (u64, u64) = checks
                    .entry(tags.get("check").unwrap_or("").to_string())
                    .or_default();
                e.0 += trues;
                e.1 += total - trues;
            }
            (m, a) if m == b.http_reqs => {
                let n = a.count() as u64;
                *statuses
                    .entry(tags.get("status").unwrap_or("0").to_string())
                    .or_insert(0) += n;
                if let Some(e) = tags.get("error") {
                    *errors.entry(e.to_string()).or_insert(0) += n;
                }
            }
            _ => {}
        }
    }
    let count = |m| i.snap.count(m, &[]) as u64;
    DashFrame {
        status: if i.finished { "finished" } else { "running" }.into(),
        plan: i.plan.to_string(),
        elapsed: i.view.elapsed.as_secs_f64(),
        planned: i.planned_s,
        point: DashPoint {
            t: last.t,
            rps: last.reqs as f64,
            fps: last.failures as f64,
            p50: last.p50,
            p95: last.p95,
            p99: last.p99,
            vus: last.vus,
        },
        scenarios: i
            .view
            .scenarios
            .iter()
            .map(|s| DashScenario {
                name: s.name.clone(),
                vus: s.vus,
                progress: s.fraction(),
                rps: s.rps,
                p95: s.p95_ms,
            })
            .collect(),
        thresholds: i
            .thresholds
            .items
            .iter()
            .zip(i.verdicts)
            .map(|(t, v)| DashThreshold {
                metric: t.key.clone(),
                expression: t.expr.source.clone(),
                ok: v.ok,
                observed: v.observed,
            })
            .collect(),
        checks,
        statuses,
        errors,
        phases: i.recorder.phase_progress(),
        total_reqs: count(b.http_reqs),
        total_failed: count(b.http_req_failed),
        total_p95: i
            .snap
            .aggregate(b.http_req_duration, &[])
            .and_then(|a| a.trend().map(|t| t.percentile(95.0)))
            .unwrap_or(0.0),
        actions: i.actions.iter().map(DashAction::from).collect(),
        monitors: i
            .snap
            .sampled_all()
            .filter(|(n, _)| n.starts_with("monitor:"))
            .map(|(n, st)| (n.clone(), (st.last.1, st.min, st.max)))
            .collect(),
    }
}
