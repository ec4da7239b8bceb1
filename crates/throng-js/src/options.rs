//! k6's `export const options` as a throng plan (JSON, which the YAML loader reads): the
//! same scenarios, executors and thresholds a YAML plan has, so the run, the summary, the
//! reports and the exit codes are throng's own.
use crate::vm::MetricDecl;
use serde_json::{json, Map, Value};
use throng_metrics::MetricKind;

/// The name of the scenario the shortcut options (`vus`, `duration`, `iterations`,
/// `stages`) make, as in k6.
pub const DEFAULT_SCENARIO: &str = "default";

/// Options throng reads; others are refused at load, naming them.
const KNOWN: &[&str] = &[
    "vus",
    "duration",
    "iterations",
    "stages",
    "scenarios",
    "thresholds",
    "discardResponseBodies",
    "insecureSkipTLSVerify",
    "userAgent",
    "tags",
    "noConnectionReuse",
    "maxRedirects",
    "summaryTrendStats",
    "setupTimeout",
    "teardownTimeout",
    "summaryTimeUnit",
    "ext",
    "cloud",
    "noUsageReport",
];

/// Scenario keys that are the script's, not the executor's.
const SCRIPT_KEYS: &[&str] = &["exec", "env"];

/// A script's load as a plan.
#[derive(Debug)]
pub struct PlanText {
    /// The plan (JSON text).
    pub text: String,
    /// The exported function each scenario runs, by scenario name.
    pub exec: Vec<(String, String)>,
    /// `discardResponseBodies`.
    pub discard_bodies: bool,
    /// The tags every sample of each scenario carries: `options.tags`, overridden by the
    /// scenario's `tags`.
    pub tags: Vec<(String, Vec<(String, String)>)>,
}

/// A `tags` object's pairs (values as text).
fn tag_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(o) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    o.iter()
        .map(|(k, v)| {
            let t = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), t)
        })
        .collect()
}

fn num(o: &Map<String, Value>, k: &str) -> Option<Value> {
    o.get(k).filter(|v| !v.is_null()).cloned()
}

/// Builds the plan of script `name` from its options, exported `functions` and `metrics`.
pub fn plan(
    name: &str,
    options: &Value,
    functions: &[String],
    metrics: &[MetricDecl],
) -> Result<PlanText, String> {
    let empty = Map::new();
    let o = match options {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err("`options` must be an object".into()),
    };
    for k in o.keys() {
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!("option `{k}` is not supported by throng yet"));
        }
    }
    let mut scenarios = Map::new();
    let mut exec = Vec::new();
    let mut tags = Vec::new();
    let placeholder = json!([{ "sleep": "0s" }]);
    if let Some(sc) = o.get("scenarios").and_then(Value::as_object) {
        for (sname, s) in sc {
            let Some(so) = s.as_object() else {
                return Err(format!("scenario `{sname}` must be an object"));
            };
            let f = so
                .get("exec")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string();
            if !functions.contains(&f) {
                return Err(format!(
                    "scenario `{sname}` runs `{f}`, which the script does not export as a function"
                ));
            }
            if so.contains_key("env") {
                return Err(format!(
                    "scenario `{sname}`: per-scenario `env` is not supported by throng yet"
                ));
            }
            let mut out: Map<String, Value> = so
                .iter()
                .filter(|(k, _)| !SCRIPT_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert("flow".into(), placeholder.clone());
            scenarios.insert(sname.clone(), Value::Object(out));
            exec.push((sname.clone(), f));
            let mut t = tag_pairs(o.get("tags"));
            for (k, v) in tag_pairs(so.get("tags")) {
                t.retain(|(g, _)| *g != k);
                t.push((k, v));
            }
            tags.push((sname.clone(), t));
        }
    } else {
        if !functions.iter().any(|f| f == "default") {
            return Err("the script exports no default function (and no scenarios)".into());
        }
        let vus = num(o, "vus");
        let s = if let Some(stages) = num(o, "stages") {
            json!({ "executor": "ramping-vus", "startVUs": vus.unwrap_or(json!(1)), "stages": stages })
        } else if let Some(it) = num(o, "iterations") {
            let mut s = json!({ "executor": "shared-iterations", "vus": vus.unwrap_or(json!(1)), "iterations": it });
            if let Some(d) = num(o, "duration") {
                s["maxDuration"] = d;
            }
            s
        } else if let Some(d) = num(o, "duration") {
            json!({ "executor": "constant-vus", "vus": vus.unwrap_or(json!(1)), "duration": d })
        } else {
            json!({ "executor": "shared-iterations", "vus": vus.unwrap_or(json!(1)), "iterations": 1 })
        };
        let mut s = s;
        s["flow"] = placeholder;
        scenarios.insert(DEFAULT_SCENARIO.into(), s);
        exec.push((DEFAULT_SCENARIO.into(), "default".into()));
        tags.push((DEFAULT_SCENARIO.into(), tag_pairs(o.get("tags"))));
    }
    let mut defaults = Map::new();
    if o.get("insecureSkipTLSVerify").and_then(Value::as_bool) == Some(true) {
        defaults.insert("insecure_skip_tls_verify".into(), json!(true));
    }
    if let Some(ua) = o.get("userAgent").and_then(Value::as_str) {
        defaults.insert("headers".into(), json!({ "User-Agent": ua }));
    }
    if o.get("noConnectionReuse").and_then(Value::as_bool) == Some(true) {
        defaults.insert("keepalive".into(), json!(false));
    }
    if let Some(m) = num(o, "maxRedirects") {
        defaults.insert("max_redirects".into(), m);
    }
    if let Some(t) = o.get("tags") {
        defaults.insert("tags".into(), t.clone());
    }
    let mut ms = Map::new();
    for m in metrics {
        let kind = match m.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Rate => "rate",
            MetricKind::Trend => "trend",
        };
        let v = if m.time {
            json!({ "type": kind, "time": true })
        } else {
            json!(kind)
        };
        ms.insert(m.name.clone(), v);
    }
    let mut thresholds = Map::new();
    if let Some(t) = o.get("thresholds").and_then(Value::as_object) {
        for (k, v) in t {
            let items = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            thresholds.insert(k.clone(), Value::Array(items));
        }
    }
    let mut p = json!({ "name": name, "scenarios": scenarios });
    if !defaults.is_empty() {
        p["defaults"] = Value::Object(defaults);
    }
    if !ms.is_empty() {
        p["metrics"] = Value::Object(ms);
    }
    if !thresholds.is_empty() {
        p["thresholds"] = Value::Object(thresholds);
    }
    if let Some(st) = o.get("summaryTrendStats").filter(|v| !v.is_null()) {
        let stats: Vec<String> = serde_json::from_value(st.clone())
            .map_err(|_| "summaryTrendStats: expected a list of stats, e.g. ['avg', 'p(99.9)']")?;
        if let Some(bad) = stats
            .iter()
            .find(|s| !throng_metrics::threshold::Stat::is_trend_stat(s))
        {
            return Err(format!(
                "summaryTrendStats: `{bad}` is not a trend stat (expected avg, min, med, max, count or p(N) with N from 0 to 100)"
            ));
        }
        p["summary_trend_stats"] = Value::from(stats);
    }
    Ok(PlanText {
        text: serde_json::to_string_pretty(&p).map_err(|e| e.to_string())?,
        exec,
        discard_bodies: o.get("discardResponseBodies").and_then(Value::as_bool) == Some(true),
        tags,
    })
}
