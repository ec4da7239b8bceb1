//! `throng convert script.js`: a k6 script as a YAML plan, best effort. The options become
//! the plan's scenarios, thresholds and metrics ([`crate::options`]); the default function
//! is run twice (VU 1 iteration 0, VU 2 iteration 1) against a recording `http` that
//! answers `200 {}` at once, and what it did becomes the flow: each request a step (values
//! that differ between the runs as `{{vu}}`, `{{iter}}` or `{{now}}`), each `sleep` a sleep,
//! each check named for a status (`status is 200`) a step check. What cannot be expressed
//! is listed for the user.
use crate::msg::{Cmd, In, Op};
use crate::shared::{Shared, VuSpec};
use crate::JsError;
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use throng_engine::IterInfo;
use throng_http::HttpResponse;
use throng_metrics::Registry;
use tokio_util::sync::CancellationToken;

/// A script converted.
#[derive(Debug)]
pub struct Conversion {
    /// The plan, YAML.
    pub yaml: String,
    /// Steps the flow got.
    pub steps: usize,
    /// What could not be converted, one line each.
    pub skipped: Vec<String>,
}

/// What the default function did, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Request {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: String,
        name: Option<String>,
    },
    Sleep(Duration),
    Check(String),
}

/// Converts the script at `path` (`env` is `__ENV`).
pub fn convert(path: &Path, env: BTreeMap<String, String>) -> Result<Conversion, JsError> {
    let loaded = crate::load(path, env)?;
    let mut skipped = Vec::new();
    let mut plan: Value = serde_json::from_str(&loaded.plan.text)
        .map_err(|e| JsError(format!("{}: {e}", loaded.script.name)))?;
    let exports: Vec<&String> = loaded
        .probe
        .functions
        .iter()
        .filter(|f| f.as_str() != "default" && f.as_str() != "options")
        .collect();
    for f in exports {
        skipped.push(format!(
            "exported function `{f}` (setup, teardown, handleSummary and scenario functions stay JavaScript)"
        ));
    }
    if loaded.plan.exec.iter().any(|(_, f)| f != "default") {
        return Err(JsError(
            "scenarios run functions other than `default`: nothing to convert".into(),
        ));
    }
    let first = record(&loaded, 1, 0)?;
    // so `new Date()` differs between the runs
    std::thread::sleep(Duration::from_millis(5));
    let second = record(&loaded, 2, 1)?;
    let flow = flow(&first, &second, &mut skipped);
    let steps = flow.len();
    if steps == 0 {
        return Err(JsError(format!(
            "{}: the default function made no request: nothing to convert",
            loaded.script.name
        )));
    }
    // custom metrics are added to by JavaScript: the plan would never see a sample
    let custom: Vec<String> = loaded
        .probe
        .metrics
        .iter()
        .map(|m| m.name.clone())
        .collect();
    if let Some(o) = plan.as_object_mut() {
        o.remove("metrics");
        if let Some(th) = o.get_mut("thresholds").and_then(Value::as_object_mut) {
            th.retain(|k, v| {
                let base = k.split('{').next().unwrap_or(k);
                let keep = !custom.iter().any(|c| c == base);
                if !keep {
                    skipped.push(format!(
                        "threshold `{k}: {v}` on custom metric `{base}` (added to by JavaScript)"
                    ));
                }
                keep
            });
        }
        if o.get("thresholds")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            o.remove("thresholds");
        }
    }
    if let Some(sc) = plan.get_mut("scenarios").and_then(Value::as_object_mut) {
        for s in sc.values_mut() {
            s["flow"] = Value::Array(flow.clone());
        }
    }
    let yaml = serde_saphyr::to_string(&plan).map_err(|e| JsError(e.to_string()))?;
    let head = format!(
        "# converted from {} by `throng convert` (best effort: check it)\n",
        loaded.script.name
    );
    let mut yaml = head + &yaml;
    if !yaml.ends_with('\n') {
        yaml.push('\n');
    }
    Ok(Conversion {
        yaml,
        steps,
        skipped,
    })
}

