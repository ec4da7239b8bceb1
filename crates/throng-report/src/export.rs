//! k6's `--summary-export` JSON: metrics flattened to their values, thresholds as
//! `{"expr": failed}`, rate metrics with `value` instead of `rate`, checks in groups.
use crate::results::Results;
use serde_json::{json, Map, Value};
use throng_metrics::MetricKind;

fn group_node(name: &str, path: &str) -> Map<String, Value> {
    let mut g = Map::new();
    g.insert("name".into(), json!(name));
    g.insert("path".into(), json!(path));
    g.insert("groups".into(), json!({}));
    g.insert("checks".into(), json!({}));
    g
}

/// The export document (write it pretty-printed with 4 spaces, as k6 does).
pub fn summary_export(r: &Results) -> Value {
    let mut root = group_node("", "");
    for c in &r.checks {
        let parts: Vec<&str> = c.group.split("::").filter(|p| !p.is_empty()).collect();
        let check = json!({
            "name": c.name,
            "path": format!("{}::{}", c.group, c.name),
            "passes": c.passes,
            "fails": c.fails,
        });
        insert_check(&mut root, &parts, "", &c.name, check);
    }
    let mut metrics = Map::new();
    for m in &r.metrics {
        let mut vals = Map::new();
        for (k, v) in &m.values {
            if m.kind == MetricKind::Trend && k == "count" {
                continue;
            }
            let key = if m.kind == MetricKind::Rate && k == "rate" {
                "value"
            } else {
                k.as_str()
            };
            vals.insert(key.to_string(), json!(v));
        }
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
    json!({ "root_group": Value::Object(root), "metrics": Value::Object(metrics) })
}

fn insert_check(
    node: &mut Map<String, Value>,
    parts: &[&str],
    path: &str,
    name: &str,
    check: Value,
) {
    match parts.split_first() {
        None => {
            if let Some(checks) = node.get_mut("checks").and_then(|v| v.as_object_mut()) {
                checks.insert(name.to_string(), check);
            }
        }
        Some((first, rest)) => {
            let child_path = format!("{path}::{first}");
            if let Some(groups) = node.get_mut("groups").and_then(|v| v.as_object_mut()) {
                let child = groups
                    .entry(first.to_string())
                    .or_insert_with(|| Value::Object(group_node(first, &child_path)));
                if let Some(obj) = child.as_object_mut() {
                    insert_check(obj, rest, &child_path, name, check);
                }
            }
        }
    }
}
