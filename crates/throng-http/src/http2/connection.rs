//! One HTTP/2 connection: its state behind one lock, shared by the VUs whose streams it
//! carries, and the task that owns the socket.
//!
//! A VU opens a stream by writing its HEADERS (and as much of its body as the windows
//! allow) into the connection's outgoing buffer, under the lock, and waking the task if it
//! sleeps. The task, when woken, first goes to the back of the run queue, so the VUs ready
//! in the same turn queue their streams and one write carries them all. It then reads
//! every frame that has arrived, in one pass under the lock: each response's head and body
//! go into its stream's slot, stamped with the time of the read that brought them, and the
//! VU is woken when its stream has ended. No frame queue, no per-stream channel, no
//! header map per request beyond the response's own.
use super::frame::{self, code, flag, kind, setting, Head};
use super::hpack::{Decoder, EncTable};
use crate::error::ErrorKind;
use crate::h1::SendError;
use crate::io::{IoStats, Timed};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Our `SETTINGS_INITIAL_WINDOW_SIZE`: how much of a response body the server may send
/// before we give it room again (as hyper's client sets it).
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
/// The connection's receive window (as hyper's client sets it).
const CONN_WINDOW: u32 = 5 * 1024 * 1024;
/// Our `SETTINGS_HEADER_TABLE_SIZE` (the default): the most the server's table may hold.
const HEADER_TABLE: usize = 4096;
/// The most a header block may take (its HEADERS and CONTINUATION frames together).
const MAX_HEADER_BLOCK: usize = 256 * 1024;
/// The read buffer: room for several frames of the largest size we allow.
const READ_BUF: usize = 64 * 1024;
/// The most bytes waiting to be written before the task stops reading.
const MAX_BACKLOG: usize = 1024 * 1024;
/// The most a response's header fields may take decoded (names, values and 32 bytes each,
/// as RFC 9113 §6.5.2 counts them): more fails the stream.
const MAX_HEADER_LIST: usize = 1024 * 1024;
/// The largest stream id a client may use.
const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// A response on a stream, complete.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the read that brought the response's head returned.
    pub t_head: Instant,
    /// Set when the body broke off after the head (a reset stream, a connection that
    /// ended): the response is a failure with this kind.
    pub body_error: Option<ErrorKind>,
}

/// What a request wants kept of its response (over HTTP/1.1 too).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// The body; otherwise it is read and dropped.
    pub body: bool,
    /// Every header; otherwise only `Set-Cookie` and `Location`.
    pub headers: bool,
}

/// The request half of a connection, cloned by every VU that uses it; the connection
/// closes when the last one is dropped and its streams are done.
#[derive(Clone)]
pub(crate) struct H2Sender {
    handle: Arc<Handle>,
    /// The connection's byte counts and times, shared with the stream its task owns.
    pub stats: Arc<IoStats>,
}

/// Wakes the task when the last sender is gone, so it can close the connection.
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        let mut g = lock(&self.0.inner);
        g.released = true;
        wake_driver(&mut g);
    }
}

struct Shared {
    inner: Mutex<Inner>,
    /// The server's `SETTINGS_MAX_CONCURRENT_STREAMS` (1 until its first SETTINGS).
    max_streams: AtomicUsize,
    /// The connection takes no new streams: it ended, or the server is closing it.
    closed: AtomicBool,
}

struct Inner {
    /// Frames to write, appended by the VUs and the task.
    out: Vec<u8>,
    /// The task's waker, and whether it was woken since its last poll.
    driver: Option<Waker>,
    woken: bool,
    next_id: u32,
    /// Streams open (or finished and not yet taken by their VU).
    streams: Vec<Slot>,
    /// The server's `SETTINGS_INITIAL_WINDOW_SIZE` and `SETTINGS_MAX_FRAME_SIZE`.
    peer_window: i64,
    peer_max_frame: usize,
    /// Room the server gave the connection for our DATA.
    send_window: i64,
    /// Bytes of DATA received on the connection not yet given back with a WINDOW_UPDATE.
    recv_unacked: u32,
    decoder: Decoder,
    /// A header block whose CONTINUATION frames are still coming.
    continuing: Option<Continuing>,
    /// The last stream id of the server's GOAWAY.
    goaway: Option<u32>,
    /// Why the connection ended.
    dead: Option<ErrorKind>,
    /// Every sender has been dropped.
    released: bool,
    /// The server's first SETTINGS came.
    settings_seen: bool,
    /// What the server's dynamic table holds of ours (see [`EncTable`]).
    enc: EncTable,
    /// The server changed `SETTINGS_HEADER_TABLE_SIZE`: the next header block starts with
    /// the size updates that empty its table and set the new size (RFC 7541 §4.2).
    table_update: bool,
}

