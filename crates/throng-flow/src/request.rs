//! Rendering a request step into an [`HttpRequest`].
use bytes::{Bytes, BytesMut};
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

/// Renders every template of `r` into `out`, reusing its buffers (and `buf`, a scratch
/// buffer, and `body`, the storage the body is lent from): on a steady path, rendering a
/// request allocates nothing.
pub(crate) fn build_into(
    plan: &Plan,
    r: &Request,
    method: &Method,
    cx: &mut RenderCtx<'_>,
    (buf, body): (&mut String, &mut BytesMut),
    out: &mut HttpRequest,
) {
    let url = &mut out.url;
    url.clear();
    buf.clear();
    r.url.render(cx, buf);
    if buf.starts_with('/') {
        if let Some(base) = &plan.base_url {
            url.push_str(base);
        }
    }
    url.push_str(buf);
    let mut has_query = url.contains('?');
    for (k, v) in &r.query {
        url.push(if has_query { '&' } else { '?' });
        has_query = true;
        url.extend(utf8_percent_encode(k, QUERY));
        url.push('=');
        buf.clear();
        v.render(cx, buf);
        url.extend(utf8_percent_encode(buf, QUERY));
    }
    let headers = &mut out.headers;
    let n = r.headers.len() + usize::from(r.content_type.is_some());
    headers.resize_with(n, Default::default);
    for ((k, v), (name, value)) in r.headers.iter().zip(headers.iter_mut()) {
        name.clone_from(k);
        value.clear();
        v.render(cx, value);
    }
    match r.content_type {
        Some(ct)
            if !r
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type")) =>
        {
            let (name, value) = &mut headers[n - 1];
            name.clear();
            name.push_str("Content-Type");
            value.clear();
            value.push_str(ct);
        }
        _ => headers.truncate(r.headers.len()),
    }
    // the last request's body is dropped first, so `body` owns its storage again and
    // reuses it (the body is a view of it, `split` off and frozen)
    out.body = Bytes::new();
    body.clear();
    match &r.body {
        None => {}
        Some(Body::Text(t)) => {
            buf.clear();
            t.render(cx, buf);
            body.extend_from_slice(buf.as_bytes());
        }
        Some(Body::Form(fields)) => {
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    body.extend_from_slice(b"&");
                }
                push_encoded(body, k);
                body.extend_from_slice(b"=");
                buf.clear();
                v.render(cx, buf);
                push_encoded(body, buf);
            }
        }
    }
    if !body.is_empty() {
        out.body = body.split().freeze();
    }
    out.method.clone_from(method);
    out.timeout = r.timeout;
    out.keep_body = r.needs_body;
    out.keep_headers = r.needs_headers;
    out.max_redirects = None;
}

/// Appends `s` percent-encoded for a form body.
fn push_encoded(out: &mut BytesMut, s: &str) {
    for part in utf8_percent_encode(s, QUERY) {
        out.extend_from_slice(part.as_bytes());
    }
}
