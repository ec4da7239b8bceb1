//! `data_sources:`: PostgreSQL pools and Redis servers that `sql:` and `redis:` steps name.
use super::Cx;
use crate::protocols::{Source, SourceKind};
use crate::raw::{RawDataSource, S};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every data source; errors for a source that is not exactly one of postgres or redis,
/// a URL that is not one, or options of the other kind.
pub(super) fn compile_sources(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<String, S<RawDataSource>>,
) -> Vec<Source> {
    let mut out = Vec::new();
    for (name, s) in raw {
        let r = &s.value;
        let (url, scheme, kind) = match (&r.postgres, &r.redis) {
            (Some(u), None) => (u, ["postgres://", "postgresql://"], "postgres"),
            (None, Some(u)) => (u, ["redis://", "rediss://"], "redis"),
            _ => {
                cx.err(s, format!("data source `{name}`: expected exactly one of `postgres: URL` or `redis: URL`"));
                continue;
            }
        };
        let t = cx.tpl(url, &[]);
        let Some(text) = t.as_static().map(str::to_string) else {
            cx.err(
                url,
                format!(
                    "data source `{name}`: the URL may use env values only (`{{{{env.NAME}}}}`)"
                ),
            );
            continue;
        };
        if !scheme.iter().any(|p| text.starts_with(p)) {
            cx.err(
                url,
                format!(
                    "data source `{name}`: expected a {} URL, not `{}`",
                    scheme[0],
                    throng_metrics::redact::url(&text)
                ),
            );
            continue;
        }
        if let Some(pw) = password(&text) {
            cx.secrets.push(pw);
        }
        if kind == "redis" {
            for (o, present) in [
                ("pool", r.pool.is_some()),
                ("acquire_timeout", r.acquire_timeout.is_some()),
                ("statement_timeout", r.statement_timeout.is_some()),
                ("ca_file", r.ca_file.is_some()),
            ] {
                if present {
                    cx.err(
                        s,
                        format!("data source `{name}`: `{o}` applies to postgres sources"),
                    );
                }
            }
            out.push(Source {
                name: name.clone(),
                kind: SourceKind::Redis { url: text },
            });
            continue;
        }
        let pool = r.pool.as_ref().map_or(10, |p| p.value);
        if let Some(p) = &r.pool {
            if p.value == 0 || p.value > 10_000 {
                cx.err(p, format!("data source `{name}`: pool must be 1 to 10000"));
            }
        }
        if let Some(mode) = url_param(&text, "sslmode") {
            const MODES: [&str; 6] = [
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full",
            ];
            if !MODES.contains(&mode) {
                cx.err(
                    url,
                    format!("data source `{name}`: sslmode `{mode}`: expected disable, prefer, require, verify-ca or verify-full"),
                );
            }
        }
        let ca_file = r.ca_file.as_ref().map(|f| {
            let path = cx.base_dir.join(&f.value);
            if !path.is_file() {
                cx.err(
                    f,
                    format!(
                        "data source `{name}`: ca_file: cannot read `{}`: no such file",
                        path.display()
                    ),
                );
            }
            path
        });
        let dur = |cx: &mut Cx<'_>, d: &Option<S<String>>, what: &str| {
            d.as_ref().and_then(|d| cx.dur(d, what))
        };
        out.push(Source {
            name: name.clone(),
            kind: SourceKind::Postgres {
                url: text,
                pool: pool as usize,
                acquire_timeout: dur(cx, &r.acquire_timeout, "acquire_timeout")
                    .unwrap_or(Duration::from_secs(5)),
                statement_timeout: dur(cx, &r.statement_timeout, "statement_timeout"),
                connect_timeout: dur(cx, &r.connect_timeout, "connect_timeout")
                    .unwrap_or(Duration::from_secs(10)),
                ca_file,
            },
        });
    }
    out
}

/// The value of query parameter `key` of `url` (`?sslmode=require`).
fn url_param<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The password of `scheme://user:password@host...`, if it has one.
fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split('@').next().filter(|_| rest.contains('@'))?;
    let pw = userinfo.split_once(':')?.1;
    (!pw.is_empty()).then(|| pw.to_string())
}

/// The index of the source a step names (`db:`/`server:`), or the plan's only source of
/// `kind`; an error at `at` otherwise.
pub(super) fn pick_source<T>(
    cx: &mut Cx<'_>,
    named: Option<&S<String>>,
    kind: &str,
    at: &S<T>,
) -> Option<usize> {
    let is_kind = |s: &Source| match s.kind {
        SourceKind::Postgres { .. } => kind == "postgres",
        SourceKind::Redis { .. } => kind == "redis",
    };
    if let Some(n) = named {
        return match cx.sources.iter().position(|s| s.name == n.value) {
            Some(i) if is_kind(&cx.sources[i]) => Some(i),
            Some(_) => {
                cx.err(
                    n,
                    format!("data source `{}` is not a {kind} source", n.value),
                );
                None
            }
            None => {
                let known: Vec<&str> = cx.sources.iter().map(|s| s.name.as_str()).collect();
                cx.err(
                    n,
                    format!(
                        "no data source `{}` (data_sources: {})",
                        n.value,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
                None
            }
        };
    }
    let of_kind: Vec<usize> = (0..cx.sources.len())
        .filter(|i| is_kind(&cx.sources[*i]))
        .collect();
    match of_kind.as_slice() {
        [one] => Some(*one),
        [] => {
            cx.err(
                at,
                format!("no {kind} data source: add `data_sources: {{ NAME: {{ {kind}: URL }} }}`"),
            );
            None
        }
        _ => {
            cx.err(
                at,
                format!(
                    "the plan has several {kind} data sources: name one (`{}: NAME`)",
                    if kind == "redis" { "server" } else { "db" }
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::password;

    #[test]
    fn passwords_are_found_in_urls() {
        assert_eq!(
            password("postgres://app:s3cret@h:5432/db").as_deref(),
            Some("s3cret")
        );
        assert_eq!(
            password("redis://:pw@127.0.0.1:6379").as_deref(),
            Some("pw")
        );
        assert_eq!(password("postgres://app@h/db"), None);
        assert_eq!(password("redis://127.0.0.1:6379"), None);
    }
}
