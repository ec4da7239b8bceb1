//! A scenario's executor: the YAML options mapped onto [`throng_engine::Executor`]. Which
//! executors exist and which options each accepts come from the engine
//! ([`throng_engine::executor_options`]); here they are checked and converted.
use super::options::{resolve, Opts, Stages};
use super::{lc, Cx};
use crate::limits::{check_rate, check_vus};
use crate::model::{Executor, Stage, WhenBusy};
use crate::raw::{RawScenario, S};
use std::time::Duration;

/// The scenario's executor named `exec`, or `None` (with errors given) when its options do
/// not fit. Options may be `{{env.NAME}}` templates ([`super::options`]).
pub(super) fn compile_executor(
    cx: &mut Cx<'_>,
    r: &RawScenario,
    exec: &S<String>,
) -> Option<Executor> {
    let ex = exec.value.as_str();
    // which options each executor accepts (k6 rejects the others)
    let Some(allowed) = throng_engine::executor_options(ex) else {
        cx.err(
            exec,
            format!(
                "unknown executor `{ex}`: expected one of {}",
                throng_engine::EXECUTOR_NAMES.join(", ")
            ),
        );
        return None;
    };
    let present: [(&str, Option<(usize, usize)>); 11] = [
        ("vus", r.vus.as_ref().map(lc)),
        ("iterations", r.iterations.as_ref().map(lc)),
        ("duration", r.duration.as_ref().map(lc)),
        ("maxDuration", r.max_duration.as_ref().map(lc)),
        ("stages", r.stages.as_ref().map(lc)),
        ("startVUs", r.start_vus.as_ref().map(lc)),
        ("gracefulRampDown", r.graceful_ramp_down.as_ref().map(lc)),
        ("rate", r.rate.as_ref().map(lc)),
        ("startRate", r.start_rate.as_ref().map(lc)),
        ("timeUnit", r.time_unit.as_ref().map(lc)),
        ("preAllocatedVUs", r.pre_allocated_vus.as_ref().map(lc)),
    ];
    let o: Opts = resolve(cx, r);
    let mut bad = false;
    let extra = [
        ("maxVUs", r.max_vus.as_ref().map(lc)),
        ("when_busy", r.when_busy.as_ref().map(lc)),
    ];
    for (opt, at) in present.iter().chain(extra.iter()) {
        if let Some(at) = at {
            if !allowed.contains(opt) {
                cx.err_at(
                    *at,
                    format!(
                        "option `{opt}` does not apply to executor {ex} (its options: {}, plus {})",
                        allowed.join(", "),
                        throng_engine::COMMON_OPTIONS.join(", ")
                    ),
                );
                bad = true;
            }
        }
    }
    if o.bad {
        // the unresolved options have their errors; a "needs X" on top would mislead
        return None;
    }
    let at_exec = lc(exec);
    let positive =
        |cx: &mut Cx<'_>, v: &Option<S<u64>>, what: &str, default: Option<u64>| -> Option<u64> {
            match v {
                Some(v) if v.value == 0 => {
                    cx.err(v, format!("{what} must be at least 1"));
                    None
                }
                // VU counts hold connections, so they meet the VU ceiling and the
                // open-file limit; other counts (iterations) need neither
                Some(v) if what == "iterations" => Some(v.value),
                Some(v) => match check_vus(what, v.value, cx.open_files) {
                    Ok(()) => Some(v.value),
                    Err(e) => {
                        cx.err(v, e);
                        None
                    }
                },
                None => {
                    if default.is_none() {
                        cx.err_at(at_exec, format!("executor {ex} needs `{what}`"));
                    }
                    default
                }
            }
        };
    let required_dur = |cx: &mut Cx<'_>, v: &Option<S<String>>, what: &str| -> Option<Duration> {
        match v {
            Some(s) => {
                let d = cx.dur(s, what)?;
                if d.is_zero() {
                    cx.err(s, format!("{what} must be longer than 0s"));
                    return None;
                }
                Some(d)
            }
            None => {
                cx.err_at(
                    at_exec,
                    format!("executor {ex} needs `{what}` (e.g. `30s`)"),
                );
                None
            }
        }
    };
    let out = match ex {
        "shared-iterations" | "per-vu-iterations" => {
            let vus = positive(cx, &o.vus, "vus", Some(1));
            let iterations = positive(cx, &o.iterations, "iterations", Some(1));
            let max_duration = cx.opt_dur(&o.max_duration, "maxDuration", Duration::from_secs(600));
            let (vus, iterations) = (vus?, iterations?);
            if ex == "shared-iterations" {
                if iterations < vus {
                    if let Some(v) = &o.vus {
                        cx.err(
                            v,
                            format!("shared-iterations: {vus} vus is more than the {iterations} iterations to share"),
                        );
                    }
                }
                Executor::SharedIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            } else {
                Executor::PerVuIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            }
        }
        "constant-vus" => {
            let vus = positive(cx, &o.vus, "vus", Some(1));
            let duration = required_dur(cx, &o.duration, "duration");
            Executor::ConstantVus {
                vus: vus?,
                duration: duration?,
            }
        }
        "externally-controlled" => {
            let vus = positive(cx, &o.vus, "vus", Some(1));
            // zero (the default): until the run is stopped
            let duration = cx.opt_dur(&o.duration, "duration", Duration::ZERO);
            let max_vus = max_vus(cx, &o.max_vus, vus, "vus");
            Executor::ExternallyControlled {
                vus: vus?,
                max_vus: max_vus?,
                duration,
            }
        }
        "ramping-vus" => {
            let open_files = cx.open_files;
            let stages = compile_stages(cx, &o.stages, at_exec, ex, &|t| {
                check_vus("stage target", t.ceil() as u64, open_files)
            });
            let start_vus = o.start_vus.as_ref().map(|v| v.value).unwrap_or(1);
            if let Some(v) = &o.start_vus {
                if let Err(e) = check_vus("startVUs", v.value, cx.open_files) {
                    cx.err(v, e);
                }
            }
            let graceful_ramp_down = cx.opt_dur(
                &o.graceful_ramp_down,
                "gracefulRampDown",
                Duration::from_secs(30),
            );
            Executor::RampingVus {
                start_vus,
                stages: stages?,
                graceful_ramp_down,
            }
        }
        "constant-arrival-rate" | "ramping-arrival-rate" => {
            let time_unit = cx.opt_dur(&o.time_unit, "timeUnit", Duration::from_secs(1));
            if time_unit.is_zero() {
                if let Some(t) = &o.time_unit {
                    cx.err(t, "timeUnit must be longer than 0s");
                }
            }
            let pre = positive(cx, &o.pre_allocated_vus, "preAllocatedVUs", None);
            let when_busy = match r.when_busy.as_ref().map(|w| w.value.as_str()) {
                None | Some("drop") => WhenBusy::Drop,
                Some("queue") => WhenBusy::Queue,
                Some(other) => {
                    if let Some(w) = &r.when_busy {
                        cx.err(w, format!("when_busy `{other}`: expected drop or queue"));
                    }
                    WhenBusy::Drop
                }
            };
            let max_vus = max_vus(cx, &o.max_vus, pre, "preAllocatedVUs");
            let unit_s = time_unit.as_secs_f64();
            if ex == "constant-arrival-rate" {
                let rate = match &o.rate {
                    Some(v) if v.value > 0.0 && v.value.is_finite() => {
                        match check_rate("rate", v.value, unit_s) {
                            Ok(()) => Some(v.value),
                            Err(e) => {
                                cx.err(v, e);
                                None
                            }
                        }
                    }
                    Some(v) => {
                        cx.err(v, "rate must be a number above 0");
                        None
                    }
                    None => {
                        cx.err_at(at_exec, "executor constant-arrival-rate needs `rate`");
                        None
                    }
                };
                let duration = required_dur(cx, &o.duration, "duration");
                Executor::ConstantArrivalRate {
                    rate: rate?,
                    time_unit,
                    duration: duration?,
                    pre_allocated_vus: pre?,
                    max_vus: max_vus?,
                    when_busy,
                }
            } else {
                let stages = compile_stages(cx, &o.stages, at_exec, ex, &|t| {
                    check_rate("stage target", t, unit_s)
                });
                let start_rate = match &o.start_rate {
                    Some(v) if v.value < 0.0 || !v.value.is_finite() => {
                        cx.err(v, "startRate must be 0 or more");
                        0.0
                    }
                    Some(v) => match check_rate("startRate", v.value, unit_s) {
                        Ok(()) => v.value,
                        Err(e) => {
                            cx.err(v, e);
                            0.0
                        }
                    },
                    None => 0.0,
                };
                Executor::RampingArrivalRate {
                    start_rate,
                    time_unit,
                    stages: stages?,
                    pre_allocated_vus: pre?,
                    max_vus: max_vus?,
                    when_busy,
                }
            }
        }
        _ => return None,
    };
    (!bad).then_some(out)
}

