//! Reshaping a validated plan from the command line: `--scenario` picks scenarios,
//! `--vus/--duration/--iterations/--rate` turn the dials of each scenario's executor, and
//! `--profile` gives every scenario a named load shape.
//!
//! k6 replaces all of a script's scenarios by one default scenario when `--vus`,
//! `--duration` or `--iterations` are given. A plan's scenarios carry different flows, so
//! throng keeps each scenario (its flow, start time and executor) and changes only the
//! numbers; docs/plan.md ("Profiles and overrides") has the table.
use crate::limits::{check_rate, check_vus};
use crate::model::{ActionAt, Executor, Plan, Stage, WhenBusy};
use std::time::Duration;

/// The built-in profiles of `--profile`, in the order documented.
pub const BUILTIN_PROFILES: [&str; 5] = ["smoke", "load", "stress", "spike", "soak"];

/// How long the `smoke` profile runs unless `--duration` says otherwise.
pub const SMOKE_DURATION: Duration = Duration::from_secs(60);

/// How long the `soak` profile runs unless `--duration` says otherwise.
pub const SOAK_DURATION: Duration = Duration::from_secs(4 * 3600);

/// How many steps the `stress` profile climbs (to this many times N).
pub const STRESS_STEPS: u32 = 5;

/// What the command line asks of a plan's load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--vus N`.
    pub vus: Option<u64>,
    /// `--duration D`.
    pub duration: Option<Duration>,
    /// `--iterations N`.
    pub iterations: Option<u64>,
    /// `--rate R` (iterations a second).
    pub rate: Option<f64>,
    /// `--scenario NAME` (repeatable): run only these.
    pub scenarios: Vec<String>,
    /// `--profile NAME`: a built-in profile or one of the plan's `profiles:`.
    pub profile: Option<String>,
    /// `--stages-scale F`: every duration of the load (stages, durations, start times,
    /// graceful stops, timeline offsets) multiplied by F, before the other overrides.
    pub stages_scale: Option<f64>,
    /// `--summary-trend-stats avg,p(99.9)`: the stats shown of each trend (k6's flag).
    pub summary_trend_stats: Option<Vec<String>>,
}

impl Overrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }
}

/// Applies `o` to `plan`: selects scenarios, then reshapes every remaining scenario's
/// executor. Errors are one line each, naming the flag.
pub fn apply_overrides(plan: &mut Plan, o: &Overrides) -> Result<(), String> {
    if o.vus == Some(0) {
        return Err("--vus must be at least 1".into());
    }
    if o.iterations == Some(0) {
        return Err("--iterations must be at least 1".into());
    }
    if o.duration.is_some_and(|d| d.is_zero()) {
        return Err("--duration must be longer than 0s".into());
    }
    if let Some(r) = o.rate {
        if !(r.is_finite() && r > 0.0) {
            return Err("--rate must be a number above 0".into());
        }
        check_rate("--rate", r, 1.0)?;
    }
    if let Some(v) = o.vus {
        check_vus("--vus", v, None)?;
    }
    if let Some(stats) = &o.summary_trend_stats {
        if let Some(bad) = stats
            .iter()
            .find(|s| !throng_metrics::threshold::Stat::is_trend_stat(s))
        {
            return Err(format!(
                "--summary-trend-stats: `{bad}` is not a trend stat (expected avg, min, med, max, count or p(N) with N from 0 to 100)"
            ));
        }
        if stats.is_empty() {
            return Err(
                "--summary-trend-stats: expected at least one stat, e.g. avg,p(95),p(99.9)".into(),
            );
        }
        plan.trend_stats.clone_from(stats);
    }
    if let Some(k) = o.stages_scale {
        if !(k.is_finite() && k > 0.0) {
            return Err("--stages-scale must be a number above 0".into());
        }
        scale_times(plan, k);
    }
    if !o.scenarios.is_empty() {
        let known: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
        for want in &o.scenarios {
            if !known.contains(&want.as_str()) {
                return Err(format!(
                    "--scenario `{want}`: the plan has no such scenario (its scenarios: {})",
                    known.join(", ")
                ));
            }
        }
        plan.scenarios.retain(|s| o.scenarios.contains(&s.name));
    }
    let mut shortcuts = o.clone();
    if let Some(p) = &o.profile {
        if BUILTIN_PROFILES.contains(&p.as_str()) {
            // the profile takes N and the length; --iterations makes no sense on top
            if o.iterations.is_some() {
                return Err(format!(
                    "--iterations does not combine with --profile {p} (a profile is a shape in time)"
                ));
            }
            for s in &mut plan.scenarios {
                s.executor = builtin_profile(p, &s.executor, o)
                    .map_err(|e| format!("scenario `{}`: {e}", s.name))?;
            }
            return check_timeline(plan);
        }
        let Some((_, ex)) = plan.profiles.iter().find(|(n, _)| n == p) else {
            let mut known: Vec<String> = BUILTIN_PROFILES.iter().map(|s| s.to_string()).collect();
            known.extend(plan.profiles.iter().map(|(n, _)| n.clone()));
            return Err(format!(
                "--profile `{p}`: no such profile (known: {})",
                known.join(", ")
            ));
        };
        let ex = ex.clone();
        for s in &mut plan.scenarios {
            s.executor = ex.clone();
        }
        shortcuts.profile = None;
    }
    let pooled = reshape_pool(plan, &shortcuts);
    for s in &mut plan.scenarios {
        let o = if pooled.contains(&s.name) {
            // the pool took --vus and --duration
            Overrides {
                vus: None,
                duration: None,
                ..shortcuts.clone()
            }
        } else {
            shortcuts.clone()
        };
        s.executor = reshape(&s.executor, &o).map_err(|e| format!("scenario `{}`: {e}", s.name))?;
    }
    check_timeline(plan)
}

