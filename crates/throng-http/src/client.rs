//! The per-VU client: connection reuse, request building, timing, redirects and cookies.
use crate::conn::{connect, Conn, ConnectTimes, H2Sender, Origin, Sender};
use crate::cookies::CookieJar;
use crate::deadline::{within, Timer};
use crate::dns::DnsCache;
use crate::error::ErrorKind;
use crate::h1::{Out, SendError, Sent, H1};
use crate::head::BodyKind;
use crate::http2::{Keep, OwnHeaders};
use crate::pool::{Checkout, Lease, OriginPool, SharedConn};
use crate::target::{LastUrl, Target};
use crate::tls::{HttpVersion, SharedConfig};
use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{HeaderMap, Method};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// One request to send.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body (empty for none).
    pub body: Bytes,
    /// Timeout (the client's default when `None`).
    pub timeout: Option<Duration>,
    /// Keep the response body (otherwise it is read and discarded).
    pub keep_body: bool,
    /// Keep every response header (otherwise only `Set-Cookie` and `Location`).
    pub keep_headers: bool,
    /// Most redirects to follow (the client's `max_redirects` when `None`; 0: none).
    pub max_redirects: Option<u32>,
}

/// k6's request phases, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Waiting for a connection (includes DNS, connect and TLS of a new one).
    pub blocked: f64,
    /// TCP connect.
    pub connecting: f64,
    /// TLS handshake.
    pub tls_handshaking: f64,
    /// Writing the request.
    pub sending: f64,
    /// Time to first byte after sending.
    pub waiting: f64,
    /// Reading the response.
    pub receiving: f64,
}

impl Timings {
    /// The phases of a request that waited `blocked` ms for its connection, set up as `ct`.
    fn of(
        blocked: f64,
        ct: ConnectTimes,
        sending: Duration,
        waiting: Duration,
        receiving: Duration,
    ) -> Timings {
        Timings {
            blocked,
            connecting: ms(ct.connecting),
            tls_handshaking: ms(ct.tls),
            sending: ms(sending),
            waiting: ms(waiting),
            receiving: ms(receiving),
        }
    }

    /// `http_req_duration` = sending + waiting + receiving.
    pub fn duration(&self) -> f64 {
        self.sending + self.waiting + self.receiving
    }
}

/// What came back (or why nothing did). On cache lines of its own (`align(64)`): a VU
/// writes its response at every request, and at 1,000 VUs each line is a miss.
#[derive(Debug, Clone, Default)]
#[repr(align(64))]
pub struct HttpResponse {
    /// Status code (0 when the request failed).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, if kept.
    pub body: Bytes,
    /// Phases.
    pub timings: Timings,
    /// The failure, if the request failed.
    pub error: Option<ErrorKind>,
    /// Bytes written for this request (headers, body, handshakes).
    pub bytes_sent: u64,
    /// Bytes read for this request.
    pub bytes_received: u64,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub proto: &'static str,
    /// The URL this response is for (differs from the request's after redirects).
    pub url: String,
    /// The method used for this URL.
    pub method: Method,
}

impl HttpResponse {
    fn failed(kind: ErrorKind, method: &Method, url: &str, timings: Timings) -> HttpResponse {
        HttpResponse {
            status: 0,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timings,
            error: Some(kind),
            bytes_sent: 0,
            bytes_received: 0,
            proto: "",
            url: url.to_string(),
            method: method.clone(),
        }
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One VU's HTTP client.
#[repr(C)]
pub struct HttpClient {
    // The fields every request reads come first, in declaration order (`repr(C)`): with a
    // thousand VUs a request's cost is mostly the cache lines of VU state it touches, and
    // these then share two lines instead of being spread over six.
    cfg: Arc<SharedConfig>,
    /// Idle connections by origin: a VU talks to few origins, so a scan beats hashing.
    conns: Vec<(Origin, Conn)>,
    /// The request timeout's timer, kept from request to request (see [`crate::deadline`]).
    timer: Timer,
    /// The last URL sent, read: the next request to it is not read again.
    last_url: LastUrl,
    cookies: CookieJar,
    /// Which jar `cookies` is (0: the VU's own; others are k6's `new http.CookieJar()`).
    jar: u32,
    /// The other jars, parked while another is in use.
    parked: Vec<(u32, CookieJar)>,
    dns: DnsCache,
    /// A recycled response's URL buffer, for the next response (see [`HttpClient::recycle`]).
    spare_url: String,
    /// The shared HTTP/2 pools of the origins this VU has used (when VUs share
    /// connections): a local copy of the lookup, so a request takes no global lock for it.
    pools: Vec<PoolRef>,
    /// The last HTTP/2 request's own headers, encoded (boxed: only HTTP/2 clients have
    /// them).
    h2_headers: Option<Box<OwnHeaders>>,
}

/// An origin's shared HTTP/2 pool, as one VU uses it.
struct PoolRef {
    origin: Origin,
    pool: Arc<OriginPool>,
    /// The origin as a request's `:authority`.
    authority: String,
    /// The connection of this VU's last request to the origin: tried first by the next.
    last: Option<Arc<SharedConn>>,
}

/// Seeds for the clients' address pickers, one per client.
static CLIENT_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x9e37_79b9);

impl HttpClient {
    /// A client with no open connections and an empty cookie jar.
    pub fn new(cfg: Arc<SharedConfig>) -> HttpClient {
        let seed = CLIENT_SEQ.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        HttpClient {
            dns: DnsCache::new(cfg.opts.dns, seed),
            cfg,
            conns: Vec::new(),
            cookies: CookieJar::default(),
            jar: 0,
            parked: Vec::new(),
            spare_url: String::new(),
            pools: Vec::new(),
            timer: Timer::default(),
            last_url: LastUrl::default(),
            h2_headers: None,
        }
    }

