//! Executor options written as templates, resolved once when the plan loads:
//! `rate: "{{env.TARGET_RPS}}"`, `duration: "{{env.DURATION | default('5m')}}"`.
//!
//! They go through the template language; what they may use is what is known at load.
use super::Cx;
use crate::raw::{RawNum, RawScenario, S};
use crate::template::{Scope, Template};
use std::collections::BTreeMap;

/// Resolved stages: `(duration, target)` pairs, spanned as written.
pub(super) type Stages = S<Vec<(S<String>, S<f64>)>>;

/// A scenario's executor options with every template resolved (the spans stay those of
/// the values as written).
pub(super) struct Opts {
    pub vus: Option<S<u64>>,
    pub iterations: Option<S<u64>>,
    pub start_vus: Option<S<u64>>,
    pub pre_allocated_vus: Option<S<u64>>,
    pub max_vus: Option<S<u64>>,
    pub rate: Option<S<f64>>,
    pub start_rate: Option<S<f64>>,
    pub duration: Option<S<String>>,
    pub max_duration: Option<S<String>>,
    pub graceful_ramp_down: Option<S<String>>,
    pub time_unit: Option<S<String>>,
    /// Stages as `(duration, target)`.
    pub stages: Option<Stages>,
    /// Whether any option failed to resolve (its error is already given).
    pub bad: bool,
}

fn respan<T, U>(s: &S<T>, value: U) -> S<U> {
    S {
        value,
        referenced: s.referenced,
        defined: s.defined,
    }
}

/// Resolves every option of `r`, giving an error for each that does not resolve.
pub(super) fn resolve(cx: &mut Cx<'_>, r: &RawScenario) -> Opts {
    let mut bad = false;
    let mut count = |cx: &mut Cx<'_>, v: &Option<S<RawNum>>, what: &str| {
        v.as_ref().and_then(|v| {
            let n = number(cx, v, what);
            match n {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 1e15 => Some(respan(v, n as u64)),
                Some(n) => {
                    cx.err(
                        v,
                        format!("{what} must be a whole number, 0 or more (got {n})"),
                    );
                    bad = true;
                    None
                }
                None => {
                    bad = true;
                    None
                }
            }
        })
    };
    let vus = count(cx, &r.vus, "vus");
    let iterations = count(cx, &r.iterations, "iterations");
    let start_vus = count(cx, &r.start_vus, "startVUs");
    let pre_allocated_vus = count(cx, &r.pre_allocated_vus, "preAllocatedVUs");
    let max_vus = count(cx, &r.max_vus, "maxVUs");
    let mut real = |cx: &mut Cx<'_>, v: &Option<S<RawNum>>, what: &str| {
        v.as_ref().and_then(|v| match number(cx, v, what) {
            Some(n) => Some(respan(v, n)),
            None => {
                bad = true;
                None
            }
        })
    };
    let rate = real(cx, &r.rate, "rate");
    let start_rate = real(cx, &r.start_rate, "startRate");
    let mut text = |cx: &mut Cx<'_>, v: &Option<S<String>>, what: &str| {
        v.as_ref().and_then(|v| match expand(cx, v, what) {
            Some(t) => Some(t),
            None => {
                bad = true;
                None
            }
        })
    };
    let duration = text(cx, &r.duration, "duration");
    let max_duration = text(cx, &r.max_duration, "maxDuration");
    let graceful_ramp_down = text(cx, &r.graceful_ramp_down, "gracefulRampDown");
    let time_unit = text(cx, &r.time_unit, "timeUnit");
    let stages = r.stages.as_ref().map(|st| {
        let mut out = Vec::new();
        for s in &st.value {
            let d = expand(cx, &s.duration, "stage duration");
            let t = number(cx, &s.target, "stage target");
            match (d, t) {
                (Some(d), Some(t)) => out.push((d, respan(&s.target, t))),
                _ => bad = true,
            }
        }
        respan(st, out)
    });
    Opts {
        vus,
        iterations,
        start_vus,
        pre_allocated_vus,
        max_vus,
        rate,
        start_rate,
        duration,
        max_duration,
        graceful_ramp_down,
        time_unit,
        stages,
        bad,
    }
}

/// A number option: as written, or its text resolved and parsed; `None` with an error
/// that names the option and the env value it came from.
pub(super) fn number(cx: &mut Cx<'_>, v: &S<RawNum>, what: &str) -> Option<f64> {
    match &v.value {
        RawNum::Number(n) => Some(*n),
        RawNum::Text(t) => match resolve_text(&cx.env, t) {
            Ok((s, from)) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Some(n),
                _ => {
                    let from = from
                        .map(|n| format!(" (env value {n})"))
                        .unwrap_or_default();
                    cx.err(v, format!("{what}: `{s}`{from} is not a number"));
                    None
                }
            },
            Err(e) => {
                cx.err(v, format!("{what}: {e}"));
                None
            }
        },
    }
}

/// A text option (a duration) with its templates resolved.
pub(super) fn expand(cx: &mut Cx<'_>, v: &S<String>, what: &str) -> Option<S<String>> {
    if !v.value.contains("{{") {
        return Some(respan(v, v.value.clone()));
    }
    match resolve_text(&cx.env, &v.value) {
        Ok((s, _)) => Some(respan(v, s)),
        Err(e) => {
            cx.err(v, format!("{what}: {e}"));
            None
        }
    }
}

/// Resolves the templates of an executor option through the template language, which
/// must be known at load (`{{env.NAME}}`, `{{env.NAME | default('x')}}`, constants): the
/// result and the last env name used (for error messages).
pub(crate) fn resolve_text(
    env: &BTreeMap<String, String>,
    text: &str,
) -> Result<(String, Option<String>), String> {
    let t = Template::compile(text, &Scope::new(env, &[], &[])).map_err(|errs| {
        errs.into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let out = t.render_constant().ok_or_else(|| {
        format!(
            "`{text}`: executor options are fixed when the plan loads, so they take only env values and constants (`{{{{env.NAME}}}}`, `{{{{env.NAME | default('value')}}}}`)"
        )
    })?;
    let used = env_names(text).last().map(|s| s.to_string());
    Ok((out, used))
}

/// The env names `text` mentions (`env.NAME`), in order.
fn env_names(text: &str) -> Vec<&str> {
    text.match_indices("env.")
        .map(|(i, _)| {
            let rest = &text[i + 4..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_default() {
        let env: BTreeMap<String, String> = [("RPS".to_string(), "50".to_string())].into();
        assert_eq!(resolve_text(&env, "{{env.RPS}}").expect("ok").0, "50");
        assert_eq!(
            resolve_text(&env, "{{ env.D | default('5m') }}")
                .expect("ok")
                .0,
            "5m"
        );
        assert_eq!(
            resolve_text(&env, "{{env.RPS | default(\"7\")}}")
                .expect("ok")
                .0,
            "50"
        );
        assert!(resolve_text(&env, "{{env.NOPE}}")
            .expect_err("an error")
            .contains("`NOPE` is not set"));
        assert!(resolve_text(&env, "{{vu}}").is_err());
        assert!(resolve_text(&env, "{{env.RPS | upper}}").is_err());
        assert!(resolve_text(&env, "{{env.RPS").is_err());
    }
}