/// `--stages-scale k`: every duration of every scenario (and every timeline offset) times
/// `k`; rates keep their time unit, so an arrival-rate scenario makes `k` times the arrivals.
fn scale_times(plan: &mut Plan, k: f64) {
    use Executor::*;
    let m = |d: &mut Duration| *d = d.mul_f64(k);
    for s in &mut plan.scenarios {
        m(&mut s.start_time);
        m(&mut s.graceful_stop);
        match &mut s.executor {
            SharedIterations { max_duration, .. } | PerVuIterations { max_duration, .. } => {
                m(max_duration)
            }
            ConstantVus { duration, .. }
            | ConstantArrivalRate { duration, .. }
            | ExternallyControlled { duration, .. } => m(duration),
            RampingVus {
                stages,
                graceful_ramp_down,
                ..
            } => {
                stages.iter_mut().for_each(|st| m(&mut st.duration));
                m(graceful_ramp_down);
            }
            RampingArrivalRate { stages, .. } => {
                stages.iter_mut().for_each(|st| m(&mut st.duration))
            }
        }
    }
    for a in &mut plan.timeline {
        match &mut a.at {
            ActionAt::At(at) => m(at),
            ActionAt::After { delay, .. } => m(delay),
        }
    }
}

/// Locust's pool keeps its meaning under `--vus` (the pool's users) and `--duration` (its
/// run time): the users are split again over the weighted scenarios left after
/// `--scenario`. The names of the scenarios reshaped this way.
fn reshape_pool(plan: &mut Plan, o: &Overrides) -> Vec<String> {
    let names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    let Some(pool) = &mut plan.locust else {
        return Vec::new();
    };
    pool.weights.retain(|(n, _)| names.contains(n));
    if pool.weights.is_empty() {
        plan.locust = None;
        return Vec::new();
    }
    let reshaped = o.vus.is_some() || o.duration.is_some() || !o.scenarios.is_empty();
    if !reshaped {
        return Vec::new();
    }
    if let Some(v) = o.vus {
        pool.users = v;
    }
    if let Some(d) = o.duration {
        pool.run_time = d;
    }
    let executors = crate::compile::locust::pool_executors(pool);
    let mut pooled = Vec::new();
    for s in &mut plan.scenarios {
        if let Some(e) = executors.get(&s.name) {
            s.executor = e.clone();
            pooled.push(s.name.clone());
        }
    }
    pooled
}