    /// The regions of memory a request on this client touches beyond the client itself,
    /// always five: its connections, the first one's state, request buffer and `Host`
    /// header (HTTP/1.1; none for HTTP/2), the last URL's text.
    /// Addresses only, for a cache hint: nothing is read through them.
    pub fn hot(&self, mut f: impl FnMut((usize, usize))) {
        // always five, each in its place (`(0, 0)` for none): a slot keeps its region, and
        // hinting again is a compare while nothing moves
        let (mut h1, mut wbuf, mut host) = ((0, 0), (0, 0), (0, 0));
        if let Some((_, conn)) = self.conns.first() {
            if let Sender::H1(c) = &conn.sender {
                (h1, wbuf) = c.hot();
            }
            host = (conn.host_header.as_ptr() as usize, conn.host_header.len());
        }
        f((
            self.conns.as_ptr() as usize,
            std::mem::size_of_val(self.conns.as_slice()),
        ));
        f(h1);
        f(wbuf);
        f(host);
        f(self.last_url.text_region());
    }

    /// Closes every connection (e.g. between iterations when keep-alive is off).
    pub fn close_all(&mut self) {
        self.conns.clear();
    }

    /// Makes jar `id` the one requests and cookie calls use from now on: 0 is the client's
    /// own jar, any other number a jar of its own (k6's `new http.CookieJar()`), empty when
    /// first used and kept while the client lives.
    pub fn use_jar(&mut self, id: u32) {
        if id == self.jar {
            return;
        }
        let next = match self.parked.iter().position(|(j, _)| *j == id) {
            Some(i) => self.parked.swap_remove(i).1,
            None => CookieJar::default(),
        };
        let prev = std::mem::replace(&mut self.cookies, next);
        self.parked.push((self.jar, prev));
        self.jar = id;
    }

    /// Forgets every cookie of the client's own jar (k6 starts each iteration with an
    /// empty jar), and makes it the jar in use.
    pub fn clear_cookies(&mut self) {
        self.use_jar(0);
        self.cookies.clear();
    }

    /// Stores `set_cookie` (a `Set-Cookie` header value) as if a response from `url` had
    /// carried it; false when `url` is not a valid URL.
    pub fn set_cookie(&mut self, url: &str, set_cookie: &str) -> bool {
        let Some(t) = Target::parse(url) else {
            return false;
        };
        self.cookies
            .store_from(t.https, &t.host, t.path(), set_cookie);
        true
    }

    /// The `Cookie` header the VU's jar would send to `url`.
    pub fn cookies_for(&self, url: &str) -> Option<String> {
        let t = Target::parse(url)?;
        self.cookies.header_for_url(t.https, &t.host, t.path())
    }

    /// Forgets the cookies the jar would send to `url` (only those named `name`, if given).
    pub fn remove_cookies(&mut self, url: &str, name: Option<&str>) {
        if let Some(t) = Target::parse(url) {
            self.cookies
                .remove_matching(t.https, &t.host, t.path(), name);
        }
    }

    /// The value of a cookie the VU holds for the URL's host.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let t = Target::parse(url)?;
        self.cookies.get(&t.host, name).map(str::to_string)
    }

    /// Hands a response back once the caller is done with it, so the next response reuses
    /// its buffers: with it, a request on a kept-alive connection allocates nothing.
    pub fn recycle(&mut self, resp: HttpResponse) {
        if resp.url.capacity() > self.spare_url.capacity() {
            self.spare_url = resp.url;
        }
    }

    /// Sends a request, following redirects. `on_extra` sees every response before the
    /// final one that is a request of its own: each redirect hop (as in k6) and each failed
    /// attempt that reached the server before an idempotent request was sent again — so
    /// throng counts every request the server may have seen, and the server's count and
    /// `http_reqs` agree. The final response is returned.
    pub async fn execute(
        &mut self,
        req: &HttpRequest,
        on_extra: impl FnMut(&HttpResponse),
    ) -> HttpResponse {
        // the recycled URL buffer: a request on a kept-alive connection allocates nothing
        let mut out = HttpResponse {
            url: std::mem::take(&mut self.spare_url),
            ..HttpResponse::default()
        };
        self.execute_into(req, on_extra, &mut out).await;
        out
    }

