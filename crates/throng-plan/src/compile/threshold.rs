//! `thresholds:`: k6's keys (`metric{tag:value}`) and expressions, checked against the kind
//! of each built-in metric, with `abortOnFail` and `delayAbortEval`.
use super::{lc, Cx};
use crate::duration::parse_duration;
use crate::raw::{Json, S};
use std::collections::BTreeMap;
use std::time::Duration;
use throng_metrics::threshold::{parse_key, Expr};
use throng_metrics::{Builtin, Threshold, ThresholdSet};

/// Every threshold of the plan; a bad key or expression is reported and left out.
pub(super) fn compile_thresholds(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<String, S<Vec<S<Json>>>>,
) -> ThresholdSet {
    let mut set = ThresholdSet::default();
    for (key, list) in raw {
        let key_at = cx.src.find_from(1, 1, key.as_str());
        let key_at = if key_at == (1, 1) { lc(list) } else { key_at };
        let (metric, filter) = match parse_key(key) {
            Ok(k) => k,
            Err(e) => {
                cx.err_at(key_at, e.to_string());
                continue;
            }
        };
        if throng_metrics::threshold::is_sampled(&metric) {
            compile_monitor_threshold(cx, key, &metric, list, &mut set);
            continue;
        }
        let custom = cx
            .custom_metrics
            .iter()
            .find(|m| m.name == metric)
            .map(|m| m.kind);
        let Some(kind) = Builtin::lookup(&metric).map(|(k, _)| k).or(custom) else {
            cx.err_at(
                key_at,
                format!(
                    "unknown metric `{metric}` in thresholds: expected a metric the plan defines (a loop's `trend:`) or a built-in metric such as http_req_duration, http_req_failed, http_reqs, checks, iteration_duration, iterations, dropped_iterations, data_sent, data_received, vus, group_duration or http_req_waiting"
                ),
            );
            continue;
        };
        for item in &list.value {
            let (src, abort, delay) = match &item.value {
                Json::String(s) => (s.clone(), false, Duration::ZERO),
                Json::Object(o) => {
                    let mut ok = true;
                    for k in o.keys() {
                        if !["threshold", "abortOnFail", "delayAbortEval"].contains(&k.as_str()) {
                            cx.err(item, format!("unknown threshold option `{k}`: expected threshold, abortOnFail, delayAbortEval"));
                            ok = false;
                        }
                    }
                    let Some(t) = o.get("threshold").and_then(|t| t.as_str()) else {
                        cx.err(
                            item,
                            "expected `threshold: \"<expression>\"` in the threshold object",
                        );
                        continue;
                    };
                    let abort = match o.get("abortOnFail") {
                        None => false,
                        Some(Json::Bool(b)) => *b,
                        Some(_) => {
                            cx.err(item, "abortOnFail: expected true or false");
                            false
                        }
                    };
                    let delay = match o.get("delayAbortEval") {
                        None => Duration::ZERO,
                        Some(Json::String(d)) => match parse_duration(d) {
                            Ok(d) => d,
                            Err(e) => {
                                cx.err(item, format!("delayAbortEval: {e}"));
                                Duration::ZERO
                            }
                        },
                        Some(_) => {
                            cx.err(item, "delayAbortEval: expected a duration like `10s`");
                            Duration::ZERO
                        }
                    };
                    if !ok {
                        continue;
                    }
                    (t.to_string(), abort, delay)
                }
                _ => {
                    cx.err(item, "expected a threshold expression like \"p(95)<500\" or {threshold: ..., abortOnFail: true}");
                    continue;
                }
            };
            let at = cx.src.find_from(
                item.referenced.line() as usize,
                item.referenced.column() as usize,
                &src,
            );
            match Expr::parse(&src) {
                Ok(expr) => {
                    if let Err(valid) = expr.stat.check_kind(kind) {
                        cx.err_at(
                            at,
                            format!(
                                "`{}` does not apply to {} metric `{metric}`: use {valid}",
                                expr.stat.name(),
                                kind.as_str()
                            ),
                        );
                        continue;
                    }
                    set.items.push(Threshold {
                        key: key.clone(),
                        metric: metric.clone(),
                        filter: filter.clone(),
                        expr,
                        abort_on_fail: abort,
                        delay_abort_eval: delay,
                    });
                }
                Err(e) => cx.err_at(at, e.to_string()),
            }
        }
    }
    set
}

/// A threshold on a monitor series (`"monitor:api.cpu": ["max<80"]`): plain expressions
/// with the stats value, min, max, avg, delta, growth_per_hour.
fn compile_monitor_threshold(
    cx: &mut Cx<'_>,
    key: &str,
    metric: &str,
    list: &S<Vec<S<Json>>>,
    set: &mut ThresholdSet,
) {
    let ok_name = metric
        .strip_prefix("monitor:")
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(m, s)| !m.is_empty() && !s.is_empty());
    if !ok_name {
        cx.err(
            list,
            format!("threshold key `{key}`: expected `monitor:NAME.SERIES`, e.g. monitor:api.cpu"),
        );
        return;
    }
    for item in &list.value {
        let Json::String(src) = &item.value else {
            cx.err(item, "expected a threshold expression like \"max<80\"");
            continue;
        };
        match Expr::parse(src) {
            Ok(expr) => {
                if expr.window.is_some() {
                    cx.err(
                        item,
                        format!("`over` windows apply to k6 metrics; for monitor series `{metric}` use an SLO (`slos:` with `window:`)"),
                    );
                    continue;
                }
                if let Err(valid) = expr.stat.check_sampled() {
                    cx.err(
                        item,
                        format!(
                            "`{}` does not apply to monitor series `{metric}`: use {valid}",
                            expr.stat.name()
                        ),
                    );
                    continue;
                }
                set.items.push(Threshold {
                    key: key.to_string(),
                    metric: metric.to_string(),
                    filter: Vec::new(),
                    expr,
                    abort_on_fail: false,
                    delay_abort_eval: Duration::ZERO,
                });
            }
            Err(e) => cx.err(item, e.to_string()),
        }
    }
}
