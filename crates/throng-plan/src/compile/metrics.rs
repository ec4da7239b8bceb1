//! `metrics:` (custom counters, gauges, rates and trends, like k6's `k6/metrics`), the
//! `add:` of a request that feeds them, and `expected_statuses:` (which responses are not
//! failures, like k6's `http.setResponseCallback(http.expectedStatuses(...))`).
use super::{lc, Cx};
use crate::model::{CustomMetric, MetricAdd, StatusSet};
use crate::raw::{Json, S};
use crate::template::Template;
use std::collections::BTreeMap;
use throng_metrics::MetricKind;

/// Names a step's `add:` templates may read beside the flow's variables: this response's
/// status and duration (ms). Every VU keeps this many slots after its variables.
pub const RESPONSE_VARS: [&str; 2] = ["status", "duration"];

/// Declares every metric of `metrics:`.
pub(super) fn compile_metrics(cx: &mut Cx<'_>, raw: &BTreeMap<String, S<Json>>) {
    for (name, spec) in raw {
        let at = cx.src.find_from(1, 1, &format!("{name}:"));
        let at = if at == (1, 1) { lc(spec) } else { at };
        if !super::is_ident(name) {
            cx.err_at(
                at,
                format!("metrics: `{name}` is not a metric name (letters, digits and _, not starting with a digit)"),
            );
            continue;
        }
        if throng_metrics::Builtin::lookup(name).is_some() {
            cx.err_at(
                at,
                format!("metrics: `{name}` is a built-in metric: choose another name"),
            );
            continue;
        }
        let (kind, time) = match &spec.value {
            Json::String(k) => (k.as_str(), false),
            Json::Object(o) => {
                for k in o.keys() {
                    if k != "type" && k != "time" {
                        cx.err(
                            spec,
                            format!("metrics: unknown option `{k}`: expected type, time"),
                        );
                    }
                }
                let time = match o.get("time") {
                    None => false,
                    Some(Json::Bool(b)) => *b,
                    Some(_) => {
                        cx.err(spec, "metrics: time: expected true or false");
                        false
                    }
                };
                (o.get("type").and_then(|t| t.as_str()).unwrap_or(""), time)
            }
            _ => ("", false),
        };
        let kind = match kind {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "rate" => MetricKind::Rate,
            "trend" => MetricKind::Trend,
            other => {
                cx.err(
                    spec,
                    format!("metrics: `{name}` has type `{other}`: expected counter, gauge, rate or trend"),
                );
                continue;
            }
        };
        if time && kind != MetricKind::Trend {
            cx.err(spec, "metrics: `time: true` applies to trends");
        }
        cx.custom_metrics.push(CustomMetric {
            name: name.clone(),
            kind,
            time,
        });
    }
}

/// A request's `add:`: each metric must be declared under `metrics:`.
pub(super) fn compile_add(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<String, S<String>>,
    vars: &[String],
) -> Vec<MetricAdd> {
    if raw.is_empty() {
        return Vec::new();
    }
    let mut scope: Vec<String> = vars.to_vec();
    scope.extend(RESPONSE_VARS.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    for (name, value) in raw {
        let Some(kind) = cx
            .custom_metrics
            .iter()
            .find(|m| &m.name == name)
            .map(|m| m.kind)
        else {
            let declared: Vec<&str> = cx.custom_metrics.iter().map(|m| m.name.as_str()).collect();
            cx.err(
                value,
                format!(
                    "add: no metric `{name}` is declared: add it under `metrics:` ({})",
                    if declared.is_empty() {
                        "e.g. `metrics: { errors: rate }`".to_string()
                    } else {
                        format!("declared: {}", declared.join(", "))
                    }
                ),
            );
            continue;
        };
        let t: Template = cx.tpl(value, &scope);
        out.push(MetricAdd {
            metric: name.clone(),
            kind,
            value: t,
        });
    }
    out
}

/// `expected_statuses:` — codes (`429`) and ranges (`"200..299"`).
pub(super) fn compile_statuses(cx: &mut Cx<'_>, raw: &S<Vec<S<Json>>>) -> Option<StatusSet> {
    if raw.value.is_empty() {
        cx.err(
            raw,
            "expected_statuses: expected at least one status or range, e.g. [200..299, 429]",
        );
        return None;
    }
    let mut set = Vec::new();
    let mut ok = true;
    for item in &raw.value {
        let range = match &item.value {
            Json::Number(n) => n.as_u64().map(|v| (v, v)),
            Json::String(s) => match s.split_once("..") {
                Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()),
                None => s.trim().parse().ok().map(|v| (v, v)),
            },
            _ => None,
        };
        match range {
            Some((a, b)) if (100..=599).contains(&a) && (100..=599).contains(&b) && a <= b => {
                set.push((a as u16, b as u16));
            }
            _ => {
                cx.err(
                    item,
                    "expected_statuses: expected a status (100-599) or a range like 200..299",
                );
                ok = false;
            }
        }
    }
    ok.then_some(StatusSet(set))
}
