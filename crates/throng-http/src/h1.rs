//! throng's own HTTP/1.1 client codec: a reused write buffer per connection and a read
//! buffer lent by [`crate::readbuf`] only while a response is read, `httparse` for the
//! response head, content-length / chunked / until-close bodies. It replaces hyper's HTTP/1
//! client on the hot path, which allocates two 8 KiB buffers per connection and a header
//! map per response (see docs/performance.md).
//!
//! Framing follows RFC 9112 strictly, because a response read with the wrong length is
//! attributed to the wrong request (docs/reliability.md):
//! - bytes left over after a complete response close the connection;
//! - an idle connection is checked without blocking before reuse ([`H1::idle_ok`]);
//! - conflicting or malformed `Content-Length` values are errors;
//! - `Transfer-Encoding` whose last coding is not `chunked` is read until close.
use crate::error::ErrorKind;
use crate::head::{parse_head, BodyKind, Head, Parsed};
use crate::io::{IoStats, Timed};
use crate::readbuf;
pub(crate) use crate::render::Out;
use bytes::{Bytes, BytesMut};
use std::future::{poll_fn, Future};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// First read of a response (on the stack), and the smallest read buffer.
const INIT_READ: usize = 2048;
/// Largest read buffer kept while a big body streams through.
const MAX_READ: usize = 64 * 1024;
/// Largest response head (status line and headers) accepted, as Go's default.
pub(crate) const MAX_HEAD: usize = 1 << 20;
/// Largest chunk-size or trailer line.
const MAX_LINE: usize = 64 * 1024;

/// Why an exchange failed, by what the server may have seen of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// No byte of the request reached the socket: safe to send again, on a new connection.
    NotSent(ErrorKind),
    /// The request was written but the connection ended before the first byte of a response:
    /// the server may have processed it.
    NoResponse(ErrorKind),
    /// Anything else (a response started and broke, garbage, ...).
    Failed(ErrorKind),
}

/// How writing the request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Every byte was written.
    All,
    /// The server answered with a final response before the body was written in full
    /// (e.g. 413): stop writing, read that response, then close.
    Early,
    /// Writing failed after part of the request was sent: a response may still be buffered.
    Broken(ErrorKind),
}

/// One HTTP/1.1 connection.
#[repr(C, align(64))]
pub(crate) struct H1 {
    // in declaration order (`repr(C)`), what every request reads first: the stream with its
    // counts, the buffers' ends; with a thousand VUs each cache line of it is a miss. On
    // lines of its own (`align(64)`), its first 192 bytes are three lines, not four, and
    // the last bytes of `kept` are on a fourth, touched only when a body is kept.
    io: Timed,
    /// Bytes read and not yet consumed are `rbuf[rpos..rlen]`. Empty (no allocation)
    /// between responses: lent by [`readbuf`] when a response's first bytes arrive and
    /// given back when it has been read, so an idle connection holds no read buffer.
    rbuf: Vec<u8>,
    rpos: usize,
    rlen: usize,
    wbuf: Vec<u8>,
    pub closed: bool,
    /// Whether the body being read is kept (in `kept`).
    keep_body: bool,
    /// Where reading the body is (see [`H1::body`]): here rather than in the request's
    /// future, which it would make larger for every VU.
    body_at: BodyAt,
    /// Where kept response bodies are read: each body is split off it and frozen, and its
    /// storage is reused by the next one once that body is dropped (allocated only when
    /// a request keeps its body; dropped above 64 KiB, like `wbuf`).
    kept: BytesMut,
}

/// Where reading a response body is, between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyAt {
    /// This many bytes of a length-delimited body to go.
    Length(u64),
    /// Until the server closes the connection.
    UntilClose,
    /// A chunk-size line next.
    ChunkSize,
    /// This many bytes of a chunk's data to go.
    ChunkData(u64),
    /// The CRLF after a chunk's data next.
    ChunkEnd,
    /// Trailer lines, until an empty one.
    Trailers,
    /// Read in full.
    Done,
    /// Failed.
    Failed(ErrorKind),
}