/// Runs the default function once as VU `vu`, iteration `iter`, recording what it does.
fn record(loaded: &crate::Loaded, vu: u64, iter: u64) -> Result<Vec<Event>, JsError> {
    let registry = Registry::new();
    registry.enable_raw();
    let checks = registry.builtin().checks;
    let shared = Arc::new(Shared::new(
        loaded.script.clone(),
        registry.clone(),
        None,
        false,
        CancellationToken::new(),
    ));
    let spec = VuSpec {
        id: vu,
        scenario: crate::options::DEFAULT_SCENARIO.into(),
        root_group: String::new(),
        shared,
        data: None,
        tags: Arc::from(Vec::new()),
    };
    let stack = DefaultStack::new(crate::STACK_SIZE)
        .map_err(|e| JsError(format!("cannot allocate a stack: {e}")))?;
    // a runtime of its own: this VU runs alone, on this thread
    let home = crate::suspend::Home::new();
    let hub = home.hub().map_err(JsError)?;
    let mut co = Coroutine::with_stack(stack, move |y, _: In| crate::vm::main(y, hub, spec, false));
    let mut events = Vec::new();
    let (reply, mut rx) = tokio::sync::oneshot::channel();
    let mut input = In::Start;
    let mut sent = false;
    let new_checks = |events: &mut Vec<Event>| {
        registry.collect();
        for s in registry.take_raw() {
            if s.key.metric == checks {
                if let Some(name) = registry.tags(s.key.tags).get("check") {
                    events.push(Event::Check(name.to_string()));
                }
            }
        }
    };
    let mut reply = Some(reply);
    loop {
        let op = match co.resume(input) {
            CoroutineResult::Yield(op) => op,
            CoroutineResult::Return(r) => {
                r.map_err(JsError)?;
                break;
            }
        };
        new_checks(&mut events);
        input = match op {
            Op::Next if !sent => {
                sent = true;
                match reply.take() {
                    Some(reply) => In::Cmd(Cmd::Iter {
                        info: IterInfo {
                            iter,
                            scenario_iter: iter,
                            intended_start: None,
                        },
                        exec: Arc::from("default"),
                        reply,
                        cancel: CancellationToken::new(),
                    }),
                    None => In::Exit,
                }
            }
            Op::Next => In::Exit,
            Op::Http(call) => {
                events.push(request_event(&call));
                In::Http(Box::new(fake(&call.req)))
            }
            Op::Batch(calls) => {
                let rs = calls.iter().map(|c| fake(&c.req)).collect();
                events.extend(calls.iter().map(request_event));
                In::Batch(rs)
            }
            Op::Sleep(d) => {
                events.push(Event::Sleep(d));
                In::Done
            }
            Op::Yield => In::Done,
            Op::Jar(..) => In::Jar(None),
        };
    }
    if let Ok(throng_engine::IterOutcome::Failed(e)) = rx.try_recv() {
        return Err(JsError(e));
    }
    Ok(events)
}

fn request_event(call: &crate::msg::HttpCall) -> Event {
    let r = &call.req;
    let name = call
        .tags
        .iter()
        .rev()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .filter(|n| n != &r.url);
    Event::Request {
        method: r.method.to_string(),
        url: r.url.clone(),
        headers: r.headers.clone(),
        body: String::from_utf8_lossy(&r.body).into_owned(),
        name,
    }
}

/// The answer the recording gives every request: `200 {}` at once.
fn fake(req: &throng_http::HttpRequest) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::from_static(b"{}"),
        timings: Default::default(),
        error: None,
        bytes_sent: 0,
        bytes_received: 0,
        proto: "HTTP/1.1",
        url: req.url.clone(),
        method: req.method.clone(),
    }
}