    /// [`HttpClient::execute`] into `out`, a response the caller keeps from request to
    /// request: the response is written once, where it stays, instead of being returned
    /// (and so copied) through every layer of the client and its caller — a dozen copies
    /// of it per request, each into a different part of the VU's future.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    pub fn execute_into<'a>(
        &'a mut self,
        req: &'a HttpRequest,
        mut on_extra: impl FnMut(&HttpResponse) + 'a,
        out: &'a mut HttpResponse,
    ) -> impl Future<Output = ()> + 'a {
        async move {
            let msg = Message {
                method: &req.method,
                url: &req.url,
                headers: &req.headers,
                body: &req.body,
                keep: Keep::of(req),
            };
            let timeout = self.timeout(req);
            self.send_once(&msg, timeout, &mut on_extra, out).await;
            if redirect(out.status) && req.max_redirects.unwrap_or(self.cfg.opts.max_redirects) > 0
            {
                // boxed: rare, and its state (the parts a redirect changes) would
                // otherwise be in every request's future
                Box::pin(self.follow(req, &mut on_extra, out)).await;
            }
        }
    }

    /// The request's timeout, or the client's.
    fn timeout(&self, req: &HttpRequest) -> Duration {
        req.timeout.unwrap_or(self.cfg.opts.timeout)
    }

    /// Follows the redirects that `out`, the answer to `req`, starts.
    async fn follow(
        &mut self,
        req: &HttpRequest,
        on_extra: &mut impl FnMut(&HttpResponse),
        out: &mut HttpResponse,
    ) {
        let (timeout, keep) = (self.timeout(req), Keep::of(req));
        // borrowed until a redirect changes them
        let mut method = Cow::Borrowed(&req.method);
        let mut url = Cow::Borrowed(req.url.as_str());
        let mut body = Cow::Borrowed(&req.body);
        let mut headers = Cow::Borrowed(req.headers.as_slice());
        let mut hops = 0;
        loop {
            if !redirect(out.status)
                || hops >= req.max_redirects.unwrap_or(self.cfg.opts.max_redirects)
            {
                return;
            }
            let Some(loc) = out.header("location").map(str::to_string) else {
                return;
            };
            let next = resolve(&url, &loc);
            on_extra(out);
            hops += 1;
            if matches!(out.status, 301..=303) && *method != Method::HEAD {
                method = Cow::Owned(Method::GET);
                body = Cow::Owned(Bytes::new());
                headers.to_mut().retain(|(k, _)| {
                    !k.eq_ignore_ascii_case("content-type")
                        && !k.eq_ignore_ascii_case("content-length")
                });
            }
            let same_origin = match (Target::parse(&next), Target::parse(&url)) {
                (Some(a), Some(b)) => a.same_origin(&b),
                (a, b) => a.is_none() && b.is_none(),
            };
            if !same_origin {
                // credentials are for the origin they were given to (as browsers, curl, Go)
                headers.to_mut().retain(|(k, _)| {
                    !["authorization", "cookie", "host", "proxy-authorization"]
                        .iter()
                        .any(|n| k.eq_ignore_ascii_case(n))
                });
            }
            url = Cow::Owned(next);
            let msg = Message {
                method: &method,
                url: &url,
                headers: &headers,
                body: &body,
                keep,
            };
            self.send_once(&msg, timeout, on_extra, out).await;
        }
    }

    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn send_once<'a, E: FnMut(&HttpResponse)>(
        &'a mut self,
        msg: &'a Message<'a>,
        timeout: Duration,
        on_extra: &'a mut E,
        out: &'a mut HttpResponse,
    ) -> impl Future<Output = ()> + 'a {
        // an `async` block (here and in the layers below): an `async fn` keeps its arguments
        // twice in its future (as arguments, then again as locals), this block once; every
        // VU holds the future, and at 1,000 VUs each cache line of it is a miss per request
        async move {
            // the last response's body and header values let go first: they share the read
            // buffer, which the connection can then reuse for this response
            out.body = Bytes::new();
            out.headers.clear();
            let start = Instant::now();
            let Some(target) = self.last_url.target(msg.url) else {
                *out = HttpResponse::failed(
                    ErrorKind::InvalidUrl,
                    msg.method,
                    msg.url,
                    Timings::default(),
                );
                return;
            };
            // a timeout too large for the clock is a year (tokio's own "far future" is 30)
            let deadline = start
                .checked_add(timeout)
                .or_else(|| start.checked_add(Duration::from_secs(365 * 86_400)))
                .unwrap_or(start);
            // the timer is taken out while the request borrows the client
            let mut timer = std::mem::take(&mut self.timer);
            let done = within(
                &mut timer,
                start.into(),
                deadline.into(),
                self.send_inner(&target, msg, start, on_extra, out),
            )
            .await;
            self.timer = timer;
            if done.is_none() {
                // an HTTP/1.1 connection may be mid-response: never reused. An HTTP/2 one
                // still open stays: the stream given up on was reset (RST_STREAM)
                self.conns.retain(|(o, c)| {
                    !target.is(o) || matches!(&c.sender, Sender::H2(s) if !s.is_closed())
                });
                *out = HttpResponse::failed(
                    ErrorKind::Timeout,
                    msg.method,
                    msg.url,
                    Timings {
                        waiting: ms(start.elapsed()),
                        ..Timings::default()
                    },
                );
            }
        }
    }

    /// Where the idle connection to the target's origin is in `conns`, if it can take a
    /// request now.
    fn idle_ready(&mut self, target: &Target<'_>) -> Option<usize> {
        let i = self.conns.iter().position(|(o, _)| target.is(o))?;
        self.conns[i].1.ready().then_some(i)
    }

    /// An idle connection to the target's origin that can take a request, or a new one,
    /// by where it is in `conns`: a request uses it there (see [`InUse`]) rather than
    /// moving it out and back (its lines are touched once per request, not three times).
    /// `InvalidHeader`, and no connection opened, when a new one would be needed for a
    /// request whose headers cannot be written.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn checkout<'a>(
        &'a mut self,
        target: &'a Target<'a>,
        headers: &'a [(String, String)],
    ) -> impl Future<Output = Result<(usize, ConnectTimes, bool), ErrorKind>> + 'a {
        async move {
            let idle = self.conns.iter().position(|(o, _)| target.is(o));
            let origin = match idle {
                Some(i) => {
                    if self.conns[i].1.ready() {
                        return Ok((i, ConnectTimes::default(), true));
                    }
                    self.conns.swap_remove(i).0
                }
                None => target.origin(),
            };
            // a request that cannot be written opens no connection for nothing (on an open
            // one it fails when its head is rendered; the connection is kept with keep-alive)
            if !crate::render::headers_ok(headers) {
                return Err(ErrorKind::InvalidHeader);
            }
            // boxed: opening is once per connection, and its state (the name lookup's and
            // the connect's) would otherwise be room in every request's future
            let (origin, c, t) = Box::pin(self.open(origin)).await?;
            // room for one more, not four: most VUs keep one connection (80 B each)
            self.conns.reserve_exact(1);
            self.conns.push((origin, c));
            Ok((self.conns.len() - 1, t, false))
        }
    }

    /// A request on a shared HTTP/2 connection when VUs share them and the origin may speak
    /// HTTP/2, else on a connection of the VU's own: not a layer of the request's future of
    /// its own, only which of the two it is.
    fn send_inner<'a, E: FnMut(&HttpResponse)>(
        &'a mut self,
        target: &'a Target<'a>,
        msg: &'a Message<'a>,
        start: Instant,
        on_extra: &'a mut E,
        out: &'a mut HttpResponse,
    ) -> Route<impl Future<Output = ()> + 'a, impl Future<Output = ()> + 'a> {
        let h2 = match self.cfg.opts.version {
            HttpVersion::Http1 => false,
            HttpVersion::Auto => target.https,
            HttpVersion::Http2PriorKnowledge => true,
        };
        if h2 && self.cfg.pool.is_some() {
            // boxed: its future (a pool checkout, a shared stream) is the largest, and
            // unboxed it would size every HTTP/1.1 request's future too
            return Route::Shared {
                fut: Box::pin(self.send_shared(target, msg, start, on_extra, out)),
            };
        }
        let start = Started {
            at: start,
            waited: false,
            opened: None,
        };
        Route::Own {
            fut: self.send_own(target, msg, start, on_extra, out),
        }
    }

    /// The response to `msg` from a completed exchange, written into `out` (its buffers
    /// kept); its cookies go into the jar. `measured`: the timings, the bytes sent and
    /// received, the protocol.
    fn respond(
        &mut self,
        target: &Target<'_>,
        msg: &Message<'_>,
        ex: Exchange,
        measured: (Timings, (u64, u64), &'static str),
        out: &mut HttpResponse,
    ) {
        let (timings, (bytes_sent, bytes_received), proto) = measured;
        // one outcome per request: a response that did not complete is a failure with
        // status 0 (as k6), whatever its head said
        out.status = if ex.body_error.is_some() {
            0
        } else {
            ex.status
        };
        // an HTTP/2 exchange's map is the one it took from `out` (its room kept); an
        // HTTP/1.1 exchange read its headers into `out` already
        if let Some(h) = ex.headers {
            out.headers = h;
        }
        for sc in out.headers.get_all(SET_COOKIE) {
            if let Ok(v) = sc.to_str() {
                self.cookies
                    .store_from(target.https, &target.host, target.path(), v);
            }
        }
        if !ex.body.is_empty() {
            out.body = ex.body;
        }
        out.timings = timings;
        out.error = ex.body_error;
        out.bytes_sent = bytes_sent;
        out.bytes_received = bytes_received;
        out.proto = proto;
        out.url.clear();
        out.url.push_str(msg.url);
        if out.method != *msg.method {
            out.method = msg.method.clone();
        }
    }

    /// Where the origin's shared pool is in this VU's copy of the lookup.
    fn shared_pool(&mut self, target: &Target<'_>) -> Option<usize> {
        if let Some(i) = self.pools.iter().position(|p| target.is(&p.origin)) {
            return Some(i);
        }
        let origin = target.origin();
        let pool = self.cfg.pool.as_ref()?.origin(&origin);
        self.pools.push(PoolRef {
            origin,
            pool,
            authority: target.authority(),
            last: None,
        });
        Some(self.pools.len() - 1)
    }

    /// A request on a stream of a shared HTTP/2 connection (see [`crate::pool`]). Phases:
    /// `blocked` is the wait for a stream (and the connection's setup, for the request that
    /// opened it), `connecting` and `tls_handshaking` are only the opener's, `sending` is
    /// 0 (the connection's writes are shared by its streams, so they are not timed per
    /// stream), `waiting` runs from handing the request to the connection to the response
    /// head, `receiving` to the end of the body. Bytes: each request takes the connection's
    /// bytes not yet claimed by another, so their sum is the connection's.
    async fn send_shared(
        &mut self,
        target: &Target<'_>,
        msg: &Message<'_>,
        start: Instant,
        on_extra: &mut impl FnMut(&HttpResponse),
        out: &mut HttpResponse,
    ) {
        let (method, url) = (msg.method, msg.url);
        let Some(at) = self.shared_pool(target) else {
            return self
                .send_own(target, msg, waited(start), on_extra, out)
                .await;
        };
        let pool = self.pools[at].pool.clone();
        let (mut retried, mut refused) = (false, 0u8);
        loop {
            let last = self.pools[at].last.take();
            let (lease, ct): (Lease, ConnectTimes) = match pool.checkout(last.as_ref()).await {
                Checkout::Stream(lease) => {
                    // the next request tries this connection first
                    self.pools[at].last = match last {
                        Some(c) if Arc::ptr_eq(&c, &lease.conn) => Some(c),
                        _ => Some(lease.conn.clone()),
                    };
                    (lease, ConnectTimes::default())
                }
                Checkout::Http1 => {
                    return self
                        .send_own(target, msg, waited(start), on_extra, out)
                        .await
                }
                Checkout::Open(ticket) => {
                    let opened = match self.open(target.origin()).await {
                        Ok(x) => x,
                        Err(kind) => {
                            let timings = Timings {
                                blocked: ms(start.elapsed()),
                                ..Timings::default()
                            };
                            *out = HttpResponse::failed(kind, method, url, timings);
                            return;
                        }
                    };
                    let (origin, conn, ct) = opened;
                    match ticket.add(conn) {
                        Ok(lease) => {
                            self.pools[at].last = Some(lease.conn.clone());
                            (lease, ct)
                        }
                        Err(conn) => {
                            // ALPN chose HTTP/1.1: this VU keeps the connection as its own,
                            // and this request, which waited for its setup, reports it
                            self.conns.push((origin, conn));
                            let started = Started {
                                opened: Some(Box::new(ct)),
                                ..waited(start)
                            };
                            return self.send_own(target, msg, started, on_extra, out).await;
                        }
                    }
                }
            };
            // one clock read ends `blocked` and starts the exchange
            let send_start = Instant::now();
            let blocked = ms(send_start - start);
            let result = {
                let started = {
                    let cookie = cookie_header(&self.cookies, target, msg);
                    let head = H2Request {
                        https: target.https,
                        authority: &self.pools[at].authority,
                        path_and_query: &target.path_and_query,
                        cookie: cookie.as_deref(),
                    };
                    let headers = std::mem::take(&mut out.headers);
                    let own = &mut self.h2_headers;
                    head.send(&lease.conn.sender, own, &self.cfg, msg, headers)
                };
                match started {
                    Ok(stream) => h2_response(stream).await,
                    Err(e) => Err(e),
                }
            };
            let t_end = Instant::now();
            let bytes = lease.conn.claim();
            drop(lease);
            let failed = |kind| attempt_failed(kind, msg, blocked, ct, t_end - send_start, bytes);
            if matches!(&result, Err(e) if !matches!(e, SendError::NotSent(k) if unsendable(*k))) {
                // the next attempt (or request) looks for the least loaded connection, not
                // this one again: it refused the stream or may be failing
                self.pools[at].last = None;
            }
            let ex = match result {
                // refused by the server (a stream above a GOAWAY's last id, REFUSED_STREAM)
                // or never handed to a connection: not processed, so sent again (a few
                // times, as connections may go away one after another), not counted
                Err(SendError::NotSent(k)) if refused < 3 && !unsendable(k) => {
                    refused += 1;
                    continue;
                }
                // the connection ended after the request went out: counted as a failure;
                // sent again only if idempotent
                Err(SendError::NoResponse(k)) if !retried && idempotent(method, msg.headers) => {
                    on_extra(&failed(k));
                    retried = true;
                    continue;
                }
                Ok(ex) => ex,
                Err(SendError::NotSent(k) | SendError::NoResponse(k) | SendError::Failed(k)) => {
                    *out = failed(k);
                    return;
                }
            };
            let (waiting, receiving) = (ex.t_head - send_start, t_end - ex.t_head);
            let timings = Timings::of(blocked, ct, Duration::ZERO, waiting, receiving);
            self.respond(target, msg, ex, (timings, bytes, "HTTP/2.0"), out);
            return;
        }
    }

    /// Resolves the origin's name and opens a connection to it.
    async fn open(&mut self, origin: Origin) -> Result<(Origin, Conn, ConnectTimes), ErrorKind> {
        let addrs = self
            .dns
            .resolve(&origin.host, origin.port)
            .await
            .ok_or(ErrorKind::Dns)?;
        let (c, t) = connect(&self.cfg, &origin, addrs).await?;
        Ok((origin, c, t))
    }

    /// A request on a connection of this VU's own (HTTP/1.1, or HTTP/2 unshared).
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn send_own<'a, E: FnMut(&HttpResponse)>(
        &'a mut self,
        target: &'a Target<'a>,
        msg: &'a Message<'a>,
        started: Started,
        on_extra: &'a mut E,
        out: &'a mut HttpResponse,
    ) -> impl Future<Output = ()> + 'a {
        async move {
            // (no copies of `msg`'s parts or of `started.at` here: each would be a field
            // of the future every VU holds)
            // a request is sent again at most once, on a new connection, and only when the
            // server cannot have acted on it or the method is idempotent (as Go's transport)
            let mut retried = false;
            loop {
                // a kept-alive connection ready for it (the usual case) is taken without
                // making `checkout`'s future
                let (at, mut ct, reused) = match match self.idle_ready(target) {
                    Some(at) => Ok((at, ConnectTimes::default(), true)),
                    None => self.checkout(target, msg.headers).await,
                } {
                    Ok(x) => x,
                    Err(kind) => {
                        *out = HttpResponse::failed(
                            kind,
                            msg.method,
                            msg.url,
                            Timings {
                                blocked: ms(started.at.elapsed()),
                                ..Timings::default()
                            },
                        );
                        return;
                    }
                };
                // an idle connection is checked out without waiting (`Conn::ready` is not
                // async), so the first attempt on one, made straight from the request's start,
                // was blocked for no time: `start` ends it, and the clock is not read again
                // for nothing. After a wait for a shared HTTP/2 pool (or a connection it
                // opened that spoke HTTP/1.1) the clock is read.
                let checked_out = if reused && !retried && !started.waited {
                    started.at
                } else {
                    Instant::now()
                };
                let blocked = ms(checked_out - started.at);
                // the connection the shared pool opened for this request (it spoke HTTP/1.1)
                if let (true, false, Some(opened)) = (reused, retried, &started.opened) {
                    ct = **opened;
                }
                let mut held = InUse {
                    conns: &mut self.conns,
                    at,
                    keep: false,
                    close: false,
                };
                let conn = held.conn();
                let stats = conn.stats();
                // handshake bytes of a new connection count for this request, as in k6
                let (w0, r0) = if reused {
                    (
                        stats.written.load(Ordering::Relaxed),
                        stats.read.load(Ordering::Relaxed),
                    )
                } else {
                    (0, 0)
                };
                stats.reset_marks();
                // one clock read ends `blocked` and starts `sending`
                let send_start = checked_out;
                let result = match &mut conn.sender {
                    Sender::H1(h1) => {
                        // rendered here, in a block: none of this is held while it waits
                        let rendered = {
                            let cookie = cookie_header(&self.cookies, target, msg);
                            h1.render(&Out {
                                method: msg.method.as_str(),
                                target: &target.path_and_query,
                                host: &conn.host_header,
                                user_agent: &self.cfg.opts.user_agent,
                                cookie: cookie.as_deref(),
                                close: !self.cfg.opts.keepalive,
                                headers: msg.headers,
                                body: msg.body,
                            })
                        };
                        match rendered {
                            Ok(()) => {
                                let head = *msg.method == Method::HEAD;
                                exchange_h1(h1, head, msg.keep, &mut out.headers).await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Sender::H2(s) => {
                        // the request's head is written onto the connection here, in a
                        // block: the wait holds only the stream (16 bytes)
                        let started = {
                            let cookie = cookie_header(&self.cookies, target, msg);
                            let head = H2Request {
                                https: target.https,
                                authority: &conn.host_header,
                                path_and_query: &target.path_and_query,
                                cookie: cookie.as_deref(),
                            };
                            let headers = std::mem::take(&mut out.headers);
                            head.send(s, &mut self.h2_headers, &self.cfg, msg, headers)
                        };
                        match started {
                            Ok(stream) => h2_response(stream).await,
                            Err(e) => Err(e),
                        }
                    }
                };
                let stats = held.get().stats();
                let sent = stats.written.load(Ordering::Relaxed).saturating_sub(w0);
                let received = stats.read.load(Ordering::Relaxed).saturating_sub(r0);
                let failed = |kind| {
                    let waited = send_start.elapsed();
                    attempt_failed(kind, msg, blocked, ct, waited, (sent, received))
                };
                let ex = match result {
                    // a kept-alive connection the server had already given up: the request
                    // never reached it, so it is sent again and not counted
                    Err(SendError::NotSent(k)) if reused && !retried && !unsendable(k) => {
                        held.close();
                        retried = true;
                        continue;
                    }
                    // an unsolicited 408 on an idle connection is the server closing it, not an
                    // answer to this request (as Go's transport)
                    Ok(ex) if ex.status == 408 && reused && !retried => {
                        held.close();
                        // its headers, read into `out`, are not the answer's
                        out.headers.clear();
                        retried = true;
                        continue;
                    }
                    // written, then the connection ended without a response: the server may have
                    // acted on it. Counted as a failed request; sent again only if idempotent.
                    Err(SendError::NoResponse(k))
                        if reused && !retried && idempotent(msg.method, msg.headers) =>
                    {
                        held.close();
                        on_extra(&failed(k));
                        retried = true;
                        continue;
                    }
                    // a request that cannot be sent: nothing was written, so the connection is
                    // as it was and is kept (unless connections serve one request each)
                    Err(SendError::NotSent(k)) if unsendable(k) => {
                        *out = failed(k);
                        if self.cfg.opts.keepalive {
                            held.keep();
                        } else {
                            held.close();
                        }
                        return;
                    }
                    Ok(ex) => ex,
                    Err(
                        SendError::NotSent(k) | SendError::NoResponse(k) | SendError::Failed(k),
                    ) => {
                        held.release();
                        *out = failed(k);
                        return;
                    }
                };
                let (t_head, t_end) = (ex.t_head, ex.t_end);
                let last_write = stats
                    .last_write()
                    .filter(|w| *w >= send_start && *w <= t_head);
                let first_read = stats
                    .first_read()
                    .filter(|r| *r >= last_write.unwrap_or(send_start) && *r <= t_head);
                let (sending, waiting, receiving) = match (last_write, first_read) {
                    (Some(w), Some(r)) => (w - send_start, r - w, t_end - r),
                    _ => (Duration::ZERO, t_head - send_start, t_end - t_head),
                };
                let proto = if held.get().is_h2() {
                    "HTTP/2.0"
                } else {
                    "HTTP/1.1"
                };
                let close = !self.cfg.opts.keepalive || ex.close;
                let timings = Timings::of(blocked, ct, sending, waiting, receiving);
                let bytes = (
                    stats.written.load(Ordering::Relaxed).saturating_sub(w0),
                    stats.read.load(Ordering::Relaxed).saturating_sub(r0),
                );
                if close {
                    held.close();
                } else if ex.body_error.is_some() {
                    held.release();
                } else {
                    held.keep();
                }
                self.respond(target, msg, ex, (timings, bytes, proto), out);
                return;
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's way: a shared HTTP/2 connection's stream (boxed: rare, and the largest
    /// state) or a connection of the VU's own (see [`HttpClient::send_inner`]).
    #[project = RouteProj]
    enum Route<S, O> {
        Shared { fut: Pin<Box<S>> },
        Own { #[pin] fut: O },
    }
}

impl<S: Future<Output = ()>, O: Future<Output = ()>> Future for Route<S, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.project() {
            RouteProj::Shared { fut } => fut.as_mut().poll(cx),
            RouteProj::Own { fut } => fut.poll(cx),
        }
    }
}

/// The `Cookie` header for a request: the jar's, unless the request carries its own
/// (k6's params.cookies, merged with the jar's by the script runtime).
fn cookie_header(jar: &CookieJar, target: &Target<'_>, msg: &Message<'_>) -> Option<String> {
    if msg
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("cookie"))
    {
        None
    } else {
        jar.header_for_url(target.https, &target.host, target.path())
    }
}

/// The connection a request is using, where it is among the VU's connections (`at`). The
/// request ends with [`InUse::keep`] or [`InUse::close`]; if its future is dropped first
/// (a timeout, a VU stopped mid-request) the connection is closed then, as it always
/// was: one that may still have a response coming is never used again.
struct InUse<'c> {
    conns: &'c mut Vec<(Origin, Conn)>,
    at: usize,
    keep: bool,
    close: bool,
}

impl InUse<'_> {
    fn conn(&mut self) -> &mut Conn {
        &mut self.conns[self.at].1
    }

    fn get(&self) -> &Conn {
        &self.conns[self.at].1
    }

    /// The request is done with it, and it stays for the next.
    fn keep(mut self) {
        self.keep = true;
    }

    /// The request is done with it, and it closes.
    fn close(mut self) {
        self.close = true;
    }

    /// The request failed on its own: an HTTP/2 connection that is still open stays (the
    /// stream was reset, by the server or, given up on, by throng), an HTTP/1.1 one closes.
    /// As when the request's future is dropped.
    fn release(self) {}

    /// An HTTP/2 connection that takes streams.
    fn h2_open(&self) -> bool {
        matches!(&self.conns[self.at].1.sender, Sender::H2(s) if !s.is_closed())
    }
}

impl Drop for InUse<'_> {
    fn drop(&mut self) {
        if self.close || (!self.keep && !self.h2_open()) {
            self.conns.swap_remove(self.at);
        }
    }
}

