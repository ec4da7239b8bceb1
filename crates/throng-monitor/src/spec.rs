//! What to monitor: the validated monitor specs a plan's `monitors:` block and the
//! `--monitor` flag compile to.
use regex::Regex;
use std::path::PathBuf;
pub use throng_metrics::monitor::{LogPattern, MonitorKind, MonitorSpec, ProcessTarget};

/// `url` with its password replaced by `***` (`postgres://u:***@h/db`), for reports and
/// logs (throng-metrics' one rule for secrets in URLs).
pub fn redact_url(url: &str) -> String {
    throng_metrics::redact::url(url).into_owned()
}

/// Parses a `--monitor` flag: `KIND[.NAME]=VALUE` — `prometheus=URL`, `process=PID`,
/// `process=NAME`, `cgroup=PATH`, `log=FILE` (counts lines matching `error`, any case),
/// `postgres=URL`, `redis=URL`.
/// The name defaults to the kind; `taken` are names already in use (`-2`, `-3` is added).
pub fn parse_flag(flag: &str, taken: &[String]) -> Result<MonitorSpec, String> {
    let shown = redact_url(flag);
    let (key, value) = flag
        .split_once('=')
        .ok_or_else(|| format!("--monitor {shown:?}: expected KIND=VALUE, e.g. prometheus=http://127.0.0.1:8080/metrics or process=1234"))?;
    let (kind, name) = match key.split_once('.') {
        Some((k, n)) if !n.is_empty() => (k, Some(n.to_string())),
        _ => (key, None),
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("--monitor {shown:?}: the value is empty"));
    }
    let kind = match kind {
        "prometheus" => {
            if !value.starts_with("http://") {
                return Err(format!(
                    "--monitor {shown:?}: expected an http:// URL of a /metrics endpoint"
                ));
            }
            MonitorKind::Prometheus {
                url: value.to_string(),
                select: Vec::new(),
            }
        }
        "process" => MonitorKind::Process(match value.parse::<u32>() {
            Ok(pid) => ProcessTarget::Pid(pid),
            Err(_) => ProcessTarget::Name(value.to_string()),
        }),
        "cgroup" => MonitorKind::Process(ProcessTarget::Cgroup(PathBuf::from(value))),
        "log" => MonitorKind::Log {
            file: PathBuf::from(value),
            patterns: vec![LogPattern {
                name: "errors".into(),
                regex: Regex::new("(?i)error").map_err(|e| e.to_string())?,
            }],
        },
        "postgres" => {
            if !value.starts_with("postgres://") && !value.starts_with("postgresql://") {
                return Err(format!(
                    "--monitor {shown:?}: expected a postgres:// URL"
                ));
            }
            MonitorKind::Postgres {
                url: value.to_string(),
                top: 5,
                reset_statements: false,
            }
        }
        "redis" => {
            if !value.starts_with("redis://") {
                return Err(format!(
                    "--monitor {shown:?}: expected a redis:// URL"
                ));
            }
            MonitorKind::Redis {
                url: value.to_string(),
                keys: Vec::new(),
            }
        }
        other => {
            return Err(format!(
                "--monitor {shown:?}: unknown kind `{other}`: expected prometheus, process, cgroup, log, postgres or redis"
            ))
        }
    };
    let base = name.unwrap_or_else(|| match &kind {
        MonitorKind::Process(ProcessTarget::Cgroup(_)) => "cgroup".into(),
        k => k.name().into(),
    });
    let mut name = base.clone();
    let mut i = 2;
    while taken.contains(&name) {
        name = format!("{base}-{i}");
        i += 1;
    }
    Ok(MonitorSpec {
        name,
        every: kind.default_every(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn flags() {
        let p = parse_flag("prometheus=http://127.0.0.1:8080/metrics", &[]).expect("ok");
        assert_eq!(p.name, "prometheus");
        let q = parse_flag("process=1234", &["process".into()]).expect("ok");
        assert_eq!(q.name, "process-2");
        assert!(matches!(
            q.kind,
            MonitorKind::Process(ProcessTarget::Pid(1234))
        ));
        let n = parse_flag("process.api=serve-demo", &[]).expect("ok");
        assert_eq!(n.name, "api");
        assert!(
            matches!(n.kind, MonitorKind::Process(ProcessTarget::Name(ref s)) if s == "serve-demo")
        );
        assert!(parse_flag("nope=1", &[]).is_err());
        assert!(parse_flag("prometheus", &[]).is_err());
        assert!(parse_flag("prometheus=ftp://x", &[]).is_err());
        let pg = parse_flag("postgres=postgres://u:pw@127.0.0.1:5432/db", &[]).expect("ok");
        assert_eq!(
            (pg.name.as_str(), pg.every),
            ("postgres", Duration::from_secs(5))
        );
        let e = parse_flag("postgres=mysql://u:pw@h/db", &[]).expect_err("not postgres");
        assert!(!e.contains("pw"), "{e}");
        let r = parse_flag("redis.cache=redis://127.0.0.1:6379", &[]).expect("ok");
        assert_eq!(
            (r.name.as_str(), r.every),
            ("cache", Duration::from_secs(1))
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://throng:s3cret@127.0.0.1:5432/postgres"),
            "postgres://throng:***@127.0.0.1:5432/postgres"
        );
        assert_eq!(redact_url("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(
            redact_url("postgres://u@h/db?x=a@b"),
            "postgres://u@h/db?x=a@b"
        );
        assert_eq!(redact_url("http://a:b@c/p@q"), "http://a:***@c/p@q");
    }
}