/// `maxVUs`: at least `floor` (the VUs the executor starts with, named `floor_name`) and
/// within the VU limit; when not given, `floor`.
fn max_vus(
    cx: &mut Cx<'_>,
    max: &Option<S<u64>>,
    floor: Option<u64>,
    floor_name: &str,
) -> Option<u64> {
    match (max, floor) {
        (Some(m), Some(f)) if m.value < f => {
            cx.err(
                m,
                format!("maxVUs ({}) is below {floor_name} ({f})", m.value),
            );
            None
        }
        (Some(m), _) => match check_vus("maxVUs", m.value, cx.open_files) {
            Ok(()) => Some(m.value),
            Err(e) => {
                cx.err(m, e);
                None
            }
        },
        (None, f) => f,
    }
}

/// `stages:` of a ramping executor; `check_target` bounds each target (VUs or a rate).
fn compile_stages(
    cx: &mut Cx<'_>,
    stages: &Option<Stages>,
    at_exec: (usize, usize),
    ex: &str,
    check_target: &dyn Fn(f64) -> Result<(), String>,
) -> Option<Vec<Stage>> {
    let Some(st) = stages else {
        cx.err_at(
            at_exec,
            format!("executor {ex} needs `stages` (e.g. `[{{duration: 30s, target: 10}}]`)"),
        );
        return None;
    };
    if st.value.is_empty() {
        cx.err(
            st,
            "stages is empty: expected at least one `{duration, target}`",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (duration, target) in &st.value {
        let d = cx.dur(duration, "stage duration");
        if target.value < 0.0 || !target.value.is_finite() {
            cx.err(target, "stage target must be 0 or more");
            ok = false;
        } else if let Err(e) = check_target(target.value) {
            cx.err(target, e);
            ok = false;
        }
        match d {
            Some(d) => out.push(Stage {
                duration: d,
                target: target.value,
            }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}
