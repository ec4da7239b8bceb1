//! `monitors:` (one kind each, `every:`) and `slos:` (objective, window, target).
use super::Cx;
use crate::raw::{Json, RawMonitor, RawSlo, S};
use std::collections::BTreeMap;
use std::time::Duration;
use throng_metrics::monitor::{
    split_command, LogPattern, MonitorKind, MonitorSpec, Objective, ProcessTarget, Slo, Subject,
};
use throng_metrics::Builtin;

/// A URL that may be a path joined to `base_url`.
fn url(cx: &mut Cx<'_>, u: &S<String>, base: Option<&str>, what: &str) -> Option<String> {
    let v = u.value.trim();
    if v.starts_with("http://") {
        return Some(v.to_string());
    }
    if v.starts_with("https://") {
        cx.err(u, format!("{what}: monitors speak plain http:// only"));
        return None;
    }
    match (v.starts_with('/'), base) {
        (true, Some(b)) if b.starts_with("http://") => Some(format!("{b}{v}")),
        _ => {
            cx.err(
                u,
                format!("{what}: expected an http:// URL (or a /path with an http:// base_url), got {v:?}"),
            );
            None
        }
    }
}

/// `{{ env.NAME }}` → the env value; other text as it is.
fn env_value(cx: &Cx<'_>, s: &str) -> Option<String> {
    let t = s.trim();
    match t
        .strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .map(str::trim)
        .and_then(|r| r.strip_prefix("env."))
    {
        Some(name) => cx.env.get(name.trim()).cloned(),
        None => Some(t.to_string()),
    }
}

/// A database URL (`{{ env.NAME }}` allowed) that must start with one of `schemes`; an
/// error never shows the password.
fn service_url(cx: &mut Cx<'_>, u: &S<String>, schemes: &[&str], what: &str) -> Option<String> {
    let v = env_value(cx, &u.value).unwrap_or_default();
    if schemes.iter().any(|s| v.starts_with(s)) {
        return Some(v);
    }
    cx.err(
        u,
        format!(
            "{what} url: expected a {} URL, got {:?}",
            schemes[0],
            throng_metrics::redact::url(&v)
        ),
    );
    None
}