struct Continuing {
    stream: u32,
    end_stream: bool,
    block: Vec<u8>,
}

/// One stream's state and its response so far.
struct Slot {
    id: u32,
    waker: Option<Waker>,
    keep: Keep,
    status: u16,
    headers: HeaderMap,
    body: BytesMut,
    t_head: Option<Instant>,
    /// The server ended its side (END_STREAM).
    ended: bool,
    failure: Option<Failure>,
    /// Its HEADERS were handed to the socket.
    sent: bool,
    send_window: i64,
    /// Body still to send, waiting for window.
    pending: Bytes,
    recv_unacked: u32,
}

impl Slot {
    fn new(id: u32, keep: Keep, headers: HeaderMap, send_window: i64) -> Slot {
        Slot {
            id,
            waker: None,
            keep,
            status: 0,
            headers,
            body: BytesMut::new(),
            t_head: None,
            ended: false,
            failure: None,
            sent: false,
            send_window,
            pending: Bytes::new(),
            recv_unacked: 0,
        }
    }
}

/// A stream that ended without a complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The server did not process it (RFC 9113 §8.7): refused, or above its GOAWAY.
    Refused(ErrorKind),
    /// The connection ended under it.
    Lost(ErrorKind),
    /// The server reset it or sent something malformed.
    Broken(ErrorKind),
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wake_driver(g: &mut Inner) {
    if !g.woken {
        g.woken = true;
        if let Some(w) = &g.driver {
            w.wake_by_ref();
        }
    }
}

/// Starts an HTTP/2 connection on `io`: queues the preface and our settings, and spawns the
/// task that owns the socket.
pub(crate) fn start(io: Timed, stats: Arc<IoStats>) -> H2Sender {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(frame::PREFACE);
    frame::put_settings(
        &mut out,
        &[
            (setting::ENABLE_PUSH, 0),
            (setting::INITIAL_WINDOW_SIZE, STREAM_WINDOW),
        ],
    );
    frame::put_u32(
        &mut out,
        kind::WINDOW_UPDATE,
        0,
        CONN_WINDOW - frame::DEFAULT_WINDOW as u32,
    );
    let shared = new_shared(out);
    let driver = Driver {
        io,
        shared: shared.clone(),
        rbuf: vec![0; READ_BUF],
        rstart: 0,
        rend: 0,
        wbuf: Vec::with_capacity(4096),
        wpos: 0,
        deferred: false,
        flushing: false,
    };
    tokio::spawn(driver);
    H2Sender {
        handle: Arc::new(Handle(shared)),
        stats,
    }
}

/// A connection's shared state, `out` queued to go first.
fn new_shared(out: Vec<u8>) -> Arc<Shared> {
    Arc::new(Shared {
        inner: Mutex::new(Inner {
            out,
            driver: None,
            woken: false,
            next_id: 1,
            streams: Vec::new(),
            peer_window: frame::DEFAULT_WINDOW,
            peer_max_frame: frame::DEFAULT_MAX_FRAME,
            send_window: frame::DEFAULT_WINDOW,
            recv_unacked: 0,
            decoder: Decoder::new(HEADER_TABLE),
            continuing: None,
            goaway: None,
            dead: None,
            released: false,
            settings_seen: false,
            enc: EncTable::default(),
            table_update: false,
        }),
        // one stream until the server's SETTINGS say how many it takes (RFC 9113 §6.5.2
        // lets a client assume 100, but a server that allows fewer would refuse the rest)
        max_streams: AtomicUsize::new(1),
        closed: AtomicBool::new(false),
    })
}

impl H2Sender {
    /// The connection takes no new streams.
    pub(crate) fn is_closed(&self) -> bool {
        self.handle.0.closed.load(Ordering::Acquire)
    }

    /// The server's limit on concurrent streams.
    pub(crate) fn max_streams(&self) -> usize {
        self.handle.0.max_streams.load(Ordering::Relaxed)
    }