impl BodyAt {
    fn of(kind: BodyKind) -> BodyAt {
        match kind {
            BodyKind::None => BodyAt::Done,
            BodyKind::Length(n) => BodyAt::Length(n),
            BodyKind::Chunked => BodyAt::ChunkSize,
            BodyKind::UntilClose => BodyAt::UntilClose,
        }
    }
}

/// The value of a `Poll<Result<T, ErrorKind>>`, returning from the poll function when it
/// is pending or failed.
macro_rules! ready_ok {
    ($e:expr) => {
        match $e {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(v)) => v,
        }
    };
}

impl H1 {
    /// The connection's byte counts and times.
    pub fn stats(&self) -> &IoStats {
        &self.io.stats
    }

    /// Where this connection's state is that every request touches: the connection and
    /// the start of its request buffer (a large body is written once, not read again; see
    /// `throng_engine::hot`).
    pub fn hot(&self) -> ((usize, usize), (usize, usize)) {
        (
            (self as *const H1 as usize, std::mem::size_of::<H1>()),
            (self.wbuf.as_ptr() as usize, self.wbuf.len().min(256)),
        )
    }

    pub fn new(io: Timed) -> H1 {
        H1 {
            io,
            rbuf: Vec::new(),
            rpos: 0,
            rlen: 0,
            wbuf: Vec::new(),
            kept: BytesMut::new(),
            closed: false,
            keep_body: false,
            body_at: BodyAt::Done,
        }
    }

    /// Whether an idle kept-alive connection can take the next request: not closed, nothing
    /// left over from the last response, and a read that does not block finds neither EOF
    /// nor unsolicited bytes (such as a `408 Request Timeout` sent before closing).
    pub fn idle_ok(&mut self) -> bool {
        if self.closed || self.rpos != self.rlen {
            self.closed = true;
            return false;
        }
        let mut probe = [0u8; 64];
        let mut rb = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(&mut self.io).poll_read(&mut cx, &mut rb) {
            Poll::Pending => true,
            Poll::Ready(_) => {
                self.closed = true;
                false
            }
        }
    }

    /// Renders the request into the connection's write buffer, for [`H1::write_request`]:
    /// before the exchange's first wait, so that what it is rendered from is not held in
    /// the request's future while it waits. `NotSent` when a header cannot be written.
    pub fn render(&mut self, o: &Out<'_>) -> Result<(), SendError> {
        crate::render::render(&mut self.wbuf, o).map_err(SendError::NotSent)
    }