/// The flow of two recordings (VU 1 iteration 0, VU 2 iteration 1).
fn flow(a: &[Event], b: &[Event], skipped: &mut Vec<String>) -> Vec<Value> {
    if a.len() != b.len() {
        skipped.push(
            "the two recorded iterations made different requests (branches on __VU/__ITER or random): the flow is the first one's".into(),
        );
    }
    let mut steps: Vec<Value> = Vec::new();
    for (i, ev) in a.iter().enumerate() {
        let other = b.get(i).filter(|o| same_kind(ev, o)).unwrap_or(ev);
        match (ev, other) {
            (
                Event::Request {
                    method,
                    url,
                    headers,
                    body,
                    name,
                },
                Event::Request {
                    url: url2,
                    headers: headers2,
                    body: body2,
                    ..
                },
            ) => {
                let mut step = Map::new();
                let what = format!("{method} {url}");
                let key = match method.as_str() {
                    "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => {
                        method.to_ascii_lowercase()
                    }
                    _ => {
                        step.insert("method".into(), json!(method));
                        "url".into()
                    }
                };
                step.insert(key, json!(template(url, url2, &what, skipped)));
                if let Some(n) = name {
                    step.insert("name".into(), json!(n));
                }
                if !headers.is_empty() {
                    let mut h = Map::new();
                    for (j, (k, v)) in headers.iter().enumerate() {
                        let v2 = headers2.get(j).map_or(v.as_str(), |(_, v)| v.as_str());
                        h.insert(k.clone(), json!(template(v, v2, &what, skipped)));
                    }
                    step.insert("headers".into(), Value::Object(h));
                }
                if !body.is_empty() {
                    step.insert("body".into(), json!(template(body, body2, &what, skipped)));
                }
                steps.push(Value::Object(step));
            }
            (Event::Sleep(d), _) => {
                steps.push(json!({ "sleep": format!("{}ms", d.as_millis()) }));
            }
            (Event::Check(name), _) => {
                let check = status_of(name)
                    .map(|code| json!({ "status": code, "name": name }))
                    .or_else(|| under_of(name).map(|d| json!({ "duration": d, "name": name })));
                let last = steps.iter_mut().rev().find(|s| s.get("sleep").is_none());
                match (check, last) {
                    (Some(c), Some(Value::Object(step))) => {
                        let list = step.entry("checks").or_insert_with(|| json!([]));
                        if let Value::Array(l) = list {
                            l.push(c);
                        }
                    }
                    _ => skipped.push(format!(
                        "check `{name}` (only checks named for a status, `status is 200`, or a time limit, `under 500ms`, convert)"
                    )),
                }
            }
            _ => {}
        }
    }
    steps
}

fn same_kind(a: &Event, b: &Event) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The time limit a check's name speaks of, as a step check's `duration`: `under 500ms`,
/// `duration < 2s`, `< 300ms`.
fn under_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let at = lower
        .find("under ")
        .map(|i| i + "under ".len())
        .or_else(|| {
            let i = lower.find('<')?;
            Some(i + 1)
        })?;
    let rest = lower[at..].trim_start();
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let unit = &rest[digits.len()..];
    let unit = if unit.starts_with("ms") {
        "ms"
    } else if unit.starts_with('s') {
        "s"
    } else {
        return None;
    };
    digits.parse::<f64>().ok()?;
    Some(format!("<{digits}{unit}"))
}

/// The status a check's name speaks of: `status is 200`, `status 201`, `status == 204`.
fn status_of(name: &str) -> Option<u16> {
    let lower = name.to_ascii_lowercase();
    let rest = &lower[lower.find("status")? + "status".len()..];
    let digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let between = &rest[..rest.find(&digits)?];
    let plain = between
        .split_whitespace()
        .all(|w| matches!(w, "is" | "==" | "===" | "=" | ":" | "was"));
    (digits.len() == 3 && plain)
        .then(|| digits.parse().ok())
        .flatten()
}

const NOW: &str = "\u{1}now\u{1}";

