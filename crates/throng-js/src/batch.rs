//! `http.batch(requests)`: a VU's requests sent in parallel, each on its own connection
//! (the VU's client for the first, clients kept for the VU's batches for the others), at
//! most [`MAX_PARALLEL`] at a time as k6's `batch` option defaults to. Every request of a
//! batch uses the VU's cookie jar, as in k6: the others carry the jar's `Cookie` header,
//! and the cookies their responses set go into the jar.
use crate::driver::{send, TagCache};
use crate::msg::{HttpCall, In, Op};
use crate::shared::Shared;
use crate::suspend::Suspender;
use crate::vm::{answer, prepare, Running};
use rquickjs::{Array, Ctx, Exception, Function, Object, Value};
use std::rc::Rc;
use std::sync::Arc;
use throng_http::{HttpClient, HttpResponse};

/// Requests of one batch in flight at once (k6's `batch` default).
pub(crate) const MAX_PARALLEL: usize = 20;

/// Sends `calls` in parallel; the responses in the same order.
pub(crate) async fn run(
    main: &mut HttpClient,
    tags: &mut TagCache,
    pool: &mut Vec<(HttpClient, TagCache)>,
    shared: &Arc<Shared>,
    calls: &mut [HttpCall],
) -> Vec<HttpResponse> {
    let Some(cfg) = shared.http.clone() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(calls.len());
    for chunk in calls.chunks_mut(MAX_PARALLEL) {
        while pool.len() + 1 < chunk.len() {
            pool.push((HttpClient::new(cfg.clone()), TagCache::default()));
        }
        let Some((first, rest)) = chunk.split_first_mut() else {
            continue;
        };
        for call in rest.iter_mut() {
            lend_jar(main, call);
        }
        for (c, _) in pool.iter_mut() {
            c.clear_cookies();
        }
        let head = send(main, shared, tags, first);
        let others = pool
            .iter_mut()
            .zip(rest.iter())
            .map(|((c, t), call)| send(c, shared, t, call));
        let (a, b) = futures_util::future::join(head, futures_util::future::join_all(others)).await;
        for (r, call) in b.iter().zip(rest.iter()) {
            main.use_jar(call.jar);
            for v in r.headers.get_all(http::header::SET_COOKIE) {
                if let Ok(v) = v.to_str() {
                    main.set_cookie(&r.url, v);
                }
            }
        }
        out.push(a);
        out.extend(b);
    }
    out
}

/// Gives a request sent by another client of the batch its jar's `Cookie` header (the
/// VU's own or `params.jar`)
/// (unless the script set one: `params.cookies` already merged the jar's).
fn lend_jar(main: &mut HttpClient, call: &mut HttpCall) {
    let h = &mut call.req.headers;
    if h.iter().any(|(k, _)| k.eq_ignore_ascii_case("cookie")) {
        return;
    }
    main.use_jar(call.jar);
    if let Some(c) = main.cookies_for(&call.req.url) {
        h.push(("Cookie".into(), c));
    }
}

/// Adds `__n.batch(requests)` (each `[method, url, body, contentType, params]`) to the
/// natives — the responses as `__n.http` answers them, in the same order — and
/// `__n.httpExtra()`, which compiles `js/http_extra.js` (batch, multipart, cookies, auth).
pub(crate) fn register<'js>(
    ctx: &Ctx<'js>,
    n: &Object<'js>,
    st: &Running,
    shared: &Arc<Shared>,
    sus: &Rc<Suspender>,
) -> rquickjs::Result<()> {
    // k6/http's less common parts, compiled on a VU's first use of them
    n.set(
        "httpExtra",
        Function::new(ctx.clone(), |ctx: Ctx<'js>| {
            ctx.eval::<Value<'js>, _>(include_str!("js/http_extra.js"))
        })?,
    )?;
    let (s, sh, su) = (st.clone(), shared.clone(), sus.clone());
    n.set(
        "batch",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, reqs: Vec<Array<'js>>| {
            let mut calls = Vec::with_capacity(reqs.len());
            let mut keep = Vec::with_capacity(reqs.len());
            let st = s.st();
            for r in reqs {
                let (call, k) = prepare(
                    &ctx,
                    &st,
                    &sh,
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<Option<Object>>(4)?,
                )?;
                calls.push(call);
                keep.push(k);
            }
            let rs = match su.suspend(Op::Batch(calls)) {
                In::Batch(rs) if rs.len() == keep.len() => rs,
                _ => {
                    return Err(Exception::throw_message(
                        &ctx,
                        "the iteration was interrupted",
                    ))
                }
            };
            let out = Array::new(ctx.clone())?;
            for (i, (r, k)) in rs.iter().zip(keep).enumerate() {
                out.set(i, answer(&ctx, r, k)?)?;
            }
            Ok::<Value<'js>, rquickjs::Error>(out.into_value())
        })?,
    )?;
    Ok(())
}