/// Every timeline action given a time (`at:`) still starts before the reshaped load ends.
fn check_timeline(plan: &Plan) -> Result<(), String> {
    let end = plan
        .scenarios
        .iter()
        .map(|s| s.start_time + s.executor.duration())
        .max()
        .unwrap_or_default();
    for a in &plan.timeline {
        if let ActionAt::At(at) = a.at {
            if at > end {
                return Err(format!(
                    "timeline action `{}` at {} is past the end of the reshaped load ({}): it would never run",
                    a.name,
                    crate::format_duration(at),
                    crate::format_duration(end)
                ));
            }
        }
    }
    Ok(())
}

/// The load dial of an executor: its VUs (closed executors) or its peak rate per second
/// (arrival-rate executors).
fn load_of(e: &Executor) -> f64 {
    match e {
        Executor::ConstantArrivalRate {
            rate, time_unit, ..
        } => rate / time_unit.as_secs_f64(),
        Executor::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            ..
        } => stages.iter().map(|s| s.target).fold(*start_rate, f64::max) / time_unit.as_secs_f64(),
        other => other.max_vus() as f64,
    }
}

fn is_open(e: &Executor) -> bool {
    matches!(
        e,
        Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. }
    )
}

/// `--vus/--duration/--iterations/--rate` on one executor (see the module docs).
pub fn reshape(e: &Executor, o: &Overrides) -> Result<Executor, String> {
    use Executor::*;
    if let Some(n) = o.iterations {
        if o.rate.is_some() {
            return Err(
                "--iterations and --rate do not combine (one bounds work, the other paces it)"
                    .into(),
            );
        }
        let max_duration = o.duration.unwrap_or(match e {
            SharedIterations { max_duration, .. } | PerVuIterations { max_duration, .. } => {
                *max_duration
            }
            _ => Duration::from_secs(600),
        });
        return Ok(SharedIterations {
            vus: o.vus.unwrap_or_else(|| e.max_vus().max(1)).min(n),
            iterations: n,
            max_duration,
        });
    }
    let mut e = e.clone();
    if let Some(r) = o.rate {
        match &mut e {
            ConstantArrivalRate {
                rate, time_unit, ..
            } => *rate = r * time_unit.as_secs_f64(),
            RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => {
                let peak = stages.iter().map(|s| s.target).fold(*start_rate, f64::max);
                if peak > 0.0 {
                    let k = r * time_unit.as_secs_f64() / peak;
                    *start_rate *= k;
                    *stages = scale_targets(stages, k);
                }
            }
            closed => {
                // its VUs up front, and room for iterations of up to a second
                let vus = closed.max_vus().max(1);
                *closed = ConstantArrivalRate {
                    rate: r,
                    time_unit: Duration::from_secs(1),
                    duration: closed.duration(),
                    pre_allocated_vus: vus,
                    max_vus: vus.max(r.ceil() as u64),
                    when_busy: WhenBusy::Drop,
                };
            }
        }
    }
    if let Some(n) = o.vus {
        match &mut e {
            SharedIterations {
                vus, iterations, ..
            } => *vus = n.min(*iterations),
            PerVuIterations { vus, .. } | ConstantVus { vus, .. } => *vus = n,
            RampingVus {
                start_vus, stages, ..
            } => {
                let peak = stages
                    .iter()
                    .map(|s| s.target)
                    .fold(*start_vus as f64, f64::max);
                if peak > 0.0 {
                    let k = n as f64 / peak;
                    *start_vus = (*start_vus as f64 * k).round() as u64;
                    *stages = scale_targets(stages, k);
                }
            }
            ConstantArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            }
            | RampingArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            } => {
                *pre_allocated_vus = n;
                *max_vus = (*max_vus).max(n);
            }
            ExternallyControlled { vus, max_vus, .. } => {
                *vus = n;
                *max_vus = (*max_vus).max(n);
            }
        }
    }
    if let Some(d) = o.duration {
        match &mut e {
            SharedIterations { max_duration, .. } | PerVuIterations { max_duration, .. } => {
                *max_duration = d
            }
            ConstantVus { duration, .. }
            | ConstantArrivalRate { duration, .. }
            | ExternallyControlled { duration, .. } => *duration = d,
            RampingVus { stages, .. } | RampingArrivalRate { stages, .. } => {
                *stages = scale_durations(stages, d)
            }
        }
    }
    check_vus("the reshaped scenario's VUs", e.max_vus(), None)?;
    Ok(e)
}