/// `a` (VU 1, iteration 0) as a template, given `b` (VU 2, iteration 1): numbers that are
/// 1 and 2 become `{{vu}}`, 0 and 1 `{{iter}}`, RFC 3339 times `{{now}}`; any other
/// difference keeps `a` and is listed.
fn template(a: &str, b: &str, what: &str, skipped: &mut Vec<String>) -> String {
    if a == b && !has_time(a) {
        return a.to_string();
    }
    let (ta, tb) = (tokens(&mark_times(a)), tokens(&mark_times(b)));
    if ta.len() != tb.len() {
        skipped.push(format!(
            "{what}: a value that changes between iterations: {a:?} / {b:?} (kept the first)"
        ));
        return a.to_string();
    }
    let mut out = String::new();
    for (x, y) in ta.iter().zip(&tb) {
        let digits = x.chars().all(|c| c.is_ascii_digit()) && y.chars().all(|c| c.is_ascii_digit());
        if x == y {
            out.push_str(if *x == NOW { "{{now}}" } else { x });
        } else if digits && x == "1" && y == "2" {
            out.push_str("{{vu}}");
        } else if digits && x == "0" && y == "1" {
            out.push_str("{{iter}}");
        } else {
            skipped.push(format!(
                "{what}: a value that changes between iterations: {x:?} / {y:?} (kept the first)"
            ));
            out.push_str(x);
        }
    }
    out
}

/// Runs of digits and runs of anything else (the time marker a token of its own).
fn tokens(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(NOW) {
            out.push(NOW.into());
            rest = r;
            continue;
        }
        let digit = rest.starts_with(|c: char| c.is_ascii_digit());
        let end = rest
            .char_indices()
            .find(|(i, c)| c.is_ascii_digit() != digit || rest[*i..].starts_with(NOW))
            .map_or(rest.len(), |(i, _)| i);
        let end = if end == 0 { rest.len() } else { end };
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// The length of an RFC 3339 UTC time (`2026-01-02T03:04:05.678Z`) at the start of `s`.
fn time_at(s: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if s.len() < shape.len() {
        return None;
    }
    for (c, want) in s.iter().zip(shape) {
        let ok = if *want == b'd' {
            c.is_ascii_digit()
        } else {
            c == want
        };
        if !ok {
            return None;
        }
    }
    let mut n = shape.len();
    if s.get(n) == Some(&b'.') {
        n += 1;
        while s.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
    }
    (s.get(n) == Some(&b'Z')).then_some(n + 1)
}

fn has_time(s: &str) -> bool {
    (0..s.len()).any(|i| time_at(&s.as_bytes()[i..]).is_some())
}

/// `s` with each RFC 3339 time replaced by the time marker.
fn mark_times(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        if let Some(n) = time_at(&b[i..]) {
            out.push_str(&s[from..i]);
            out.push_str(NOW);
            i += n;
            from = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_from_two_runs() {
        let mut skipped = Vec::new();
        let t = template(
            r#"{"m":"event 1-0","at":"2026-01-02T03:04:05.678Z"}"#,
            r#"{"m":"event 2-1","at":"2026-01-02T03:04:05.690Z"}"#,
            "POST /x",
            &mut skipped,
        );
        assert_eq!(t, r#"{"m":"event {{vu}}-{{iter}}","at":"{{now}}"}"#);
        assert!(skipped.is_empty());
        assert_eq!(template("/a/7", "/a/9", "GET", &mut skipped), "/a/7");
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn status_checks_by_name() {
        assert_eq!(status_of("status is 200"), Some(200));
        assert_eq!(status_of("Status == 201"), Some(201));
        assert_eq!(status_of("under 500ms"), None);
        assert_eq!(status_of("status is not 500"), None);
        assert_eq!(under_of("under 500ms").as_deref(), Some("<500ms"));
        assert_eq!(under_of("duration < 2s").as_deref(), Some("<2s"));
        assert_eq!(under_of("under 5 users"), None);
    }
}
