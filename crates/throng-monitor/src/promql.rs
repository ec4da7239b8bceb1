//! `promql:` instant queries against a Prometheus server (`GET /api/v1/query`) every
//! interval, one series per query name. A query answering one series (or a scalar) gives
//! `NAME`; one answering several gives their sum as `NAME` and each as
//! `NAME{label="value",…}` (at most [`MAX_SERIES`]); an empty answer gives no value that
//! interval. An error answer (a PromQL syntax error, an unknown function, a timeout) is the
//! monitor's error for the sample, naming the query.
use crate::{http, Monitor, MonitorError, SampleCx, Value};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::time::Duration;

/// Most label sets of one query recorded as their own series.
pub const MAX_SERIES: usize = 20;

/// How long one query may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The PromQL monitor.
pub struct PromqlMonitor {
    url: String,
    queries: Vec<(String, String)>,
}

impl PromqlMonitor {
    /// A monitor querying the server at `url` (`http://prometheus:9090`).
    pub fn new(url: &str, queries: &[(String, String)]) -> PromqlMonitor {
        PromqlMonitor {
            url: url.trim_end_matches('/').to_string(),
            queries: queries.to_vec(),
        }
    }
}

/// A sample value as Prometheus writes it (`"1.5"`, `"NaN"`, `"+Inf"`).
fn sample_value(v: &serde_json::Value) -> Option<f64> {
    v.get(1)?.as_str()?.parse::<f64>().ok()
}

/// The values of one query's answer (a `/api/v1/query` body).
pub fn parse_answer(name: &str, body: &[u8]) -> Result<Vec<Value>, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        format!("not a Prometheus API answer ({e}): {text}")
    })?;
    if v["status"] != "success" {
        return Err(format!(
            "{}: {}",
            v["errorType"].as_str().unwrap_or("error"),
            v["error"].as_str().unwrap_or("no message")
        ));
    }
    let data = &v["data"];
    match data["resultType"].as_str() {
        Some("scalar") => Ok(sample_value(&data["result"])
            .map(|x| vec![Value::new(name, x)])
            .unwrap_or_default()),
        Some("vector") => {
            let result = data["result"].as_array().cloned().unwrap_or_default();
            let mut out = Vec::new();
            let mut sum = 0.0;
            for r in &result {
                let Some(x) = sample_value(&r["value"]) else {
                    continue;
                };
                sum += x;
                if result.len() > 1 && out.len() < MAX_SERIES {
                    let labels: Vec<String> = r["metric"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or("")))
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push(Value::new(format!("{name}{{{}}}", labels.join(",")), x));
                }
            }
            if !result.is_empty() {
                out.push(Value::new(name, sum));
            }
            Ok(out)
        }
        Some(other) => Err(format!(
            "the query answers a {other}: use an instant vector or scalar query"
        )),
        None => Err("the answer has no resultType".into()),
    }
}

impl Monitor for PromqlMonitor {
    fn sample(&mut self, _cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (name, query) in &self.queries {
            let url = format!(
                "{}/api/v1/query?query={}",
                self.url,
                utf8_percent_encode(query, NON_ALPHANUMERIC)
            );
            let r = http::get(&url, TIMEOUT)?;
            match parse_answer(name, &r.body) {
                Ok(v) => out.extend(v),
                Err(e) => errors.push(format!("query `{name}` (status {}): {e}", r.status)),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(MonitorError(errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let one = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"42"]}]}}"#;
        assert_eq!(parse_answer("q", one).expect("ok"), [Value::new("q", 42.0)]);
        let two = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"code":"200"},"value":[1,"3"]},{"metric":{"code":"500"},"value":[1,"1"]}]}}"#;
        assert_eq!(
            parse_answer("q", two).expect("ok"),
            [
                Value::new("q{code=\"200\"}", 3.0),
                Value::new("q{code=\"500\"}", 1.0),
                Value::new("q", 4.0)
            ]
        );
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"0.5"]}}"#;
        assert_eq!(
            parse_answer("q", scalar).expect("ok"),
            [Value::new("q", 0.5)]
        );
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse_answer("q", empty).expect("ok").is_empty());
        let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert_eq!(
            parse_answer("q", bad).expect_err("error"),
            "bad_data: parse error"
        );
        assert!(parse_answer("q", b"<html>").is_err());
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(parse_answer("q", matrix).is_err());
    }
}