    /// Opens a stream: `head` writes the request's header block (HPACK), `body` follows.
    /// `headers` is a map to fill with the response's (its room reused). The stream's
    /// response is the returned future's.
    pub(crate) fn send(
        &self,
        head: impl FnOnce(&mut Vec<u8>, &mut EncTable),
        body: &Bytes,
        keep: Keep,
        mut headers: HeaderMap,
    ) -> Result<Exchange<'_>, SendError> {
        let shared = &self.handle.0;
        let mut g = lock(&shared.inner);
        if let Some(kind) = g.dead {
            return Err(SendError::NotSent(kind));
        }
        if g.goaway.is_some() || g.next_id > MAX_STREAM_ID {
            shared.closed.store(true, Ordering::Release);
            return Err(SendError::NotSent(ErrorKind::ConnectionReset));
        }
        let id = g.next_id;
        g.next_id += 2;
        let end = body.is_empty();
        let max = g.peer_max_frame;
        let update = std::mem::take(&mut g.table_update);
        let Inner { out, enc, .. } = &mut *g;
        put_header_block(out, id, end, max, |out| {
            if update {
                enc.resize_updates(out);
            }
            head(out, enc)
        });
        headers.clear();
        let mut slot = Slot::new(id, keep, headers, g.peer_window);
        if !end {
            slot.pending = body.clone();
            let inner = &mut *g;
            send_body(
                &mut inner.out,
                &mut slot,
                &mut inner.send_window,
                inner.peer_max_frame,
            );
        }
        g.streams.push(slot);
        wake_driver(&mut g);
        Ok(Exchange {
            shared,
            id,
            done: false,
        })
    }
}

/// Writes a header block as HEADERS (and CONTINUATION) frames straight into `out`: the
/// frame's head first, the block after it, the length filled in after.
fn put_header_block(
    out: &mut Vec<u8>,
    id: u32,
    end: bool,
    max: usize,
    head: impl FnOnce(&mut Vec<u8>),
) {
    let at = out.len();
    let flags = flag::END_HEADERS | if end { flag::END_STREAM } else { 0 };
    frame::put_head(out, 0, kind::HEADERS, flags, id);
    head(out);
    let len = out.len() - at - 9;
    if len <= max {
        out[at] = (len >> 16) as u8;
        out[at + 1] = (len >> 8) as u8;
        out[at + 2] = len as u8;
    } else {
        let block = out.split_off(at + 9);
        out.truncate(at);
        frame::put_headers(out, id, &block, end, max);
    }
}

/// Sends as much of a stream's pending body as both windows allow.
fn send_body(out: &mut Vec<u8>, slot: &mut Slot, conn_window: &mut i64, max_frame: usize) {
    let room = slot.send_window.min(*conn_window).max(0) as usize;
    let n = room.min(slot.pending.len());
    if n == 0 {
        return;
    }
    let chunk = slot.pending.split_to(n);
    frame::put_data(out, slot.id, &chunk, slot.pending.is_empty(), max_frame);
    slot.send_window -= n as i64;
    *conn_window -= n as i64;
}

/// A stream's response, when it has come.
pub(crate) struct Exchange<'a> {
    shared: &'a Shared,
    id: u32,
    done: bool,
}

impl Future for Exchange<'_> {
    type Output = Result<Response, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut g = lock(&self.shared.inner);
        let Some(at) = g.streams.iter().position(|s| s.id == self.id) else {
            self.done = true;
            return Poll::Ready(Err(SendError::NoResponse(ErrorKind::ConnectionReset)));
        };
        let s = &mut g.streams[at];
        let finished = s.ended || s.failure.is_some();
        if !finished {
            if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                s.waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let s = g.streams.swap_remove(at);
        if !s.pending.is_empty() && s.failure.is_none() && g.dead.is_none() {
            // the server answered before the whole body went (RFC 9113 §8.1): the rest is
            // not sent, and the stream is closed on our side
            frame::put_u32(&mut g.out, kind::RST_STREAM, s.id, code::CANCEL);
            wake_driver(&mut g);
        }
        last_out(&mut g);
        drop(g);
        self.done = true;
        Poll::Ready(outcome(s))
    }
}

/// The response of a finished stream, or its failure.
fn outcome(s: Slot) -> Result<Response, SendError> {
    let t_head = s.t_head.unwrap_or_else(Instant::now);
    match (s.failure, s.status) {
        (None, _) => Ok(Response {
            status: s.status,
            headers: s.headers,
            body: s.body.freeze(),
            t_head,
            body_error: None,
        }),
        (Some(Failure::Refused(k)), _) => Err(SendError::NotSent(k)),
        // a head came: the response broke off in its body
        (Some(Failure::Lost(k) | Failure::Broken(k)), status) if status != 0 => Ok(Response {
            status,
            headers: s.headers,
            body: Bytes::new(),
            t_head,
            body_error: Some(k),
        }),
        (Some(Failure::Lost(k)), _) if s.sent => Err(SendError::NoResponse(k)),
        (Some(Failure::Lost(k)), _) => Err(SendError::NotSent(k)),
        (Some(Failure::Broken(k)), _) => Err(SendError::Failed(k)),
    }
}

