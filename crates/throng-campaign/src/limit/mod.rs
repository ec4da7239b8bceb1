//! The breaking-point search (`throng find-limit`): drive one scenario at rising load
//! levels, each held for a while and judged by the `--until` criteria and the plan's
//! thresholds; stop at the first failing level, bisect between the last good and the first
//! bad level `refine` times, and (with `recovery`) measure how long the target takes to meet
//! the criteria again once the load drops to half the max sustainable load.
//!
//! Each level is its own run ([`throng_run::run`]) of the plan reshaped to one
//! `constant-arrival-rate` (or `constant-vus`) scenario, so every level has exact figures
//! and its own HDR histogram.
pub mod criteria;
mod level;
pub mod matrix;
pub mod recovery;

pub use criteria::{Criterion, CriterionError};
pub use level::{Shape, MAX_DROPPED_SHARE};

use std::str::FromStr;
use std::time::Duration;
use throng_plan::Plan;
use throng_report::limit::{BreakingPoint, LevelResult, LimitReport, LIMIT_VERSION};
use tokio_util::sync::CancellationToken;

/// How levels grow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Multiply (`x2`).
    Times(f64),
    /// Add (`+100`).
    Plus(f64),
}

impl FromStr for Step {
    type Err = String;

    fn from_str(s: &str) -> Result<Step, String> {
        let t = s.trim();
        let num = |n: &str| n.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        if let Some(n) = t.strip_prefix(['x', '*']).and_then(num) {
            if n > 1.0 {
                return Ok(Step::Times(n));
            }
        } else if let Some(n) = t.strip_prefix('+').and_then(num) {
            if n > 0.0 {
                return Ok(Step::Plus(n));
            }
        }
        Err(format!(
            "--step `{s}`: expected a factor above 1 (`x2`, `x1.5`) or an increment above 0 (`+100`)"
        ))
    }
}

impl Step {
    /// The level after `v`.
    pub fn next(self, v: f64) -> f64 {
        match self {
            Step::Times(f) => v * f,
            Step::Plus(n) => v + n,
        }
    }
}

/// What drives the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadModel {
    /// An arrival rate (iterations a second): open model, the default.
    #[default]
    ArrivalRate,
    /// A number of looping VUs (closed model, `--vus`).
    Vus,
}

impl LoadModel {
    /// `it/s` or `VUs`.
    pub fn unit(self) -> &'static str {
        match self {
            LoadModel::ArrivalRate => "it/s",
            LoadModel::Vus => "VUs",
        }
    }
}

/// A search.
#[derive(Debug, Clone)]
pub struct LimitSpec {
    /// The scenario to drive.
    pub scenario: String,
    /// The first level.
    pub from: f64,
    /// The highest level.
    pub to: f64,
    /// How levels grow.
    pub step: Step,
    /// How long each level runs.
    pub hold: Duration,
    /// The criteria every level must meet (besides the plan's thresholds).
    pub until: Vec<Criterion>,
    /// Bisections between the last good and the first bad level.
    pub refine: u32,
    /// Pause between levels.
    pub cooldown: Duration,
    /// Measure the recovery after the breaking level, watching at most this long.
    pub recovery: Option<Duration>,
    /// Arrival rate or VUs.
    pub model: LoadModel,
    /// Most VUs a level may use (default: enough for 10 s of latency at the level's rate).
    pub max_vus: Option<u64>,
}

/// A search that could not run.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The settings make no sense (names the flag).
    #[error("{0}")]
    Invalid(String),
    /// A level's run could not start.
    #[error("level {load}: {source}")]
    Run {
        /// The level.
        load: f64,
        /// Why.
        #[source]
        source: throng_run::RunError,
    },
}

impl LimitSpec {
    fn check(&self, plan: &Plan) -> Result<(), LimitError> {
        let bad = |s: String| Err(LimitError::Invalid(s));
        if !plan.scenarios.iter().any(|s| s.name == self.scenario) {
            let known: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
            return bad(format!(
                "--scenario `{}`: the plan has no such scenario (its scenarios: {})",
                self.scenario,
                known.join(", ")
            ));
        }
        if !(self.from > 0.0 && self.from.is_finite()) {
            return bad("--from must be a number above 0".into());
        }
        if !(self.to >= self.from && self.to.is_finite()) {
            return bad(format!("--to must be at least --from ({})", self.from));
        }
        if self.hold.is_zero() {
            return bad("--hold must be longer than 0s".into());
        }
        Ok(())
    }

    /// The step search's levels, `from` to `to`.
    pub fn levels(&self) -> Vec<f64> {
        let mut v = vec![self.from];
        loop {
            let n = self.step.next(v[v.len() - 1]);
            if n > self.to * (1.0 + 1e-9) || v.len() >= 1000 {
                break;
            }
            v.push(n);
        }
        v
    }
}

/// Where the search is; `progress` hears about each level as it ends.
pub struct LimitRun<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The plan file (or the URL of `--quick`), for the reports.
    pub plan_file: &'a str,
    /// The search.
    pub spec: &'a LimitSpec,
    /// Cancelled on Ctrl-C: the level running stops, the report says so.
    pub interrupt: CancellationToken,
}

