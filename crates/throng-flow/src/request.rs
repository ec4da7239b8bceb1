//! Rendering a request step into an [`HttpRequest`].
use bytes::Bytes;
use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use throng_http::HttpRequest;
use throng_plan::{Body, Plan, RenderCtx, Request};

/// Characters escaped in query strings and form bodies (everything but unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn render(t: &throng_plan::Template, cx: &mut RenderCtx<'_>, buf: &mut String) -> String {
    buf.clear();
    t.render(cx, buf);
    buf.clone()
}

/// Renders every template of `r`; `buf` is a reused scratch buffer.
pub(crate) fn build(
    plan: &Plan,
    r: &Request,
    cx: &mut RenderCtx<'_>,
    buf: &mut String,
) -> HttpRequest {
    let mut url = String::new();
    buf.clear();
    r.url.render(cx, buf);
    if buf.starts_with('/') {
        if let Some(base) = &plan.base_url {
            url.push_str(base);
        }
    }
    url.push_str(buf);
    for (i, (k, v)) in r.query.iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push(sep);
        url.extend(utf8_percent_encode(k, QUERY));
        url.push('=');
        let val = render(v, cx, buf);
        url.extend(utf8_percent_encode(&val, QUERY));
    }
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), render(v, cx, buf)))
        .collect();
    if let Some(ct) = r.content_type {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), ct.into()));
        }
    }
    let body = match &r.body {
        None => Bytes::new(),
        Some(Body::Text(t)) => Bytes::from(render(t, cx, buf)),
        Some(Body::Form(fields)) => {
            let mut s = String::new();
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    s.push('&');
                }
                s.extend(utf8_percent_encode(k, QUERY));
                s.push('=');
                let val = render(v, cx, buf);
                s.extend(utf8_percent_encode(&val, QUERY));
            }
            Bytes::from(s)
        }
    };
    HttpRequest {
        method: Method::from_bytes(r.method.as_bytes()).unwrap_or(Method::GET),
        url,
        headers,
        body,
        timeout: r.timeout,
        keep_body: r.needs_body,
        keep_headers: !r.checks.is_empty() || !r.extract.is_empty(),
        max_redirects: None,
    }
}
