//! k6's `handleSummary(data)`: the end-of-test summary data shaped as the script's
//! `summaryTrendStats` ask, the function called once on a VU of its own, and the files its
//! answer names written (`stdout` printed, `stderr` to standard error).
use serde_json::{Map, Value};
use std::io::Write;

/// The trend stats throng's results hold (k6's defaults and `p(99)`, `count`).
const AVAILABLE: &[&str] = &[
    "avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count",
];

/// k6's summary data of `r` (`--summary-json`'s document) with every trend's values and
/// `options.summaryTrendStats` as `stats` ask (stats throng does not hold are left out,
/// with a warning).
pub(crate) fn data(r: &throng_report::Results, stats: Option<&[String]>) -> Value {
    let mut data = throng_report::summary_json(r);
    let Some(stats) = stats else {
        return data;
    };
    let missing: Vec<&String> = stats
        .iter()
        .filter(|s| !AVAILABLE.contains(&s.as_str()))
        .collect();
    if !missing.is_empty() {
        tracing::warn!(
            "summaryTrendStats: throng's summary holds {} (not {:?})",
            AVAILABLE.join(", "),
            missing
        );
    }
    if let Some(ms) = data.get_mut("metrics").and_then(Value::as_object_mut) {
        for (name, m) in ms.iter_mut() {
            if m.get("type").and_then(Value::as_str) != Some("trend") {
                continue;
            }
            let Some(all) = r.metrics.iter().find(|x| &x.name == name) else {
                continue;
            };
            let mut out = Map::new();
            for s in stats {
                if let Some(v) = all.values.get(s.as_str()) {
                    out.insert(s.clone(), Value::from(*v));
                }
            }
            m["values"] = Value::Object(out);
        }
    }
    data["options"]["summaryTrendStats"] = Value::from(stats.to_vec());
    data
}

/// Writes the answer of `handleSummary` (`{"stdout": "...", "file.json": "..."}`): returns
/// what goes to standard output. Non-string values are written as JSON.
pub(crate) fn write(answer: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(answer).map_err(|e| format!("its answer: {e}"))?;
    let Value::Object(files) = v else {
        return Err("it must return an object (file name → content)".into());
    };
    let mut stdout = String::new();
    let mut errors = Vec::new();
    for (k, v) in files {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match k.as_str() {
            "stdout" => stdout.push_str(&text),
            "stderr" => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
            path => {
                if let Err(e) = std::fs::write(path, text.as_bytes()) {
                    errors.push(format!("cannot write {path}: {e}"));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(stdout)
    } else {
        Err(errors.join("; "))
    }
}