/// Runs the search.
pub async fn find_limit(
    run: LimitRun<'_>,
    progress: &mut dyn FnMut(&LevelResult),
) -> Result<LimitReport, LimitError> {
    let LimitRun {
        plan,
        plan_file,
        spec,
        interrupt,
    } = run;
    spec.check(plan)?;
    let started = std::time::Instant::now();
    let unit = spec.model.unit();
    let mut report = LimitReport {
        version: LIMIT_VERSION,
        plan: plan.name.clone(),
        plan_file: plan_file.to_string(),
        scenario: spec.scenario.clone(),
        unit: unit.to_string(),
        started_at: jiff::Timestamp::now().to_string(),
        hold_s: spec.hold.as_secs_f64(),
        criteria: spec
            .until
            .iter()
            .map(|c| c.source.clone())
            .chain(
                plan.thresholds
                    .items
                    .iter()
                    .map(|t| format!("{} {}", t.key, t.expr.source)),
            )
            .collect(),
        levels: Vec::new(),
        max_sustainable: None,
        breaking: None,
        recovery: None,
        interrupted: false,
    };
    let mut run_level = async |load: f64, refine: bool, report: &mut LimitReport| {
        if !report.levels.is_empty() && !spec.cooldown.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(spec.cooldown) => {}
                _ = interrupt.cancelled() => {}
            }
        }
        let shaped = level::shape(plan, spec, load, spec.hold);
        let start_s = started.elapsed().as_secs_f64();
        let out = level::run(shaped, plan_file, &interrupt)
            .await
            .map_err(|source| LimitError::Run { load, source })?;
        let mut l = level::summarise(&out.results, spec, load, start_s);
        l.refine = refine;
        progress(&l);
        report.levels.push(l.clone());
        Ok::<LevelResult, LimitError>(l)
    };
    let mut good: Option<f64> = None;
    let mut bad: Option<LevelResult> = None;
    for load in spec.levels() {
        if interrupt.is_cancelled() {
            break;
        }
        let l = run_level(load, false, &mut report).await?;
        if l.ok {
            good = Some(load);
        } else {
            bad = Some(l);
            break;
        }
    }
    // recovery right after the breaking level, at half the load known to hold
    if let (Some(watch), Some(g), Some(_)) = (spec.recovery, good, &bad) {
        if !interrupt.is_cancelled() {
            let load = g / 2.0;
            let shaped = level::shape(plan, spec, load, watch);
            let out = level::run(shaped, plan_file, &interrupt)
                .await
                .map_err(|source| LimitError::Run { load, source })?;
            let mut rec = recovery::judge(
                &spec.until,
                load,
                &out.results.seconds,
                out.results.run.duration_ms / 1000.0,
            );
            rec.requests = out
                .results
                .value(throng_metrics::names::HTTP_REQS, "count")
                .unwrap_or(0.0) as u64;
            report.recovery = Some(rec);
        }
    }
    if let (Some(mut lo), Some(b)) = (good, bad.clone()) {
        let mut hi = b;
        for _ in 0..spec.refine {
            if interrupt.is_cancelled() {
                break;
            }
            let mid = (lo + hi.offered) / 2.0;
            let mid = match spec.model {
                LoadModel::Vus => mid.round(),
                LoadModel::ArrivalRate => mid,
            };
            if mid <= lo || mid >= hi.offered {
                break;
            }
            let l = run_level(mid, true, &mut report).await?;
            if l.ok {
                lo = mid;
            } else {
                hi = l;
            }
        }
        good = Some(lo);
        bad = Some(hi);
    }
    report.max_sustainable = good;
    report.breaking = bad.map(|b| BreakingPoint {
        load: b.offered,
        criteria: b.failed,
        generator_bottleneck: b.generator_bottleneck,
    });
    report.interrupted = interrupt.is_cancelled();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_levels() {
        assert_eq!("x2".parse(), Ok(Step::Times(2.0)));
        assert_eq!("+50".parse(), Ok(Step::Plus(50.0)));
        for bad in ["2", "x1", "+0", "x", "*-2", "+abc"] {
            assert!(bad.parse::<Step>().is_err(), "{bad}");
        }
        let spec = LimitSpec {
            scenario: "s".into(),
            from: 50.0,
            to: 5000.0,
            step: Step::Times(2.0),
            hold: Duration::from_secs(30),
            until: Vec::new(),
            refine: 0,
            cooldown: Duration::ZERO,
            recovery: None,
            model: LoadModel::ArrivalRate,
            max_vus: None,
        };
        assert_eq!(
            spec.levels(),
            [50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0]
        );
        let spec = LimitSpec {
            step: Step::Plus(100.0),
            from: 100.0,
            to: 400.0,
            ..spec
        };
        assert_eq!(spec.levels(), [100.0, 200.0, 300.0, 400.0]);
    }
}