fn scale_targets(stages: &[Stage], k: f64) -> Vec<Stage> {
    stages
        .iter()
        .map(|s| Stage {
            duration: s.duration,
            target: (s.target * k * 1e6).round() / 1e6,
        })
        .collect()
}

/// Stretches (or shrinks) the stages to last `d` in all, keeping their proportions.
fn scale_durations(stages: &[Stage], d: Duration) -> Vec<Stage> {
    let total: f64 = stages.iter().map(|s| s.duration.as_secs_f64()).sum();
    if total <= 0.0 {
        return stages.to_vec();
    }
    stages
        .iter()
        .map(|s| Stage {
            duration: d.mul_f64(s.duration.as_secs_f64() / total),
            target: s.target,
        })
        .collect()
}

fn stage(duration: Duration, target: f64) -> Stage {
    Stage { duration, target }
}

/// A built-in profile's shape for a scenario now running `e` (see [`BUILTIN_PROFILES`]).
/// N is `--vus` (closed executors) or `--rate` (arrival-rate ones), else the scenario's own
/// load; the length is `--duration`, else the scenario's.
pub fn builtin_profile(name: &str, e: &Executor, o: &Overrides) -> Result<Executor, String> {
    let open = is_open(e);
    let n = if open {
        o.rate.unwrap_or_else(|| load_of(e))
    } else {
        o.vus
            .map(|v| v as f64)
            .unwrap_or_else(|| load_of(e))
            .max(1.0)
    };
    let d = o.duration.unwrap_or_else(|| e.duration());
    let (pre, max) = match e {
        Executor::ConstantArrivalRate {
            pre_allocated_vus,
            max_vus,
            ..
        }
        | Executor::RampingArrivalRate {
            pre_allocated_vus,
            max_vus,
            ..
        } => (
            o.vus.unwrap_or(*pre_allocated_vus),
            o.vus.unwrap_or(*max_vus).max(*max_vus),
        ),
        _ => (1, 1),
    };
    let when_busy = match e {
        Executor::ConstantArrivalRate { when_busy, .. }
        | Executor::RampingArrivalRate { when_busy, .. } => *when_busy,
        _ => WhenBusy::Drop,
    };
    let shape = |stages: Vec<Stage>, grow: u64| {
        if open {
            Executor::RampingArrivalRate {
                start_rate: 0.0,
                time_unit: Duration::from_secs(1),
                stages,
                pre_allocated_vus: pre.saturating_mul(grow),
                max_vus: max.saturating_mul(grow),
                when_busy,
            }
        } else {
            Executor::RampingVus {
                start_vus: 0,
                stages,
                graceful_ramp_down: Duration::from_secs(30),
            }
        }
    };
    let out = match name {
        "smoke" => Executor::ConstantVus {
            vus: 1,
            duration: o.duration.unwrap_or(SMOKE_DURATION),
        },
        "load" => shape(vec![stage(d.mul_f64(0.1), n), stage(d.mul_f64(0.9), n)], 1),
        "stress" => {
            let step = d / STRESS_STEPS;
            let mut st = Vec::new();
            for k in 1..=STRESS_STEPS {
                st.push(stage(step.mul_f64(0.1), n * k as f64));
                st.push(stage(step.mul_f64(0.9), n * k as f64));
            }
            shape(st, STRESS_STEPS as u64)
        }
        "spike" => shape(
            vec![
                stage(Duration::ZERO, n),
                stage(d, n),
                stage(Duration::ZERO, 0.0),
            ],
            1,
        ),
        "soak" => {
            let d = o.duration.unwrap_or(SOAK_DURATION);
            if open {
                Executor::ConstantArrivalRate {
                    rate: n,
                    time_unit: Duration::from_secs(1),
                    duration: d,
                    pre_allocated_vus: pre,
                    max_vus: max,
                    when_busy,
                }
            } else {
                Executor::ConstantVus {
                    vus: n.round() as u64,
                    duration: d,
                }
            }
        }
        other => return Err(format!("unknown profile `{other}`")),
    };
    check_vus(&format!("--profile {name}"), out.max_vus(), None)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cv(vus: u64, s: u64) -> Executor {
        Executor::ConstantVus {
            vus,
            duration: Duration::from_secs(s),
        }
    }

    #[test]
    fn shapes() {
        let o = Overrides::default();
        let e = builtin_profile("load", &cv(10, 100), &o).expect("ok");
        assert_eq!(e.max_vus(), 10);
        assert_eq!(e.duration(), Duration::from_secs(100));
        let e = builtin_profile("stress", &cv(10, 100), &o).expect("ok");
        assert_eq!(e.max_vus(), 50);
        let e = builtin_profile("smoke", &cv(10, 100), &o).expect("ok");
        assert_eq!(e, cv(1, 60));
        let e = builtin_profile("soak", &cv(10, 100), &o).expect("ok");
        assert_eq!(e, cv(10, 4 * 3600));
        let o = Overrides {
            vus: Some(4),
            duration: Some(Duration::from_secs(2)),
            ..Overrides::default()
        };
        let e = builtin_profile("spike", &cv(10, 100), &o).expect("ok");
        assert_eq!(e.max_vus(), 4);
        assert_eq!(e.duration(), Duration::from_secs(2));
    }

    #[test]
    fn dials() {
        let o = Overrides {
            rate: Some(20.0),
            ..Overrides::default()
        };
        let e = reshape(&cv(3, 10), &o).expect("ok");
        assert!(matches!(e, Executor::ConstantArrivalRate { rate, .. } if rate == 20.0));
        let o = Overrides {
            iterations: Some(7),
            vus: Some(2),
            ..Overrides::default()
        };
        assert!(matches!(
            reshape(&cv(3, 10), &o).expect("ok"),
            Executor::SharedIterations {
                vus: 2,
                iterations: 7,
                ..
            }
        ));
    }

    #[test]
    fn stages_scale_multiplies_every_duration() {
        let text = "name: t\nbase_url: http://127.0.0.1:9\nscenarios:\n  ramp:\n    executor: ramping-vus\n    stages: [ { duration: 5m, target: 3 }, { duration: 20m, target: 3 } ]\n    gracefulRampDown: 30s\n    gracefulStop: 10s\n    startTime: 1m\n    flow: [ { get: / } ]\n  rate:\n    executor: constant-arrival-rate\n    rate: 10\n    timeUnit: 1s\n    duration: 100s\n    preAllocatedVUs: 1\n    flow: [ { get: / } ]\n";
        let mut plan = crate::load_str(text, std::path::Path::new("t.yaml"), &Default::default())
            .expect("plan");
        let o = Overrides {
            stages_scale: Some(0.002),
            ..Overrides::default()
        };
        apply_overrides(&mut plan, &o).expect("scaled");
        let ms = Duration::from_millis;
        let ramp = &plan.scenarios[0];
        assert_eq!(ramp.start_time, ms(120));
        assert_eq!(ramp.graceful_stop, ms(20));
        match &ramp.executor {
            Executor::RampingVus {
                stages,
                graceful_ramp_down,
                ..
            } => {
                assert_eq!(
                    stages.iter().map(|s| s.duration).collect::<Vec<_>>(),
                    [ms(600), ms(2400)]
                );
                assert_eq!(stages[1].target, 3.0);
                assert_eq!(*graceful_ramp_down, ms(60));
            }
            other => panic!("{other:?}"),
        }
        // the rate keeps its time unit: a fifth of a second at 10/s
        assert!(matches!(
            plan.scenarios[1].executor,
            Executor::ConstantArrivalRate { rate, time_unit, duration, .. }
                if rate == 10.0 && time_unit == Duration::from_secs(1) && duration == ms(200)
        ));
        let bad = Overrides {
            stages_scale: Some(-1.0),
            ..Overrides::default()
        };
        assert!(apply_overrides(&mut plan, &bad).is_err());
    }
}