impl Drop for Exchange<'_> {
    /// A stream given up on (a timeout) is reset, so the server stops and its slot goes.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut g = lock(&self.shared.inner);
        if let Some(at) = g.streams.iter().position(|s| s.id == self.id) {
            let s = g.streams.swap_remove(at);
            let open = (!s.ended || !s.pending.is_empty()) && s.failure.is_none();
            if open && g.dead.is_none() {
                frame::put_u32(&mut g.out, kind::RST_STREAM, s.id, code::CANCEL);
                wake_driver(&mut g);
            }
            last_out(&mut g);
        }
    }
}

/// A stream's slot has gone: if it was the last on a connection the server is closing, the
/// task is woken to close it.
fn last_out(g: &mut Inner) {
    if g.streams.is_empty() && g.goaway.is_some() {
        wake_driver(g);
    }
}

/// The task that owns the socket.
struct Driver {
    io: Timed,
    shared: Arc<Shared>,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    /// Bytes being written, and how far.
    wbuf: Vec<u8>,
    wpos: usize,
    /// This wake-up went to the back of the run queue once already.
    deferred: bool,
    /// A write ended and the stream has not been flushed since.
    flushing: bool,
}

/// A connection error: the code our GOAWAY carries, and the kind its streams fail with.
struct ConnError(u32);

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // each wake-up goes to the back of the run queue first, so the VUs that are ready
        // queue their streams before the connection writes: one write carries many
        // requests, not a write per request
        if !this.deferred {
            this.deferred = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.deferred = false;
        {
            let mut g = lock(&this.shared.inner);
            g.woken = false;
            if !g.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                g.driver = Some(cx.waker().clone());
            }
        }
        match this.drive(cx) {
            Poll::Ready(kind) => {
                this.end(kind);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Driver {
    /// Reads and writes until neither can go on; ready (with why) when the connection is
    /// over.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<ErrorKind> {
        loop {
            let mut progress = false;
            // nothing is read after a connection error, nor while more than a limit waits
            // to be written (a server that sends PINGs or SETTINGS and does not read
            // would grow the answers without bound)
            let hold = {
                let g = lock(&self.shared.inner);
                g.dead.is_some() || g.out.len() + self.wbuf.len() - self.wpos > MAX_BACKLOG
            };
            match if hold { Poll::Pending } else { self.read(cx) } {
                Poll::Ready(Ok(true)) => progress = true,
                Poll::Ready(Ok(false)) => return Poll::Ready(ErrorKind::ConnectionReset),
                Poll::Ready(Err(kind)) => return Poll::Ready(kind),
                Poll::Pending => {}
            }
            match self.write(cx) {
                Poll::Ready(Ok(wrote)) => progress |= wrote,
                Poll::Ready(Err(kind)) => return Poll::Ready(kind),
                Poll::Pending => {}
            }
            let g = lock(&self.shared.inner);
            if let Some(kind) = g.dead {
                // a connection error of ours: its GOAWAY is written (and flushed), then the
                // end
                if g.out.is_empty() && self.wpos == self.wbuf.len() && !self.flushing {
                    return Poll::Ready(kind);
                }
            } else if g.streams.is_empty()
                && (g.goaway.is_some() || g.released)
                && g.out.is_empty()
                && self.wbuf.is_empty()
            {
                // the server is closing it, or nobody will send on it again
                return Poll::Ready(ErrorKind::ConnectionReset);
            }
            drop(g);
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// One read: frames handled, `Ok(false)` at the end of the stream.
    fn read(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ErrorKind>> {
        if self.rbuf.len() - self.rend < frame::DEFAULT_MAX_FRAME + 9 {
            // less room than a frame takes: the part of a frame left goes to the front
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        let mut buf = ReadBuf::new(&mut self.rbuf[self.rend..]);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(ErrorKind::from_io(&e))),
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(false));
                }
                self.rend += n;
                let now = Instant::now();
                let Driver {
                    rbuf,
                    rstart,
                    rend,
                    shared,
                    ..
                } = self;
                let mut g = lock(&shared.inner);
                if let Err(ConnError(c)) = frames(&rbuf[..*rend], rstart, &mut g, shared, now) {
                    // tell the server why, then end: every stream fails. Frames not yet
                    // written are not: their streams were not sent (and are sent again)
                    g.out.clear();
                    frame::put_goaway(&mut g.out, 0, c);
                    g.dead = Some(ErrorKind::Protocol);
                    fail_all(&mut g, shared, ErrorKind::Protocol);
                }
                if *rstart == *rend {
                    *rstart = 0;
                    *rend = 0;
                }
                Poll::Ready(Ok(true))
            }
        }
    }

    /// Writes what is queued; `Ok(true)` if anything was written.
    fn write(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ErrorKind>> {
        let mut wrote = false;
        loop {
            if self.wpos == self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
                let mut g = lock(&self.shared.inner);
                if g.out.is_empty() {
                    break;
                }
                std::mem::swap(&mut g.out, &mut self.wbuf);
                for s in &mut g.streams {
                    s.sent = true;
                }
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::ConnectionReset)),
                Poll::Ready(Ok(n)) => {
                    self.wpos += n;
                    wrote = true;
                    self.flushing = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ErrorKind::from_io(&e))),
                Poll::Pending => {
                    return if wrote {
                        Poll::Ready(Ok(true))
                    } else {
                        Poll::Pending
                    }
                }
            }
        }
        if self.flushing {
            // TLS holds written bytes until flushed; a plain socket has nothing to flush
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flushing = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ErrorKind::from_io(&e))),
                Poll::Pending => {}
            }
        }
        Poll::Ready(Ok(wrote))
    }

    /// The connection is over: every stream still open fails with `kind`.
    fn end(&mut self, kind: ErrorKind) {
        let mut g = lock(&self.shared.inner);
        if g.dead.is_none() {
            g.dead = Some(kind);
        }
        let kind = g.dead.unwrap_or(kind);
        fail_all(&mut g, &self.shared, kind);
        g.driver = None;
    }
}