    /// Writes the request [`H1::render`] rendered. While a large body is still being
    /// written, a final response the server sends early is noticed (see [`Sent::Early`]).
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    pub fn write_request(&mut self) -> impl Future<Output = Result<Sent, SendError>> + '_ {
        async move {
            let mut off = 0usize;
            let r = poll_fn(|cx| self.poll_send(cx, &mut off)).await;
            if self.wbuf.capacity() > 64 * 1024 {
                self.wbuf = Vec::new();
            }
            match r {
                Ok(Sent::All) => Ok(Sent::All),
                Ok(s) => {
                    self.closed = true;
                    Ok(s)
                }
                Err(e) => {
                    self.closed = true;
                    let k = ErrorKind::from_io(&e);
                    if off == 0 {
                        Err(SendError::NotSent(k))
                    } else {
                        Ok(Sent::Broken(k))
                    }
                }
            }
        }
    }

    /// Writes `wbuf[off..]`; when the socket is full, looks for an early final response.
    fn poll_send(&mut self, cx: &mut Context<'_>, off: &mut usize) -> Poll<std::io::Result<Sent>> {
        loop {
            if *off == self.wbuf.len() {
                return Pin::new(&mut self.io).poll_flush(cx).map_ok(|_| Sent::All);
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.wbuf[*off..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *off += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => match self.poll_fill(cx) {
                    Poll::Pending => return Poll::Pending,
                    // the peer stopped; whatever it sent is read as the response
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                        return Poll::Ready(Ok(Sent::Early))
                    }
                    Poll::Ready(Ok(_)) => {
                        if self.final_head_buffered() {
                            return Poll::Ready(Ok(Sent::Early));
                        }
                    }
                },
            }
        }
    }

    /// Whether a complete non-1xx response head is buffered (1xx heads are consumed), or
    /// so much that it can only be an error: either way, stop writing and read it.
    fn final_head_buffered(&mut self) -> bool {
        if self.rlen - self.rpos > MAX_HEAD {
            return true;
        }
        loop {
            match parse_head(&self.rbuf[self.rpos..self.rlen], false) {
                Ok(Parsed::Complete(n, head, _)) if head.interim() => self.rpos += n,
                Ok(Parsed::Complete(..)) | Err(_) => return true,
                Ok(Parsed::Partial) => return false,
            }
        }
    }

    /// Reads more bytes into the buffer; Ready(Ok(0)) at EOF.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.rpos == self.rlen {
            self.rpos = 0;
            self.rlen = 0;
        }
        if self.rbuf.is_empty() {
            return self.poll_first(cx);
        }
        if self.rlen == self.rbuf.len() {
            if self.rpos > 0 {
                self.rbuf.copy_within(self.rpos..self.rlen, 0);
                self.rlen -= self.rpos;
                self.rpos = 0;
            } else {
                let n = self.rbuf.len() * 2;
                self.rbuf.resize(n, 0);
            }
        }
        let free = self.rbuf.len() - self.rlen;
        let mut rb = ReadBuf::new(&mut self.rbuf[self.rlen..]);
        match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                self.rlen += n;
                // a full read means more is coming: read bigger chunks (bodies)
                if n == free && self.rbuf.len() < MAX_READ {
                    let grown = (self.rbuf.len() * 2).min(MAX_READ);
                    self.rbuf.resize(grown, 0);
                }
                Poll::Ready(Ok(n))
            }
        }
    }

    /// Reads with no buffer held: into the stack, so a connection waiting for its
    /// response holds none; what arrives is copied into a buffer from [`readbuf`].
    fn poll_first(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let mut stack = [MaybeUninit::<u8>::uninit(); INIT_READ];
        let mut rb = ReadBuf::uninit(&mut stack);
        match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let got = rb.filled();
                let n = got.len();
                if n > 0 {
                    // a full read means more is coming: a bigger buffer for the body
                    let want = if n == INIT_READ {
                        2 * INIT_READ
                    } else {
                        INIT_READ
                    };
                    self.rbuf = readbuf::take(want);
                    self.rbuf[..n].copy_from_slice(got);
                    self.rpos = 0;
                    self.rlen = n;
                }
                Poll::Ready(Ok(n))
            }
        }
    }

    /// Gives the read buffer back once everything in it is consumed.
    fn release(&mut self) {
        if self.rpos == self.rlen {
            readbuf::give(std::mem::take(&mut self.rbuf));
            self.rpos = 0;
            self.rlen = 0;
        }
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        poll_fn(|cx| self.poll_fill(cx)).await
    }

    /// Reads the response head (skipping 1xx interim responses).
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    pub fn read_head(
        &mut self,
        want_headers: bool,
    ) -> impl Future<Output = Result<(Head, BodyKind), SendError>> + '_ {
        async move {
            let mut got_any = self.rpos != self.rlen;
            loop {
                match parse_head(&self.rbuf[self.rpos..self.rlen], want_headers) {
                    Ok(Parsed::Complete(n, head, kind)) => {
                        self.rpos += n;
                        if head.interim() {
                            continue;
                        }
                        return Ok((head, kind));
                    }
                    Ok(Parsed::Partial) => {}
                    Err(k) => {
                        self.closed = true;
                        return Err(SendError::Failed(k));
                    }
                }
                if self.rlen - self.rpos > MAX_HEAD {
                    self.closed = true;
                    return Err(SendError::Failed(ErrorKind::Protocol));
                }
                let r = self.fill().await;
                match r {
                    Ok(n) if n > 0 => got_any = true,
                    _ => {
                        self.closed = true;
                        let k = match r {
                            Err(e) => ErrorKind::from_io(&e),
                            Ok(_) => ErrorKind::ConnectionReset,
                        };
                        return Err(if got_any {
                            SendError::Failed(k)
                        } else {
                            SendError::NoResponse(k)
                        });
                    }
                }
            }
        }
    }

    /// Reads (and keeps in `kept`, if asked) the body. After it, a connection with bytes
    /// left over is closed: they belong to no request. A body that arrived with its head
    /// (a small response: the usual case) is read at once, without a wait; the rest of one
    /// that did not is read by the same poll function as it arrives, the state of the
    /// reading kept here ([`BodyAt`]), not in the request's future.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    pub fn body(
        &mut self,
        kind: BodyKind,
        keep: bool,
    ) -> impl Future<Output = Result<Bytes, ErrorKind>> + '_ {
        async move {
            // `kept` is empty here (each kept body is split off it, a failed one too; a
            // connection whose body future was dropped part way is never used again), and
            // is not touched for a body that is not kept
            debug_assert!(self.kept.is_empty());
            self.body_at = BodyAt::of(kind);
            self.keep_body = keep;
            let r = match self.poll_body(None) {
                Poll::Ready(r) => r,
                Poll::Pending => poll_fn(|cx| self.poll_body(Some(cx))).await,
            };
            if r.is_err() || self.rpos != self.rlen {
                self.closed = true;
            }
            // an idle connection holds no read buffer
            self.release();
            if !keep {
                return r.map(|_| Bytes::new());
            }
            let body = if self.kept.is_empty() {
                Bytes::new()
            } else {
                self.kept.split().freeze()
            };
            if self.kept.capacity() > 64 * 1024 {
                self.kept = BytesMut::new();
            }
            r.map(|_| body)
        }
    }

    /// Reads the body as far as it can from `body_at`: with `cx`, reading the socket when
    /// the buffer runs out; without, only what is buffered (`Pending` when that is not all
    /// of it, the reading left where it got to).
    fn poll_body(&mut self, mut cx: Option<&mut Context<'_>>) -> Poll<Result<(), ErrorKind>> {
        loop {
            let r = match self.body_at {
                BodyAt::Done => return Poll::Ready(Ok(())),
                BodyAt::Failed(k) => return Poll::Ready(Err(k)),
                BodyAt::Length(0) => Ok(BodyAt::Done),
                BodyAt::Length(n) => match ready_ok!(self.poll_take(cx.as_deref_mut(), n, false)) {
                    0 => Err(ErrorKind::ConnectionReset),
                    got => Ok(BodyAt::Length(n - got as u64)),
                },
                BodyAt::UntilClose => {
                    match ready_ok!(self.poll_take(cx.as_deref_mut(), u64::MAX, true)) {
                        0 => {
                            self.closed = true;
                            Ok(BodyAt::Done)
                        }
                        _ => Ok(BodyAt::UntilClose),
                    }
                }
                BodyAt::ChunkSize => {
                    let line = ready_ok!(self.poll_line(cx.as_deref_mut()));
                    match chunk_size(&self.rbuf[line]) {
                        Some(0) => Ok(BodyAt::Trailers),
                        Some(n) => Ok(BodyAt::ChunkData(n)),
                        None => Err(ErrorKind::Protocol),
                    }
                }
                BodyAt::ChunkData(0) => Ok(BodyAt::ChunkEnd),
                BodyAt::ChunkData(n) => {
                    match ready_ok!(self.poll_take(cx.as_deref_mut(), n, false)) {
                        0 => Err(ErrorKind::ConnectionReset),
                        got => Ok(BodyAt::ChunkData(n - got as u64)),
                    }
                }
                BodyAt::ChunkEnd => match ready_ok!(self.poll_line(cx.as_deref_mut())).is_empty() {
                    true => Ok(BodyAt::ChunkSize),
                    false => Err(ErrorKind::Protocol),
                },
                // trailers until an empty line
                BodyAt::Trailers => match ready_ok!(self.poll_line(cx.as_deref_mut())).is_empty() {
                    true => Ok(BodyAt::Done),
                    false => Ok(BodyAt::Trailers),
                },
            };
            self.body_at = r.unwrap_or_else(BodyAt::Failed);
        }
    }

    /// More bytes into the buffer: read from the socket with `cx`; without, `Pending` (only
    /// what is buffered is used). Ok(0) at EOF.
    fn poll_more(&mut self, cx: Option<&mut Context<'_>>) -> Poll<std::io::Result<usize>> {
        match cx {
            Some(cx) => self.poll_fill(cx),
            None => Poll::Pending,
        }
    }

    /// Takes up to `n` buffered bytes into the kept body, if it is kept (reading more if
    /// none are buffered); Ok(0) at EOF. `eof_ok`: a TLS peer that closes without
    /// close_notify also counts as EOF.
    fn poll_take(
        &mut self,
        cx: Option<&mut Context<'_>>,
        n: u64,
        eof_ok: bool,
    ) -> Poll<Result<usize, ErrorKind>> {
        if self.rpos == self.rlen {
            match self.poll_more(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) if eof_ok && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Poll::Ready(Ok(0))
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ErrorKind::from_io(&e))),
            }
        }
        let k = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.rlen - self.rpos);
        if self.keep_body {
            self.kept
                .extend_from_slice(&self.rbuf[self.rpos..self.rpos + k]);
        }
        self.rpos += k;
        Poll::Ready(Ok(k))
    }

    /// Reads one CRLF-terminated line and returns where it is in the read buffer (without
    /// the CRLF), valid until the next read; no copy is made.
    fn poll_line(
        &mut self,
        mut cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<std::ops::Range<usize>, ErrorKind>> {
        loop {
            if let Some(i) = self.rbuf[self.rpos..self.rlen]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                let line = self.rpos..self.rpos + i;
                self.rpos += i + 2;
                return Poll::Ready(Ok(line));
            }
            if self.rlen - self.rpos > MAX_LINE {
                return Poll::Ready(Err(ErrorKind::Protocol));
            }
            match self.poll_more(cx.as_deref_mut()) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::ConnectionReset)),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ErrorKind::from_io(&e))),
            }
        }
    }
}

