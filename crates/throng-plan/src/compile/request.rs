//! A request step: its URL, name, query, headers, body (`body`, `json` or `form`), timeout,
//! tags, checks and extracts.
use super::check::compile_checks;
use super::extract::compile_extract;
use super::http::{check_header, literal};
use super::metrics::{compile_add, compile_statuses};
use super::poll::compile_poll;
use super::step::FlowCx;
use super::Cx;
use crate::model::{Body, CheckKind, Extract, ExtractFrom, Request, Step};
use crate::raw::{RawStep, S};
use crate::template::Template;

/// The request of step `s`, sent with `method` to `url_s`.
pub(super) fn compile_request(
    cx: &mut Cx<'_>,
    s: &S<RawStep>,
    method: String,
    url_s: &S<String>,
    fcx: &FlowCx<'_>,
) -> Option<Step> {
    let FlowCx {
        vars,
        http,
        group,
        has_base_url,
        extract_prefix,
    } = *fcx;
    let r = &s.value;
    if url_s.value.starts_with('/') && !has_base_url {
        cx.err(
            url_s,
            format!(
                "`{}` is a path but the plan has no base_url: add `base_url: http://host:port` or use a full URL",
                url_s.value
            ),
        );
    } else if !url_s.value.starts_with('/')
        && !throng_metrics::has_http_scheme(&url_s.value)
        && !url_s.value.starts_with("{{")
    {
        cx.err(
            url_s,
            format!(
                "`{}` is not a URL: expected a path starting with `/` or a full http(s):// URL",
                url_s.value
            ),
        );
    }
    if literal(&url_s.value)
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        cx.err(
            url_s,
            format!(
                "the URL `{}` contains a space or a control character: percent-encode it (a space is %20)",
                url_s.value.escape_default()
            ),
        );
    }
    let url = cx.tpl(url_s, vars);
    let name = r
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| url_s.value.clone());
    let query = r
        .query
        .iter()
        .map(|(k, v)| (k.clone(), cx.tpl(v, vars)))
        .collect();
    let mut headers: Vec<(String, Template)> = http
        .headers
        .iter()
        .filter(|(k, _)| !r.headers.keys().any(|h| h.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    for (k, v) in &r.headers {
        check_header(cx, k, v);
        headers.push((k.clone(), cx.tpl(v, vars)));
    }
    let bodies = [r.body.is_some(), r.json.is_some(), r.form.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if bodies > 1 {
        cx.err(s, "use only one of body, json and form");
    }
    let (body, content_type) = if let Some(b) = &r.body {
        (Some(Body::Text(cx.tpl(b, vars))), None)
    } else if let Some(j) = &r.json {
        (
            Some(Body::Text(cx.json_tpl(j, vars))),
            Some("application/json"),
        )
    } else if let Some(f) = &r.form {
        let fields = f
            .value
            .iter()
            .map(|(k, v)| (k.clone(), cx.tpl(v, vars)))
            .collect();
        (
            Some(Body::Form(fields)),
            Some("application/x-www-form-urlencoded"),
        )
    } else {
        (None, None)
    };
    let timeout = r.timeout.as_ref().and_then(|t| cx.dur(t, "timeout"));
    let mut checks = r
        .check
        .as_ref()
        .map(|c| compile_checks(cx, c))
        .unwrap_or_default();
    for c in &r.checks {
        checks.extend(compile_checks(cx, c));
    }
    let expected = match &r.expected_statuses {
        Some(e) => compile_statuses(cx, e).unwrap_or_else(|| cx.expected.clone()),
        None => cx.expected.clone(),
    };
    let add = compile_add(cx, &r.add, vars);
    let mut extract = Vec::new();
    for (var, e) in &r.extract {
        let stored = format!("{extract_prefix}{var}");
        let var_i = vars.iter().position(|v| *v == stored).unwrap_or(0);
        if let Some(from) = compile_extract(cx, var, e) {
            extract.push(Extract { var: var_i, from });
        }
    }
    let poll = compile_poll(cx, s);
    let all_checks = || {
        checks
            .iter()
            .chain(poll.iter().flat_map(|p| p.until.iter()))
    };
    let needs_headers = all_checks().any(|c| matches!(c.kind, CheckKind::Header { .. }))
        || extract
            .iter()
            .any(|e| matches!(e.from, ExtractFrom::Header(_)));
    let needs_body = all_checks().any(|c| {
        matches!(
            c.kind,
            CheckKind::BodyContains(_) | CheckKind::BodyMatches(_) | CheckKind::Json { .. }
        )
    }) || extract
        .iter()
        .any(|e| matches!(e.from, ExtractFrom::Json(_) | ExtractFrom::Regex(_)));
    Some(Step::Request(Box::new(Request {
        method,
        url,
        name,
        query,
        headers,
        body,
        content_type,
        timeout,
        tags: r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        checks,
        extract,
        needs_body,
        needs_headers,
        group: group.to_string(),
        poll,
        expected,
        add,
    })))
}