/// A failed attempt on a connection: its setup times, how long it waited after it was sent,
/// and its bytes.
fn attempt_failed(
    kind: ErrorKind,
    msg: &Message<'_>,
    blocked: f64,
    ct: ConnectTimes,
    waited: Duration,
    (bytes_sent, bytes_received): (u64, u64),
) -> HttpResponse {
    let timings = Timings::of(blocked, ct, Duration::ZERO, waited, Duration::ZERO);
    HttpResponse {
        bytes_sent,
        bytes_received,
        ..HttpResponse::failed(kind, msg.method, msg.url, timings)
    }
}

/// When a request started, and whether it may have waited since then before it came to a
/// connection of the VU's own (for a shared HTTP/2 pool's answer, or for a connection that
/// pool opened and that spoke HTTP/1.1).
struct Started {
    at: Instant,
    waited: bool,
    /// The setup of the connection opened for this request before it came here (boxed:
    /// rare, and a field of the future of every request).
    opened: Option<Box<ConnectTimes>>,
}

/// A request that started at `at` and may have waited since.
fn waited(at: Instant) -> Started {
    Started {
        at,
        waited: true,
        opened: None,
    }
}

/// The parts of a request that a redirect may change.
struct Message<'a> {
    method: &'a Method,
    url: &'a str,
    headers: &'a [(String, String)],
    body: &'a Bytes,
    /// What of the response is kept (here rather than an argument of its own beside
    /// `msg`: each one is a field of every layer of the request's future, some far
    /// from the rest, and a cache line per request at 1,000 VUs).
    keep: Keep,
}