impl Drop for H1 {
    fn drop(&mut self) {
        readbuf::give(std::mem::take(&mut self.rbuf));
    }
}

/// The size of a chunk-size line (`1a3;ext=1`): hex digits only, at most 16 of them.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].trim_ascii_end();
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let s = std::str::from_utf8(digits).ok()?;
    u64::from_str_radix(s, 16).ok()
}

/// Runs the codec over `data` as if a server had sent it in reply to a few GET requests, as
/// a fuzz target: it must never panic, loop forever or allocate without bound. The first
/// byte picks how many bytes each read returns (1–64).
#[doc(hidden)]
pub fn fuzz_h1_response(data: &[u8]) {
    let (chunk, data) = match data.split_first() {
        Some((c, rest)) => (usize::from(c % 64) + 1, rest),
        None => return,
    };
    let io = Timed::memory(data.to_vec(), chunk);
    let mut h1 = H1::new(io);
    let out = Out {
        method: "GET",
        target: "/",
        host: "fuzz",
        user_agent: "fuzz",
        cookie: None,
        close: false,
        headers: &[],
        body: b"",
    };
    let mut fut = std::pin::pin!(async {
        for _ in 0..4 {
            if h1.render(&out).is_err() || h1.write_request().await.is_err() {
                return;
            }
            let Ok((head, kind)) = h1.read_head(true).await else {
                return;
            };
            let kind = if head.status == 204 || head.status == 304 {
                BodyKind::None
            } else {
                kind
            };
            if h1.body(kind, true).await.is_err() || head.close || h1.closed {
                return;
            }
        }
    });
    let mut cx = Context::from_waker(std::task::Waker::noop());
    // an in-memory stream never waits, so a bounded number of polls always suffices
    for _ in 0..1_000_000 {
        if fut.as_mut().poll(&mut cx).is_ready() {
            return;
        }
    }
    panic!("the HTTP/1 codec did not finish on in-memory input");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_are_strict_hex() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"0;name=v"), Some(0));
        assert_eq!(chunk_size(b"5 "), Some(5));
        assert_eq!(chunk_size(b"+5"), None);
        assert_eq!(chunk_size(b"-1"), None);
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"0x5"), None);
        assert_eq!(chunk_size(b"11111111111111111"), None);
    }

    #[test]
    fn fuzz_entry_survives_odd_inputs() {
        for input in [
            &b""[..],
            b"\x05HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"\x3fHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx",
            b"\x01HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            fuzz_h1_response(input);
        }
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    fn poll_now<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        // an in-memory stream never waits, so a bounded number of polls always suffices
        for _ in 0..1_000_000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("no progress on in-memory input");
    }

    /// A body's outcome and whether the connection closed after it.
    type Read = (Result<Vec<u8>, ErrorKind>, bool);

    /// What the server sends, the body it should read as, and whether it closes.
    type Case<'a> = (&'a [u8], Result<&'a [u8], ErrorKind>, bool);

    /// Up to `n` exchanges over `data`, read `chunk` bytes at a time.
    fn exchanges(data: &[u8], chunk: usize, keep: bool, n: usize) -> Vec<Read> {
        let mut h1 = H1::new(Timed::memory(data.to_vec(), chunk));
        let out = Out {
            method: "GET",
            target: "/",
            host: "t",
            user_agent: "t",
            cookie: None,
            close: false,
            headers: &[],
            body: b"",
        };
        let mut got = Vec::new();
        for _ in 0..n {
            assert!(h1.render(&out).is_ok());
            assert!(poll_now(h1.write_request()).is_ok());
            let Ok((head, kind)) = poll_now(h1.read_head(true)) else {
                got.push((Err(ErrorKind::Protocol), true));
                break;
            };
            let r = poll_now(h1.body(kind, keep)).map(|b| b.to_vec());
            assert!(h1.kept.is_empty(), "`kept` left holding bytes");
            if let (false, Ok(b)) = (keep, &r) {
                assert!(b.is_empty(), "a body not kept came back");
            }
            let closed = h1.closed || head.close;
            got.push((r, closed));
            if closed {
                break;
            }
        }
        got
    }

    /// Every framing, read 1 to 70 bytes at a time (so the pass over what is buffered
    /// stops part way through a length, a chunk, a size line or a CRLF, and the reading
    /// goes on from there), kept and not.
    #[test]
    fn bodies_read_alike_at_every_read_size() {
        let reset = Err(ErrorKind::ConnectionReset);
        let bad = Err(ErrorKind::Protocol);
        let cases: Vec<Case> = vec![
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", Ok(b"0123456789"), false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Ok(b""), false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", reset, true),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\n wo\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n",
                Ok(b"hello wo"),
                false,
            ),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Ok(b""), false),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n", bad, true),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", reset, true),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: 1\r\n", reset, true),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", bad, true),
            (b"HTTP/1.1 200 OK\r\n\r\nuntil close body", Ok(b"until close body"), true),
            (b"HTTP/1.1 204 No Content\r\n\r\n", Ok(b""), false),
        ];
        for (data, want, closes) in cases {
            for chunk in 1..=70 {
                for keep in [true, false] {
                    let got = exchanges(data, chunk, keep, 1);
                    let want = want.map(|b| if keep { b.to_vec() } else { Vec::new() });
                    let text = String::from_utf8_lossy(data);
                    assert_eq!(
                        got,
                        [(want, closes)],
                        "reads of {chunk}, keep {keep}: {text:?}"
                    );
                }
            }
        }
    }

    /// A second response right behind the first: if it arrived with the first it is left
    /// over and the connection closes; otherwise both are read in turn.
    #[test]
    fn a_response_behind_the_body_closes_or_is_read_next() {
        let data = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n";
        for chunk in 1..=70 {
            for keep in [true, false] {
                let kept = |b: &[u8]| if keep { b.to_vec() } else { Vec::new() };
                match exchanges(data, chunk, keep, 2).as_slice() {
                    [(Ok(a), true)] => assert_eq!(*a, kept(b"abc")),
                    [(Ok(a), false), (Ok(b), false)] => {
                        assert_eq!(*a, kept(b"abc"));
                        assert_eq!(*b, kept(b"xy"));
                    }
                    other => panic!("reads of {chunk}, keep {keep}: {other:?}"),
                }
            }
        }
    }

    /// What reading a body keeps in the request's future (docs/architecture.md).
    #[test]
    fn reading_a_body_is_a_small_future() {
        let mut h1 = H1::new(Timed::memory(Vec::new(), 1));
        let f = h1.body(BodyKind::None, false);
        assert!(
            std::mem::size_of_val(&f) <= 40,
            "{} B",
            std::mem::size_of_val(&f)
        );
    }
}