fn kind(cx: &mut Cx<'_>, name: &str, m: &S<RawMonitor>, base: Option<&str>) -> Option<MonitorKind> {
    let r = &m.value;
    let given = [
        r.prometheus.is_some(),
        r.process.is_some(),
        r.log.is_some(),
        r.http.is_some(),
        r.postgres.is_some(),
        r.redis.is_some(),
        r.promql.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        cx.err(
            m,
            format!("monitor `{name}`: expected exactly one of prometheus, promql, process, postgres, redis, log, http"),
        );
        return None;
    }
    if let Some(p) = &r.prometheus {
        let u = url(cx, &p.value.url, base, "prometheus url")?;
        return Some(MonitorKind::Prometheus {
            url: u,
            select: p.value.select.iter().map(|s| s.value.clone()).collect(),
        });
    }
    if let Some(p) = &r.process {
        let v = &p.value;
        let n = [v.pid.is_some(), v.name.is_some(), v.cgroup.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if n != 1 {
            cx.err(p, "process: expected exactly one of pid, name, cgroup");
            return None;
        }
        if let Some(pid) = &v.pid {
            let text = match &pid.value {
                Json::Number(n) => Some(n.to_string()),
                Json::String(s) => env_value(cx, s),
                _ => None,
            };
            return match text
                .as_deref()
                .map(str::trim)
                .and_then(|t| t.parse::<u32>().ok())
            {
                Some(p) => Some(MonitorKind::Process(ProcessTarget::Pid(p))),
                None => {
                    cx.err(
                        pid,
                        "process pid: expected a process id (or \"{{ env.NAME }}\" holding one)",
                    );
                    None
                }
            };
        }
        if let Some(name) = &v.name {
            return match env_value(cx, &name.value).filter(|n| !n.trim().is_empty()) {
                Some(n) => Some(MonitorKind::Process(ProcessTarget::Name(n))),
                None => {
                    cx.err(name, "process name: empty (or an unset env value)");
                    None
                }
            };
        }
        if let Some(c) = &v.cgroup {
            return Some(MonitorKind::Process(ProcessTarget::Cgroup(
                c.value.clone().into(),
            )));
        }
    }
    if let Some(l) = &r.log {
        let mut patterns = Vec::new();
        if l.value.patterns.is_empty() {
            cx.err(l, "log: expected `patterns:` with at least one name: regex");
        }
        for (pname, re) in &l.value.patterns {
            match regex::Regex::new(&re.value) {
                Ok(regex) => patterns.push(LogPattern {
                    name: pname.clone(),
                    regex,
                }),
                Err(e) => cx.err(re, format!("log pattern `{pname}`: {e}")),
            }
        }
        return Some(MonitorKind::Log {
            file: cx.base_dir.join(&l.value.file.value),
            patterns,
        });
    }
    if let Some(p) = &r.postgres {
        let u = service_url(
            cx,
            &p.value.url,
            &["postgres://", "postgresql://"],
            "postgres",
        )?;
        return Some(MonitorKind::Postgres {
            url: u,
            top: p.value.top.as_ref().map_or(5, |t| t.value as usize),
            reset_statements: p.value.reset_statements.as_ref().is_some_and(|r| r.value),
        });
    }
    if let Some(rd) = &r.redis {
        let u = service_url(cx, &rd.value.url, &["redis://"], "redis")?;
        let mut keys = Vec::new();
        for (k, c) in &rd.value.keys {
            match split_command(&c.value) {
                Ok(_) => keys.push((k.clone(), c.value.clone())),
                Err(e) => cx.err(c, format!("redis keys `{k}`: {e}")),
            }
        }
        return Some(MonitorKind::Redis { url: u, keys });
    }
    if let Some(q) = &r.promql {
        let v = env_value(cx, &q.value.url.value).unwrap_or_default();
        if !v.starts_with("http://") {
            cx.err(
                &q.value.url,
                format!("promql url: expected the http:// URL of a Prometheus server, got {v:?}"),
            );
            return None;
        }
        if q.value.queries.is_empty() {
            cx.err(
                q,
                "promql: expected `queries:` with at least one name: query",
            );
            return None;
        }
        return Some(MonitorKind::Promql {
            url: v,
            queries: q
                .value
                .queries
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
        });
    }
    if let Some(h) = &r.http {
        let u = url(cx, &h.value.get, base, "http get")?;
        if h.value.save_as.value.trim().is_empty() {
            cx.err(&h.value.save_as, "http save_as: empty");
            return None;
        }
        return Some(MonitorKind::Http {
            url: u,
            save_as: h.value.save_as.value.clone(),
        });
    }
    None
}

/// Every monitor of the plan.
pub(super) fn compile_monitors(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<String, S<RawMonitor>>,
    base_url: Option<&str>,
) -> Vec<MonitorSpec> {
    let mut out = Vec::new();
    for (name, m) in raw {
        if name.is_empty() || name.contains(['.', ' ', '{', '}']) {
            cx.err(
                m,
                format!("monitor name {name:?}: use letters, digits, `_` and `-`"),
            );
            continue;
        }
        let every = match &m.value.every {
            Some(e) => match cx.dur(e, "every") {
                Some(d) if d >= Duration::from_millis(100) => d,
                Some(_) => {
                    cx.err(e, "every: at least 100ms");
                    continue;
                }
                None => continue,
            },
            None => Duration::ZERO,
        };
        if let Some(kind) = kind(cx, name, m, base_url) {
            out.push(MonitorSpec {
                name: name.clone(),
                every: if every.is_zero() {
                    kind.default_every()
                } else {
                    every
                },
                kind,
            });
        }
    }
    out
}

fn target(cx: &mut Cx<'_>, t: &S<Json>) -> Option<f64> {
    let v = match &t.value {
        Json::Number(n) => n.as_f64().map(|v| if v > 1.0 { v / 100.0 } else { v }),
        Json::String(s) => s
            .trim()
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<f64>().ok())
            .map(|p| p / 100.0),
        _ => None,
    };
    match v {
        Some(v) if v > 0.0 && v <= 1.0 => Some(v),
        _ => {
            cx.err(t, "target: expected a share of windows like `95%` or 0.95");
            None
        }
    }
}

/// Every SLO of the plan.
pub(super) fn compile_slos(cx: &mut Cx<'_>, raw: &BTreeMap<String, S<RawSlo>>) -> Vec<Slo> {
    let mut out = Vec::new();
    for (name, s) in raw {
        let r = &s.value;
        let objective = match Objective::parse(&r.objective.value) {
            Ok(o) => o,
            Err(e) => {
                cx.err(&r.objective, e);
                continue;
            }
        };
        if let Subject::Metric { metric, .. } = &objective.subject {
            let custom = cx
                .custom_metrics
                .iter()
                .find(|m| &m.name == metric)
                .map(|m| m.kind);
            match Builtin::lookup(metric).map(|(k, _)| k).or(custom) {
                None => {
                    cx.err(
                        &r.objective,
                        format!("objective: unknown metric `{metric}`"),
                    );
                    continue;
                }
                Some(kind) => {
                    if let Err(valid) = objective.expr.stat.check_kind(kind) {
                        cx.err(
                            &r.objective,
                            format!(
                                "objective: `{}` does not apply to {} metric `{metric}`: use {valid}",
                                objective.expr.stat.name(),
                                kind.as_str()
                            ),
                        );
                        continue;
                    }
                }
            }
        }
        let window = match &r.window {
            Some(w) => match cx.dur(w, "window") {
                Some(d) if d >= Duration::from_secs(1) => d,
                Some(_) => {
                    cx.err(w, "window: at least 1s");
                    continue;
                }
                None => continue,
            },
            None => Duration::from_secs(60),
        };
        let target = match &r.target {
            Some(t) => match target(cx, t) {
                Some(t) => t,
                None => continue,
            },
            None => 0.95,
        };
        out.push(Slo {
            name: name.clone(),
            objective,
            window,
            target,
        });
    }
    out
}