/// Methods that may be sent twice without changing the outcome (RFC 9110 §9.2.2), and
/// requests that carry an idempotency key — Go's transport rule for replaying a request.
fn idempotent(method: &Method, headers: &[(String, String)]) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    ) || headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("idempotency-key") || k.eq_ignore_ascii_case("x-idempotency-key")
    })
}

// What to keep of a response: `Keep` is the one type, in `crate::http2` (its streams keep
// what it says too).
impl Keep {
    /// What `req` asks to keep.
    fn of(req: &HttpRequest) -> Keep {
        Keep {
            body: req.keep_body,
            headers: req.keep_headers,
        }
    }
}

/// One request/response exchange on a connection.
struct Exchange {
    status: u16,
    /// An HTTP/2 response's, in the map taken from the response (an HTTP/1.1 exchange
    /// reads its headers into the response: `None`).
    headers: Option<HeaderMap>,
    body: Bytes,
    t_head: Instant,
    /// When the last byte arrived.
    t_end: Instant,
    close: bool,
    body_error: Option<ErrorKind>,
}

/// One exchange on an HTTP/1.1 connection, its request rendered ([`H1::render`]). Its
/// phases end when bytes arrived (the read that completed the head, the read of the last
/// byte: `stats`), not when throng got round to parsing them.
#[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
fn exchange_h1<'a>(
    h1: &'a mut H1,
    head_request: bool,
    keep: Keep,
    headers: &'a mut HeaderMap,
) -> impl Future<Output = Result<Exchange, SendError>> + 'a {
    async move {
        let sent = h1.write_request().await?;
        // the head's headers go straight to the response (`headers`), and nothing of the
        // head is held while the body is read
        let (status, close, kind) = match h1.read_head(keep.headers).await {
            Ok((head, kind)) => {
                // an empty map (headers not kept) is not moved in: the response's own,
                // emptied for this request, keeps its room
                if !head.headers.is_empty() {
                    *headers = head.headers;
                }
                (head.status, head.close, kind)
            }
            // the write error says more than the read that followed it
            Err(SendError::NoResponse(_)) if matches!(sent, Sent::Broken(_)) => {
                let Sent::Broken(k) = sent else {
                    return Err(SendError::NoResponse(ErrorKind::ConnectionReset));
                };
                return Err(SendError::NoResponse(k));
            }
            Err(e) => return Err(e),
        };
        let t_head = h1.stats().last_read().unwrap_or_else(Instant::now);
        let kind = if head_request { BodyKind::None } else { kind };
        let (body, body_error) = body_parts(h1.body(kind, keep.body).await);
        let t_end = h1.stats().last_read().unwrap_or(t_head);
        if close || sent != Sent::All {
            h1.closed = true;
        }
        Ok(Exchange {
            status,
            headers: None,
            body,
            t_head,
            t_end,
            close: h1.closed,
            body_error,
        })
    }
}

