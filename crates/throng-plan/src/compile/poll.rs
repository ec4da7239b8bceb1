//! `until:` on a request (and `wait_for:` on the timeline): send the request again every
//! `every` until the checks in `until` pass, at most `max_tries` times or for `within`.
use super::check::compile_checks;
use super::{lc, Cx};
use crate::model::Poll;
use crate::raw::{RawStep, S};
use std::time::Duration;

/// The poll of a request step, if it has `until:`; `every`, `max_tries`, `within` and
/// `trend` without `until` are errors. A poll must be bounded.
pub(super) fn compile_poll(cx: &mut Cx<'_>, s: &S<RawStep>) -> Option<Poll> {
    let r = &s.value;
    let Some(until) = &r.until else {
        let stray = [
            ("every", r.every.as_ref().map(lc)),
            ("max_tries", r.max_tries.as_ref().map(lc)),
            ("within", r.within.as_ref().map(lc)),
            ("trend", r.trend.as_ref().map(lc)),
        ];
        let stray: Vec<(&str, (usize, usize))> = stray
            .iter()
            .filter_map(|(n, at)| at.map(|at| (*n, at)))
            .collect();
        if let Some(&(_, at)) = stray.first() {
            let names: Vec<String> = stray.iter().map(|(n, _)| format!("`{n}`")).collect();
            cx.err_at(
                at,
                format!(
                    "{} only {} with `until:` (send the request again until a check passes)",
                    names.join(", "),
                    if names.len() == 1 { "applies" } else { "apply" }
                ),
            );
        }
        return None;
    };
    if r.max_tries.is_none() && r.within.is_none() {
        cx.err(
            until,
            "until: a poll needs a bound: `max_tries: N` or `within: 30s`",
        );
    }
    if let Some(m) = &r.max_tries {
        if m.value == 0 {
            cx.err(m, "max_tries: expected 1 or more");
        }
    }
    let checks = compile_checks(cx, until);
    if checks.is_empty() {
        cx.err(
            until,
            "until: expected a condition, e.g. `{status: 200}` or `{body_matches: 'ready'}`",
        );
    }
    let label = format!(
        "until {}",
        checks
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Some(Poll {
        until: checks,
        every: cx.opt_dur(&r.every, "every", Duration::from_secs(1)),
        max_tries: r.max_tries.as_ref().map(|m| m.value),
        within: r.within.as_ref().and_then(|w| cx.dur(w, "within")),
        trend: r.trend.as_ref().and_then(|t| cx.define_trend(t)),
        label,
    })
}
