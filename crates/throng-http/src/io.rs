//! The connection stream, wrapped to count bytes and timestamp reads and writes: this is
//! where the sending / waiting / receiving phases come from.
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Byte counts and timestamps of one connection (shared with its connection task, for
/// HTTP/2; see [`Stats`]).
#[derive(Debug)]
pub(crate) struct IoStats {
    base: Instant,
    pub(crate) written: AtomicU64,
    pub(crate) read: AtomicU64,
    /// ns since `base` of the last write (0 = none since reset).
    last_write: AtomicU64,
    /// ns since `base` of the first read since reset (0 = none).
    first_read: AtomicU64,
    /// ns since `base` of the latest read since reset (0 = none): when a response's head,
    /// then its last byte, arrived — so the client reads the clock once per read, not
    /// again for each phase's end.
    last_read: AtomicU64,
}

impl IoStats {
    pub(crate) fn new() -> IoStats {
        IoStats {
            base: Instant::now(),
            written: AtomicU64::new(0),
            read: AtomicU64::new(0),
            last_write: AtomicU64::new(0),
            first_read: AtomicU64::new(0),
            last_read: AtomicU64::new(0),
        }
    }

    fn now_ns(&self) -> u64 {
        (self.base.elapsed().as_nanos() as u64).max(1)
    }

    fn note_write(&self, n: usize) {
        if n > 0 {
            self.written.fetch_add(n as u64, Ordering::Relaxed);
            self.last_write.store(self.now_ns(), Ordering::Relaxed);
        }
    }

    /// Forget the timestamps before a new request.
    pub(crate) fn reset_marks(&self) {
        self.last_write.store(0, Ordering::Relaxed);
        self.first_read.store(0, Ordering::Relaxed);
        self.last_read.store(0, Ordering::Relaxed);
    }

    fn to_instant(&self, ns: u64) -> Option<Instant> {
        (ns != 0).then(|| self.base + std::time::Duration::from_nanos(ns))
    }

    pub(crate) fn last_write(&self) -> Option<Instant> {
        self.to_instant(self.last_write.load(Ordering::Relaxed))
    }

    pub(crate) fn first_read(&self) -> Option<Instant> {
        self.to_instant(self.first_read.load(Ordering::Relaxed))
    }

    /// When the latest read since the reset returned bytes.
    pub(crate) fn last_read(&self) -> Option<Instant> {
        self.to_instant(self.last_read.load(Ordering::Relaxed))
    }

    fn note_read(&self, n: usize) {
        if n > 0 {
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            let now = self.now_ns();
            if self.first_read.load(Ordering::Relaxed) == 0 {
                self.first_read.store(now, Ordering::Relaxed);
            }
            self.last_read.store(now, Ordering::Relaxed);
        }
    }
}

/// A plain or TLS stream (or bytes in memory, for fuzzing the codec).
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Memory(Box<Memory>),
}

/// An in-memory peer: reads return `data` `chunk` bytes at a time, then EOF; writes vanish.
pub(crate) struct Memory {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Memory {
    fn read(&mut self, buf: &mut ReadBuf<'_>) {
        let n = self
            .chunk
            .min(buf.remaining())
            .min(self.data.len() - self.pos);
        buf.put_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
    }
}

impl Timed {
    /// A stream over bytes in memory (see [`Memory`]).
    pub(crate) fn memory(data: Vec<u8>, chunk: usize) -> Timed {
        Timed {
            inner: Stream::Memory(Box::new(Memory {
                data,
                pos: 0,
                chunk: chunk.max(1),
            })),
            stats: Stats::Own(IoStats::new()),
        }
    }
}

/// Where a stream's [`IoStats`] are: in the stream itself when one VU's requests are all
/// that read them (HTTP/1.1: the counts then share the connection's cache lines, not a
/// line of their own), or shared with the connection's requests (HTTP/2, whose stream the
/// connection task owns).
pub(crate) enum Stats {
    Own(IoStats),
    Shared(Arc<IoStats>),
}

impl std::ops::Deref for Stats {
    type Target = IoStats;

    fn deref(&self) -> &IoStats {
        match self {
            Stats::Own(s) => s,
            Stats::Shared(s) => s,
        }
    }
}

/// A stream that records byte counts and read/write times into [`IoStats`].
pub(crate) struct Timed {
    pub(crate) inner: Stream,
    pub(crate) stats: Stats,
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = match &mut this.inner {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Memory(m) => {
                m.read(buf);
                Poll::Ready(Ok(()))
            }
        };
        this.stats.note_read(buf.filled().len() - before);
        r
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = match &mut this.inner {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
            Stream::Memory(_) => Poll::Ready(Ok(data.len())),
        };
        if let Poll::Ready(Ok(n)) = &r {
            this.stats.note_write(*n);
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = match &mut this.inner {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Stream::Memory(_) => Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum())),
        };
        if let Poll::Ready(Ok(n)) = &r {
            this.stats.note_write(*n);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
            Stream::Memory(_) => true,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Memory(_) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Memory(_) => Poll::Ready(Ok(())),
        }
    }
}