/// A body read, as the exchange's body and error.
fn body_parts(read: Result<Bytes, ErrorKind>) -> (Bytes, Option<ErrorKind>) {
    match read {
        Ok(b) => (b, None),
        Err(k) => (Bytes::new(), Some(k)),
    }
}

/// Where an HTTP/2 request goes, beside its message.
struct H2Request<'a> {
    https: bool,
    /// `host` or `host:port`.
    authority: &'a str,
    path_and_query: &'a str,
    /// The jar's cookies for it (`None` when the request has its own).
    cookie: Option<&'a str>,
}

impl H2Request<'_> {
    /// Opens the request's stream on `s`: its head (the request's own headers encoded once
    /// in `own` and kept while they are the same) and body are queued on the connection.
    /// `headers` is room for the response's.
    fn send<'s>(
        &self,
        s: &'s H2Sender,
        own: &mut Option<Box<OwnHeaders>>,
        cfg: &SharedConfig,
        msg: &Message<'_>,
        headers: HeaderMap,
    ) -> Result<crate::http2::Exchange<'s>, SendError> {
        let own = own
            .get_or_insert_default()
            .of(msg.headers)
            .map_err(SendError::NotSent)?;
        let head = crate::http2::Head {
            method: msg.method,
            https: self.https,
            authority: self.authority,
            path_and_query: self.path_and_query,
            own,
            cookie: self.cookie,
            user_agent: cfg.h2_user_agent.as_bytes(),
            body_len: msg.body.len(),
        };
        let keep = msg.keep;
        s.send(
            |out, table| head.encode(out, table),
            msg.body,
            keep,
            headers,
        )
    }
}

