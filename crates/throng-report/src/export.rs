//! k6's JSON summaries, key for key: `--summary-export` (metrics flattened to their values,
//! thresholds as `{"expr": failed}`, rate metrics with `value`, checks in nested groups)
//! and `--summary-json` (the data k6 v1 hands to `handleSummary`: `metrics.NAME.type/
//! contains/values`, thresholds as `{"expr": {"ok": bool}}`, groups and checks as lists,
//! `options`, `state`). Numbers are written as k6 writes them (integral values as integers)
//! and trends carry the run's trend stats (k6's `summaryTrendStats`, by default k6's).
use crate::k6json::{id, num};
use crate::results::{MetricResult, Results};
use serde_json::{json, Map, Value};
use throng_metrics::MetricKind;

/// A metric's values under k6's names: trends their default stats; rates `rate` (or,
/// for the export, `value`), `passes`, `fails`; counters `count`, `rate`; gauges `value`,
/// `min`, `max`.
fn values(m: &MetricResult, rate_key: &str, trend_stats: &[&str]) -> Map<String, Value> {
    let mut vals = Map::new();
    if m.kind == MetricKind::Trend {
        // in the order asked, as k6 writes them
        for k in trend_stats {
            if let Some(v) = m.values.get(*k) {
                vals.insert((*k).to_string(), num(*v));
            }
        }
        return vals;
    }
    for (k, v) in &m.values {
        let key = match m.kind {
            MetricKind::Rate if k == "rate" => rate_key,
            _ => k.as_str(),
        };
        vals.insert(key.to_string(), num(*v));
    }
    vals
}

/// A group of the check tree: its checks and sub-groups, by name.
#[derive(Default)]
struct Group {
    checks: Vec<(String, String, u64, u64)>,
    groups: Vec<(String, Group)>,
}

impl Group {
    fn tree(r: &Results) -> Group {
        let mut root = Group::default();
        for c in &r.checks {
            let mut node = &mut root;
            for part in c.group.split("::").filter(|p| !p.is_empty()) {
                let i = match node.groups.iter().position(|(n, _)| n == part) {
                    Some(i) => i,
                    None => {
                        node.groups.push((part.to_string(), Group::default()));
                        node.groups.len() - 1
                    }
                };
                node = &mut node.groups[i].1;
            }
            node.checks
                .push((c.name.clone(), c.group.clone(), c.passes, c.fails));
        }
        root
    }

    /// The group as JSON; `listed`: groups and checks as lists (summary JSON) or maps by
    /// name (export).
    fn json(&self, name: &str, path: &str, listed: bool) -> Value {
        let checks: Vec<(String, Value)> = self
            .checks
            .iter()
            .map(|(n, group, passes, fails)| {
                let p = format!("{group}::{n}");
                (
                    n.clone(),
                    json!({ "name": n, "path": p, "id": id(&p), "passes": passes, "fails": fails }),
                )
            })
            .collect();
        let groups: Vec<(String, Value)> = self
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), g.json(n, &format!("{path}::{n}"), listed)))
            .collect();
        let (checks, groups) = if listed {
            (
                Value::Array(checks.into_iter().map(|(_, v)| v).collect()),
                Value::Array(groups.into_iter().map(|(_, v)| v).collect()),
            )
        } else {
            (
                Value::Object(checks.into_iter().collect()),
                Value::Object(groups.into_iter().collect()),
            )
        };
        json!({ "name": name, "path": path, "id": id(path), "groups": groups, "checks": checks })
    }
}

/// The `--summary-export` document (write it pretty-printed with 4 spaces, as k6 does).
pub fn summary_export(r: &Results) -> Value {
    let mut metrics = Map::new();
    for m in &r.metrics {
        let mut vals = values(m, "value", &r.shown_trend_stats());
        let th: Map<String, Value> = r
            .thresholds
            .iter()
            .filter(|t| t.metric == m.name)
            .map(|t| (t.expression.clone(), json!(!t.ok)))
            .collect();
        if !th.is_empty() {
            vals.insert("thresholds".into(), Value::Object(th));
        }
        metrics.insert(m.name.clone(), Value::Object(vals));
    }
    json!({ "root_group": Group::tree(r).json("", "", false), "metrics": Value::Object(metrics) })
}

/// The `--summary-json` document: k6 v1's end-of-test summary data (`handleSummary`'s
/// argument), so `jq '.metrics.http_req_duration.values."p(95)"'` works unchanged.
pub fn summary_json(r: &Results) -> Value {
    let stats = r.shown_trend_stats();
    let mut metrics = Map::new();
    for m in &r.metrics {
        let mut entry = Map::new();
        entry.insert("type".into(), json!(m.kind.as_str()));
        entry.insert("contains".into(), json!(m.contains.as_str()));
        entry.insert("values".into(), Value::Object(values(m, "rate", &stats)));
        let th: Map<String, Value> = r
            .thresholds
            .iter()
            .filter(|t| t.metric == m.name)
            .map(|t| (t.expression.clone(), json!({ "ok": t.ok })))
            .collect();
        if !th.is_empty() {
            entry.insert("thresholds".into(), Value::Object(th));
        }
        metrics.insert(m.name.clone(), Value::Object(entry));
    }
    json!({
        "root_group": Group::tree(r).json("", "", true),
        "options": {
            "summaryTrendStats": stats,
            "summaryTimeUnit": "",
            "noColor": false,
        },
        "state": {
            "isStdErrTTY": false,
            "isStdOutTTY": false,
            "testRunDurationMs": r.run.duration_ms,
        },
        "metrics": Value::Object(metrics),
    })
}
