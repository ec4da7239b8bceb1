//! HTTP options: `defaults:` (timeout, http2, TLS, keep-alive, redirects, headers, tags),
//! `base_url`, and the header rule shared with request steps.
use super::Cx;
use crate::model::{Http2Mode, Http2Sharing, HttpOptions};
use crate::raw::{Json, RawDefaults, S};
use crate::DnsSettings;

/// `defaults:` as the HTTP options every request starts from.
pub(super) fn compile_defaults(cx: &mut Cx<'_>, d: &RawDefaults) -> HttpOptions {
    let mut h = HttpOptions::default();
    if let Some(t) = &d.timeout {
        if let Some(v) = cx.dur(t, "timeout") {
            h.timeout = v;
        }
    }
    if let Some(v) = &d.http2 {
        h.http2 = match &v.value {
            Json::Bool(true) => Http2Mode::Auto,
            Json::Bool(false) => Http2Mode::Off,
            Json::String(s) if s == "prior-knowledge" => Http2Mode::PriorKnowledge,
            Json::String(s) if s == "auto" => Http2Mode::Auto,
            _ => {
                cx.err(v, "http2: expected true, false or `prior-knowledge`");
                Http2Mode::Auto
            }
        };
    }
    h.http2_sharing = sharing(cx, d, h.http2);
    h.insecure_skip_tls_verify = d.insecure_skip_tls_verify;
    if let Some(ca) = &d.ca_file {
        let p = cx.base_dir.join(&ca.value);
        if !cx.files.is_file(&p) {
            cx.err(ca, format!("ca_file {} does not exist", p.display()));
        }
        h.ca_file = Some(p);
    }
    if let Some(k) = d.keepalive {
        h.keepalive = k;
    }
    if let Some(m) = d.max_redirects {
        h.max_redirects = m;
    }
    if let Some(dns) = &d.dns {
        match read_dns(&dns.value) {
            Ok(v) => h.dns = v,
            Err(e) => cx.err(dns, format!("dns: {e}")),
        }
    }
    for (k, v) in &d.headers {
        check_header(cx, k, v);
    }
    h.headers = d
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), cx.tpl(v, &[])))
        .collect();
    h.tags = d.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    h
}

/// Most connections or streams a plan may ask for.
const MAX_SHARING: u64 = 1_000_000;

/// `http2_connections` and `http2_streams`: VUs sharing HTTP/2 connections.
fn sharing(cx: &mut Cx<'_>, d: &RawDefaults, mode: Http2Mode) -> Option<Http2Sharing> {
    let mut count = |v: &S<u64>, key: &str| {
        if (1..=MAX_SHARING).contains(&v.value) {
            Some(v.value as u32)
        } else {
            cx.err(
                v,
                format!("{key}: expected 1 to 1,000,000, got {}", v.value),
            );
            None
        }
    };
    let (conns, streams) = match (&d.http2_connections, &d.http2_streams) {
        (None, None) => return None,
        (None, Some(st)) => {
            cx.err(
                st,
                "http2_streams needs http2_connections (how many connections the VUs share)",
            );
            return None;
        }
        (Some(c), st) => (c, st),
    };
    let connections = count(conns, "http2_connections")?;
    let streams = match streams {
        Some(st) => count(st, "http2_streams")?,
        None => 100,
    };
    if mode == Http2Mode::Off {
        cx.err(
            conns,
            "http2_connections shares HTTP/2 connections, but http2 is false",
        );
        return None;
    }
    if d.keepalive == Some(false) {
        cx.err(
            conns,
            "http2_connections shares kept-alive connections, but keepalive is false",
        );
        return None;
    }
    Some(Http2Sharing {
        connections,
        streams,
    })
}

/// `dns:` as k6's string (`ttl=1m,select=first`) or a mapping of the same keys.
fn read_dns(v: &Json) -> Result<DnsSettings, String> {
    match v {
        Json::String(s) => crate::parse_dns(s),
        Json::Object(m) => {
            let mut d = DnsSettings::default();
            for (k, v) in m {
                let text = match v {
                    Json::String(s) => s.clone(),
                    Json::Number(n) => n.to_string(),
                    _ => return Err(format!("`{k}`: expected a string")),
                };
                crate::dns::set_dns(&mut d, k, &text)?;
            }
            Ok(d)
        }
        _ => {
            Err("expected `ttl=…,select=…,policy=…` or a mapping of ttl, select and policy".into())
        }
    }
}

/// `base_url` without its trailing `/`; it must be an http(s) URL.
pub(super) fn compile_base_url(cx: &mut Cx<'_>, base_url: &Option<S<String>>) -> Option<String> {
    base_url.as_ref().and_then(|b| {
        let v = b.value.trim_end_matches('/').to_string();
        if throng_metrics::has_http_scheme(&v) {
            Some(v)
        } else {
            cx.err(
                b,
                format!("base_url `{}` must start with http:// or https://", b.value),
            );
            None
        }
    })
}

/// The text of a template outside its `{{ ... }}` expressions.
pub(super) fn literal(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        rest = match rest[open..].find("}}") {
            Some(close) => &rest[open + close + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// A header name must be an HTTP token and its value must not hold CR, LF or other control
/// characters (they would split the request, so the client would drop the header).
pub(super) fn check_header(cx: &mut Cx<'_>, name: &str, value: &S<String>) {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        cx.err(
            value,
            format!(
                "`{}` is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                name.escape_default()
            ),
        );
    }
    if literal(&value.value)
        .chars()
        .any(|c| c.is_control() && c != '\t')
    {
        cx.err(
            value,
            format!(
                "header `{}`: the value must not contain CR, LF or other control characters",
                name.escape_default()
            ),
        );
    }
}