/// The response on an HTTP/2 stream.
async fn h2_response(stream: crate::http2::Exchange<'_>) -> Result<Exchange, SendError> {
    let r = stream.await?;
    Ok(Exchange {
        status: r.status,
        headers: Some(r.headers),
        body: r.body,
        t_head: r.t_head,
        t_end: Instant::now(),
        close: false,
        body_error: r.body_error,
    })
}

/// A request that cannot be sent as it is (a header or URL that would break the framing):
/// found before anything is written, so it is neither retried nor its connection's fault.
fn unsendable(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::InvalidHeader | ErrorKind::InvalidUrl)
}

/// Whether a response with this status is a redirect to follow.
fn redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Resolves a `Location` header against the URL it came from.
fn resolve(base: &str, loc: &str) -> String {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        return loc.to_string();
    }
    let Some(t) = Target::parse(base) else {
        return loc.to_string();
    };
    let scheme = if t.https { "https" } else { "http" };
    let authority = t.authority();
    if let Some(rest) = loc.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    if loc.starts_with('/') {
        return format!("{scheme}://{authority}{loc}");
    }
    let dir = match t.path().rfind('/') {
        Some(i) => &t.path()[..=i],
        None => "/",
    };
    format!("{scheme}://{authority}{dir}{loc}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a VU holds while it waits for a response: the request's future. Every VU of a
    /// constant-vus scenario starts at once, so 10,000 of them hold it at the same moment
    /// while they open their connections, and the allocator keeps that peak as RSS for the
    /// rest of the run. The TLS handshake, HTTP/2's handshake and an HTTP/2 exchange are
    /// boxed where they happen, so a plain HTTP/1.1 request does not carry their room:
    /// held inline, they made this future 300 bytes larger, and 10,000 sleeping VUs peaked
    /// at 81.8 MB instead of 70 MB (with the connection-opening future's, see
    /// `conn::tests`).
    #[test]
    fn a_request_future_leaves_out_the_rare_protocols() {
        let cfg = SharedConfig::new(crate::ClientOptions::default()).expect("client config");
        let mut client = HttpClient::new(cfg);
        let req = HttpRequest {
            method: Method::GET,
            url: "http://127.0.0.1:1/".into(),
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: None,
            keep_body: false,
            keep_headers: false,
            max_redirects: None,
        };
        let mut out = HttpResponse::default();
        let request = client.execute_into(&req, |_| {}, &mut out);
        let request = std::mem::size_of_val(&request);
        eprintln!("a request's future: {request} B");
        assert!(request <= REQUEST_BOUND, "{request} B");
    }

    /// The bound on a request's future: 728 B today in debug and release builds (1,344 B
    /// when each layer was an `async fn`, which keeps its arguments twice; 1,648 B with
    /// the HTTP/2 exchange inline).
    const REQUEST_BOUND: usize = 800;

    #[test]
    fn resolves_locations() {
        assert_eq!(resolve("http://h:1/a/b?x", "/c"), "http://h:1/c");
        assert_eq!(resolve("http://h:1/a/b", "c"), "http://h:1/a/c");
        assert_eq!(resolve("http://h:1/a", "https://o/x"), "https://o/x");
    }
}