/// Handles every whole frame in `buf` from `at` on, moving `at` past them.
fn frames(
    buf: &[u8],
    at: &mut usize,
    g: &mut Inner,
    shared: &Shared,
    now: Instant,
) -> Result<(), ConnError> {
    while let Some(head_bytes) = buf.get(*at..*at + 9) {
        let head_bytes: &[u8; 9] = head_bytes
            .try_into()
            .map_err(|_| ConnError(code::FRAME_SIZE_ERROR))?;
        let head = Head::parse(head_bytes);
        if head.len > frame::DEFAULT_MAX_FRAME {
            return Err(ConnError(code::FRAME_SIZE_ERROR));
        }
        let Some(payload) = buf.get(*at + 9..*at + 9 + head.len) else {
            break;
        };
        handle(g, shared, head, payload, now)?;
        *at += 9 + head.len;
    }
    Ok(())
}

/// Every stream not finished fails: lost with the connection, or refused if it was never
/// written.
fn fail_all(g: &mut Inner, shared: &Shared, kind: ErrorKind) {
    shared.closed.store(true, Ordering::Release);
    for s in &mut g.streams {
        if !s.ended && s.failure.is_none() {
            s.failure = Some(if s.sent {
                Failure::Lost(kind)
            } else {
                Failure::Refused(kind)
            });
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    }
}

/// Marks a stream finished and wakes its VU.
fn finish(s: &mut Slot, failure: Option<Failure>) {
    if failure.is_some() {
        s.failure = failure;
        // a failed stream is closed: none of its body goes after it
        s.pending = Bytes::new();
    } else {
        s.ended = true;
    }
    if let Some(w) = s.waker.take() {
        w.wake();
    }
}

/// The payload without its padding (RFC 9113 §6.1), when `PADDED` is set.
fn unpad<'a>(head: &Head, payload: &'a [u8]) -> Result<&'a [u8], ConnError> {
    if head.flags & flag::PADDED == 0 {
        return Ok(payload);
    }
    let (&pad, rest) = payload
        .split_first()
        .ok_or(ConnError(code::FRAME_SIZE_ERROR))?;
    if pad as usize > rest.len() {
        return Err(ConnError(code::PROTOCOL_ERROR));
    }
    Ok(&rest[..rest.len() - pad as usize])
}

