//! One load level: the plan reshaped to drive only the scenario at that load for the hold,
//! run through [`throng_run::run`], then summarised as a [`LevelResult`].
use super::{LimitSpec, LoadModel};
use std::time::Duration;
use throng_engine::{Executor, WhenBusy};
use throng_metrics::{names, ThresholdSet};
use throng_plan::Plan;
use throng_report::compare::trend_of;
use throng_report::limit::LevelResult;
use throng_report::series::PhaseResult;
use throng_report::Results;
use tokio_util::sync::CancellationToken;

/// A level that failed this share of its arrivals to start (no free VU) did not sustain
/// the load, whatever its latency.
pub const MAX_DROPPED_SHARE: f64 = 0.05;

/// The most VUs a level may use by default: enough for every arrival of 10 s of latency.
fn default_max_vus(rate: f64) -> u64 {
    ((rate * 10.0).ceil() as u64).clamp(10, 20_000)
}

/// How a level's scenarios are driven.
pub struct Shape<'a> {
    /// Arrival rate or VUs.
    pub model: LoadModel,
    /// `--max-vus`.
    pub max_vus: Option<u64>,
    /// The criteria, bound to each scenario driven.
    pub until: &'a [super::Criterion],
    /// How long.
    pub hold: Duration,
}

impl Shape<'_> {
    /// The shape of a search's levels.
    pub fn of(spec: &LimitSpec, hold: Duration) -> Shape<'_> {
        Shape {
            model: spec.model,
            max_vus: spec.max_vus,
            until: &spec.until,
            hold,
        }
    }

    fn executor(&self, load: f64) -> Executor {
        let max_vus = self.max_vus.unwrap_or_else(|| default_max_vus(load)).max(1);
        match self.model {
            LoadModel::ArrivalRate => Executor::ConstantArrivalRate {
                rate: load,
                time_unit: Duration::from_secs(1),
                duration: self.hold,
                pre_allocated_vus: ((load * 0.2).ceil() as u64).clamp(1, max_vus),
                max_vus,
                when_busy: WhenBusy::Drop,
            },
            LoadModel::Vus => Executor::ConstantVus {
                vus: (load.round() as u64).max(1),
                duration: self.hold,
            },
        }
    }

    /// `plan` reshaped so each named scenario runs at its load (the others removed, no
    /// timeline actions, the criteria of each scenario added to the plan's thresholds).
    pub fn apply(&self, plan: &Plan, loads: &[(String, f64)]) -> Plan {
        let mut p = plan.clone();
        p.scenarios
            .retain(|s| loads.iter().any(|(n, _)| *n == s.name));
        p.timeline.clear();
        for sc in &mut p.scenarios {
            sc.start_time = Duration::ZERO;
            if let Some((_, load)) = loads.iter().find(|(n, _)| *n == sc.name) {
                sc.executor = self.executor(*load);
            }
        }
        let mut items: Vec<_> = loads
            .iter()
            .flat_map(|(n, _)| self.until.iter().map(move |c| c.threshold(n)))
            .collect();
        items.extend(plan.thresholds.items.iter().cloned());
        p.thresholds = ThresholdSet { items };
        p
    }
}

/// `plan` reshaped for one level of `load` of the search's scenario.
pub fn shape(plan: &Plan, spec: &LimitSpec, load: f64, hold: Duration) -> Plan {
    Shape::of(spec, hold).apply(plan, &[(spec.scenario.clone(), load)])
}

/// The failed thresholds of a run, as a level reports them: `p(95)<500 (observed 812.4)`
/// (the metric named unless it is the latency or the failed share).
pub fn failed_criteria(r: &Results) -> Vec<String> {
    r.thresholds
        .iter()
        .filter(|t| !t.ok)
        .map(|t| {
            format!(
                "{}{} (observed {})",
                if t.metric.starts_with(names::HTTP_REQ_DURATION)
                    || t.metric.starts_with(names::HTTP_REQ_FAILED)
                {
                    String::new()
                } else {
                    format!("{} ", t.metric)
                },
                t.expression,
                throng_metrics::threshold::fmt_num((t.observed * 1000.0).round() / 1000.0)
            )
        })
        .collect()
}

/// Runs one level; `Err` is a run that could not start.
pub async fn run(
    plan: Plan,
    plan_file: &str,
    interrupt: &CancellationToken,
) -> Result<throng_run::RunOutcome, throng_run::RunError> {
    throng_run::run(crate::run_request(
        plan,
        plan_file,
        throng_run::ReportFiles::default(),
        interrupt,
    ))
    .await
}

/// The level's figures and verdict from its run's results.
pub fn summarise(r: &Results, spec: &LimitSpec, load: f64, start_s: f64) -> LevelResult {
    let secs = (r.run.duration_ms / 1000.0).max(1e-9);
    let hold = spec.hold.as_secs_f64().max(1e-9);
    let sc = r.scenarios.first();
    let started = sc.map(|s| s.completed + s.interrupted).unwrap_or(0);
    let dropped = sc.map(|s| s.dropped).unwrap_or(0);
    let mut phase = r.phases.first().cloned().unwrap_or_else(|| PhaseResult {
        scenario: spec.scenario.clone(),
        ..PhaseResult::default()
    });
    phase.start_s = start_s;
    phase.end_s = start_s + secs;
    let mut failed = failed_criteria(r);
    let offered_iters = match spec.model {
        LoadModel::ArrivalRate => load * hold,
        LoadModel::Vus => (started + dropped) as f64,
    };
    if offered_iters > 0.0 && dropped as f64 / offered_iters > MAX_DROPPED_SHARE {
        failed.push(format!(
            "dropped_iterations: {dropped} of {offered_iters:.0} arrivals not started (no free VU)"
        ));
    }
    if r.run.interrupted {
        failed.push("interrupted".into());
    }
    let gen = r.generator.clone().unwrap_or_default();
    let hdr = r
        .series
        .iter()
        .filter(|s| s.metric == names::HTTP_REQ_DURATION)
        .filter_map(|s| trend_of(s).ok())
        .reduce(|mut a, b| {
            a.merge(&b);
            a
        })
        .and_then(|t| throng_report::encode_hdr(&t.hist));
    LevelResult {
        phase,
        offered: load,
        achieved: started as f64 / hold,
        requests: r.value(names::HTTP_REQS, "count").unwrap_or(0.0) as u64,
        dropped,
        generator_cpu_pct: gen.cpu_avg_pct,
        generator_bottleneck: gen.bottleneck,
        generator_reasons: gen.reasons,
        ok: failed.is_empty(),
        failed,
        refine: false,
        hdr,
    }
}