/// Handles one frame from the server.
fn handle(
    g: &mut Inner,
    shared: &Shared,
    head: Head,
    payload: &[u8],
    now: Instant,
) -> Result<(), ConnError> {
    if g.continuing.is_some() && head.kind != kind::CONTINUATION {
        return Err(ConnError(code::PROTOCOL_ERROR));
    }
    match head.kind {
        kind::DATA => data(g, head, payload),
        kind::HEADERS => {
            if head.stream == 0 {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            let mut block = unpad(&head, payload)?;
            if head.flags & flag::PRIORITY != 0 {
                block = block.get(5..).ok_or(ConnError(code::FRAME_SIZE_ERROR))?;
            }
            let end_stream = head.flags & flag::END_STREAM != 0;
            if head.flags & flag::END_HEADERS != 0 {
                header_block(g, head.stream, end_stream, block, now)
            } else {
                g.continuing = Some(Continuing {
                    stream: head.stream,
                    end_stream,
                    block: block.to_vec(),
                });
                Ok(())
            }
        }
        kind::CONTINUATION => {
            let Some(mut c) = g.continuing.take() else {
                return Err(ConnError(code::PROTOCOL_ERROR));
            };
            if c.stream != head.stream {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            c.block.extend_from_slice(payload);
            if c.block.len() > MAX_HEADER_BLOCK {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            if head.flags & flag::END_HEADERS != 0 {
                header_block(g, c.stream, c.end_stream, &c.block, now)
            } else {
                g.continuing = Some(c);
                Ok(())
            }
        }
        kind::RST_STREAM => {
            if head.stream == 0 {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            let c = word(payload)?;
            if let Some(s) = g.streams.iter_mut().find(|s| s.id == head.stream) {
                // the stream is closed: nothing more of its body goes, even after a
                // complete response (a server's "stop sending", RFC 9113 §8.1)
                s.pending = Bytes::new();
                if !s.ended && s.failure.is_none() {
                    let f = if c == code::REFUSED_STREAM {
                        Failure::Refused(ErrorKind::Protocol)
                    } else {
                        Failure::Broken(ErrorKind::Protocol)
                    };
                    finish(s, Some(f));
                }
            }
            Ok(())
        }
        kind::SETTINGS => settings(g, shared, head, payload),
        kind::PING => {
            if head.stream != 0 {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            if payload.len() != 8 {
                return Err(ConnError(code::FRAME_SIZE_ERROR));
            }
            if head.flags & flag::ACK == 0 {
                frame::put_head(&mut g.out, 8, kind::PING, flag::ACK, 0);
                g.out.extend_from_slice(payload);
            }
            Ok(())
        }
        kind::GOAWAY => {
            if head.stream != 0 || payload.len() < 8 {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            let last = word(&payload[..4])? & 0x7fff_ffff;
            g.goaway = Some(g.goaway.map_or(last, |l| l.min(last)));
            shared.closed.store(true, Ordering::Release);
            // the streams above its last id were not processed: sent again elsewhere
            for s in &mut g.streams {
                if s.id > last && !s.ended && s.failure.is_none() {
                    finish(s, Some(Failure::Refused(ErrorKind::ConnectionReset)));
                }
            }
            Ok(())
        }
        kind::WINDOW_UPDATE => {
            let inc = i64::from(word(payload)? & 0x7fff_ffff);
            if head.stream == 0 {
                if inc == 0 {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                g.send_window += inc;
                if g.send_window > frame::MAX_WINDOW {
                    return Err(ConnError(code::FLOW_CONTROL_ERROR));
                }
            } else if let Some(s) = g.streams.iter_mut().find(|s| s.id == head.stream) {
                s.send_window += inc;
                if inc == 0 {
                    reset(&mut g.out, s, code::PROTOCOL_ERROR);
                } else if s.send_window > frame::MAX_WINDOW {
                    reset(&mut g.out, s, code::FLOW_CONTROL_ERROR);
                }
            }
            flush_bodies(g);
            Ok(())
        }
        kind::PUSH_PROMISE => Err(ConnError(code::PROTOCOL_ERROR)),
        // PRIORITY and unknown types are ignored (RFC 9113 §5.5)
        _ => Ok(()),
    }
}

/// A frame's 4-byte payload.
fn word(payload: &[u8]) -> Result<u32, ConnError> {
    let b: [u8; 4] = payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ConnError(code::FRAME_SIZE_ERROR))?;
    Ok(u32::from_be_bytes(b))
}

/// Resets a stream of ours for something the server did wrong on it.
fn reset(out: &mut Vec<u8>, s: &mut Slot, c: u32) {
    if !s.ended && s.failure.is_none() {
        frame::put_u32(out, kind::RST_STREAM, s.id, c);
        finish(s, Some(Failure::Broken(ErrorKind::Protocol)));
    }
}

/// Sends the bodies waiting for window, as far as it now goes.
fn flush_bodies(g: &mut Inner) {
    let max = g.peer_max_frame;
    let Inner {
        out,
        streams,
        send_window,
        ..
    } = g;
    for s in streams.iter_mut().filter(|s| !s.pending.is_empty()) {
        send_body(out, s, send_window, max);
    }
}

fn settings(g: &mut Inner, shared: &Shared, head: Head, payload: &[u8]) -> Result<(), ConnError> {
    if head.stream != 0 {
        return Err(ConnError(code::PROTOCOL_ERROR));
    }
    if head.flags & flag::ACK != 0 {
        return if payload.is_empty() {
            Ok(())
        } else {
            Err(ConnError(code::FRAME_SIZE_ERROR))
        };
    }
    if payload.len() % 6 != 0 {
        return Err(ConnError(code::FRAME_SIZE_ERROR));
    }
    // a server whose first SETTINGS does not limit its streams allows any number (RFC
    // 9113 §6.5.2); a later one without the setting leaves it as it was
    let mut max_streams = if g.settings_seen {
        shared.max_streams.load(Ordering::Relaxed)
    } else {
        usize::MAX
    };
    g.settings_seen = true;
    for p in payload.chunks_exact(6) {
        let id = u16::from_be_bytes([p[0], p[1]]);
        let v = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
        match id {
            setting::MAX_CONCURRENT_STREAMS => max_streams = v as usize,
            setting::INITIAL_WINDOW_SIZE => {
                if i64::from(v) > frame::MAX_WINDOW {
                    return Err(ConnError(code::FLOW_CONTROL_ERROR));
                }
                let delta = i64::from(v) - g.peer_window;
                g.peer_window = i64::from(v);
                for s in &mut g.streams {
                    s.send_window += delta;
                    if s.send_window > frame::MAX_WINDOW {
                        return Err(ConnError(code::FLOW_CONTROL_ERROR));
                    }
                }
            }
            setting::MAX_FRAME_SIZE => {
                if !(16_384..=16_777_215).contains(&v) {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                g.peer_max_frame = v as usize;
            }
            setting::ENABLE_PUSH if v > 1 => return Err(ConnError(code::PROTOCOL_ERROR)),
            // ours starts again (at most 4 KiB, however large the server allows)
            setting::HEADER_TABLE_SIZE if (v as usize).min(HEADER_TABLE) != g.enc.max() => {
                g.enc.reset((v as usize).min(HEADER_TABLE));
                g.table_update = true;
            }
            _ => {}
        }
    }
    shared.max_streams.store(max_streams, Ordering::Relaxed);
    frame::put_head(&mut g.out, 0, kind::SETTINGS, flag::ACK, 0);
    flush_bodies(g);
    Ok(())
}

/// A DATA frame: body for its stream, and room given back to the server.
fn data(g: &mut Inner, head: Head, payload: &[u8]) -> Result<(), ConnError> {
    if head.stream == 0 {
        return Err(ConnError(code::PROTOCOL_ERROR));
    }
    let body = unpad(&head, payload)?;
    let len = head.len as u32;
    g.recv_unacked += len;
    if g.recv_unacked >= CONN_WINDOW / 2 {
        frame::put_u32(&mut g.out, kind::WINDOW_UPDATE, 0, g.recv_unacked);
        g.recv_unacked = 0;
    }
    let Inner { out, streams, .. } = g;
    let Some(s) = streams.iter_mut().find(|s| s.id == head.stream) else {
        // a stream we gave up on (or a stream id we never used): nothing to keep
        return Ok(());
    };
    if s.ended || s.failure.is_some() {
        return Ok(());
    }
    if s.status == 0 {
        // a body before the response's head
        reset(out, s, code::PROTOCOL_ERROR);
        return Ok(());
    }
    if s.keep.body {
        s.body.extend_from_slice(body);
    }
    if head.flags & flag::END_STREAM != 0 {
        finish(s, None);
        return Ok(());
    }
    s.recv_unacked += len;
    if s.recv_unacked >= STREAM_WINDOW / 2 {
        frame::put_u32(out, kind::WINDOW_UPDATE, s.id, s.recv_unacked);
        s.recv_unacked = 0;
    }
    Ok(())
}

/// A whole header block for `stream`: the response's head (or an interim one, or trailers).
/// The block is decoded whatever the stream, so the table stays in step with the server's.
fn header_block(
    g: &mut Inner,
    stream: u32,
    end_stream: bool,
    block: &[u8],
    now: Instant,
) -> Result<(), ConnError> {
    let Inner {
        decoder,
        streams,
        out,
        ..
    } = g;
    let slot = streams
        .iter_mut()
        .find(|s| s.id == stream && !s.ended && s.failure.is_none());
    let Some(s) = slot else {
        return decoder
            .decode(block, |_, _| {})
            .map_err(|_| ConnError(code::COMPRESSION_ERROR));
    };
    let trailers = s.status != 0;
    let (mut status, mut malformed, mut regular) = (0u16, false, false);
    let mut size = 0usize;
    let keep_all = s.keep.headers;
    let headers = &mut s.headers;
    decoder
        .decode(block, |name, value| {
            size += name.len() + value.len() + 32;
            if trailers || size > MAX_HEADER_LIST {
                return;
            }
            if let Some(pseudo) = name.strip_prefix(b":") {
                // pseudo-headers come first, and a response has only `:status`
                if regular || pseudo != b"status" || status != 0 {
                    malformed = true;
                    return;
                }
                status = match value {
                    [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
                        u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
                    }
                    _ => {
                        malformed = true;
                        0
                    }
                };
                return;
            }
            regular = true;
            if !keep_all && name != b"set-cookie" && name != b"location" {
                return;
            }
            match (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
                // upper case is not allowed in HTTP/2 (RFC 9113 §8.2.1)
                (Ok(n), Ok(v)) if n.as_str().as_bytes() == name => {
                    headers.append(n, v);
                }
                _ => malformed = true,
            }
        })
        .map_err(|_| ConnError(code::COMPRESSION_ERROR))?;
    if trailers {
        if !end_stream {
            reset(out, s, code::PROTOCOL_ERROR);
        } else {
            finish(s, None);
        }
        return Ok(());
    }
    if malformed || status == 0 || size > MAX_HEADER_LIST {
        reset(out, s, code::PROTOCOL_ERROR);
        return Ok(());
    }
    if status == 101 {
        // switching protocols has no place in HTTP/2 (RFC 9113 §8.6)
        reset(out, s, code::PROTOCOL_ERROR);
        return Ok(());
    }
    if (100..200).contains(&status) {
        // an interim response (100 Continue, 103 Early Hints): the real one follows
        s.headers.clear();
        if end_stream {
            reset(out, s, code::PROTOCOL_ERROR);
        }
        return Ok(());
    }
    s.status = status;
    s.t_head = Some(now);
    if end_stream {
        finish(s, None);
    }
    Ok(())
}

/// Runs the frame handler over `data` as if a server had sent it on a connection with three
/// streams open, as a fuzz target: it must never panic, loop forever or allocate without
/// bound. The first byte picks how many bytes each read brings (1–256).
#[doc(hidden)]
pub fn fuzz_h2_frames(data: &[u8]) {
    let (chunk, data) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c) + 1, rest),
        None => return,
    };
    let shared = new_shared(Vec::new());
    let mut g = lock(&shared.inner);
    for (i, keep) in [(0, ALL_KEPT), (1, NONE_KEPT), (2, ALL_KEPT)] {
        let id = 1 + 2 * i;
        g.next_id = id + 2;
        let mut slot = Slot::new(id, keep, HeaderMap::new(), g.peer_window);
        slot.pending = Bytes::from_static(&[7; 100_000]);
        g.streams.push(slot);
    }
    let (mut buf, mut at) = (Vec::new(), 0);
    let now = Instant::now();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        if frames(&buf, &mut at, &mut g, &shared, now).is_err() {
            break;
        }
        // what the task writes is dropped, as a socket would take it
        g.out.clear();
    }
    let slots = std::mem::take(&mut g.streams);
    drop(g);
    for s in slots {
        let _ = outcome(s);
    }
}

const ALL_KEPT: Keep = Keep {
    body: true,
    headers: true,
};
const NONE_KEPT: Keep = Keep {
    body: false,
    headers: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_head_is_cut_into_continuations() {
        let mut out = Vec::new();
        put_header_block(&mut out, 3, true, 16, |b| b.extend_from_slice(&[9u8; 40]));
        let h = Head::parse(out[..9].try_into().expect("9"));
        assert_eq!(
            (h.kind, h.len, h.flags),
            (kind::HEADERS, 16, flag::END_STREAM)
        );
        assert_eq!(out.len(), 3 * 9 + 40);
        let mut small = Vec::new();
        put_header_block(&mut small, 5, false, 16, |b| {
            b.extend_from_slice(&[1, 2, 3])
        });
        let h = Head::parse(small[..9].try_into().expect("9"));
        assert_eq!((h.len, h.flags, h.stream), (3, flag::END_HEADERS, 5));
    }
}
