//! throng's own HTTP/1.1 client codec: one reused read buffer and one reused write buffer per
//! connection, `httparse` for the response head, content-length / chunked / until-close
//! bodies. It replaces hyper's HTTP/1 client on the hot path, which allocates two 8 KiB
//! buffers per connection and a header map per response (see docs/performance.md).
use crate::error::ErrorKind;
use crate::io::Timed;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use std::io::Write as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Read buffer of an idle connection: small, since a VU may sleep with it open.
const INIT_READ: usize = 2048;
/// Largest read buffer kept while a big body streams through.
const MAX_READ: usize = 64 * 1024;
const MAX_HEAD: usize = 1 << 20;
const MAX_HEADERS: usize = 100;

/// Why an exchange failed: `Stale` means the peer closed before sending a single byte (a
/// kept-alive connection it had dropped), which is safe to retry once.
#[derive(Debug)]
pub(crate) enum H1Error {
    Stale,
    Failed(ErrorKind),
}

/// What the head of a response said.
pub(crate) struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    pub close: bool,
}

/// One HTTP/1.1 connection.
pub(crate) struct H1 {
    io: Timed,
    rbuf: Vec<u8>,
    rpos: usize,
    rlen: usize,
    wbuf: Vec<u8>,
    pub closed: bool,
}

/// The request line and headers to write.
pub(crate) struct Out<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub host: &'a str,
    pub user_agent: &'a str,
    pub cookie: Option<&'a str>,
    pub close: bool,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

fn is(name: &str, want: &str) -> bool {
    name.eq_ignore_ascii_case(want)
}

impl H1 {
    pub fn new(io: Timed) -> H1 {
        H1 {
            io,
            rbuf: Vec::new(),
            rpos: 0,
            rlen: 0,
            wbuf: Vec::new(),
            closed: false,
        }
    }

    /// Writes the request in one go.
    pub async fn write_request(&mut self, o: &Out<'_>) -> Result<(), H1Error> {
        let w = &mut self.wbuf;
        w.clear();
        let has = |n: &str| o.headers.iter().any(|(k, _)| is(k, n));
        let _ = write!(w, "{} {} HTTP/1.1\r\n", o.method, o.target);
        if !has("host") {
            let _ = write!(w, "Host: {}\r\n", o.host);
        }
        if !has("user-agent") {
            let _ = write!(w, "User-Agent: {}\r\n", o.user_agent);
        }
        if let Some(c) = o.cookie {
            let _ = write!(w, "Cookie: {c}\r\n");
        }
        if o.close && !has("connection") {
            w.extend_from_slice(b"Connection: close\r\n");
        }
        for (k, v) in o.headers {
            if k.is_empty() || k.contains([':', '\r', '\n']) || v.contains(['\r', '\n']) {
                continue;
            }
            let _ = write!(w, "{k}: {v}\r\n");
        }
        let needs_length = !o.body.is_empty() || matches!(o.method, "POST" | "PUT" | "PATCH");
        if needs_length && !has("content-length") {
            let _ = write!(w, "Content-Length: {}\r\n", o.body.len());
        }
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(o.body);
        let r = self.io.write_all(&self.wbuf).await;
        if self.wbuf.capacity() > 64 * 1024 {
            self.wbuf = Vec::new();
        }
        r.map_err(|e| {
            self.closed = true;
            match ErrorKind::from_io(&e) {
                ErrorKind::ConnectionReset => H1Error::Stale,
                k => H1Error::Failed(k),
            }
        })
    }

    /// Reads more bytes into the buffer; Ok(0) at EOF.
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.rpos == self.rlen {
            self.rpos = 0;
            self.rlen = 0;
        }
        if self.rbuf.len() < INIT_READ {
            self.rbuf.resize(INIT_READ, 0);
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
        let n = self.io.read(&mut self.rbuf[self.rlen..]).await?;
        self.rlen += n;
        // a full read means more is coming: read bigger chunks (bodies), up to MAX_READ
        if n == free && self.rbuf.len() < MAX_READ {
            let grown = (self.rbuf.len() * 2).min(MAX_READ);
            self.rbuf.resize(grown, 0);
        }
        Ok(n)
    }

    /// Reads the response head (skipping 1xx interim responses).
    pub async fn read_head(&mut self, want_headers: bool) -> Result<(Head, BodyKind), H1Error> {
        let mut got_any = false;
        loop {
            let parsed = {
                let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut resp = httparse::Response::new(&mut hs);
                match resp.parse(&self.rbuf[self.rpos..self.rlen]) {
                    Ok(httparse::Status::Complete(n)) => {
                        let status = resp.code.unwrap_or(0);
                        let mut headers = HeaderMap::new();
                        let mut len: Option<u64> = None;
                        let mut chunked = false;
                        let mut close = resp.version == Some(0);
                        let mut bad = false;
                        for h in resp.headers.iter() {
                            let v = h.value;
                            if is(h.name, "content-length") {
                                match std::str::from_utf8(v)
                                    .ok()
                                    .and_then(|s| s.trim().parse().ok())
                                {
                                    Some(n) => len = Some(n),
                                    None => bad = true,
                                }
                            } else if is(h.name, "transfer-encoding") {
                                chunked = v.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked"));
                            } else if is(h.name, "connection") {
                                if v.windows(5).any(|w| w.eq_ignore_ascii_case(b"close")) {
                                    close = true;
                                } else if v
                                    .windows(10)
                                    .any(|w| w.eq_ignore_ascii_case(b"keep-alive"))
                                {
                                    close = false;
                                }
                            }
                            let keep =
                                want_headers || is(h.name, "set-cookie") || is(h.name, "location");
                            if keep {
                                if let (Ok(k), Ok(val)) = (
                                    HeaderName::from_bytes(h.name.as_bytes()),
                                    HeaderValue::from_bytes(v),
                                ) {
                                    headers.append(k, val);
                                }
                            }
                        }
                        Some((n, status, headers, len, chunked, close, bad))
                    }
                    Ok(httparse::Status::Partial) => None,
                    Err(_) => {
                        self.closed = true;
                        return Err(H1Error::Failed(ErrorKind::Protocol));
                    }
                }
            };
            match parsed {
                Some((n, status, headers, len, chunked, close, bad)) => {
                    self.rpos += n;
                    if bad {
                        self.closed = true;
                        return Err(H1Error::Failed(ErrorKind::Protocol));
                    }
                    if (100..200).contains(&status) && status != 101 {
                        got_any = true;
                        continue;
                    }
                    let kind = if chunked {
                        BodyKind::Chunked
                    } else if let Some(n) = len {
                        BodyKind::Length(n)
                    } else {
                        BodyKind::UntilClose
                    };
                    return Ok((
                        Head {
                            status,
                            headers,
                            close,
                        },
                        kind,
                    ));
                }
                None => {
                    if self.rlen - self.rpos > MAX_HEAD {
                        self.closed = true;
                        return Err(H1Error::Failed(ErrorKind::Protocol));
                    }
                    match self.fill().await {
                        Ok(0) => {
                            self.closed = true;
                            let nothing = !got_any && self.rlen == self.rpos;
                            return Err(if nothing {
                                H1Error::Stale
                            } else {
                                H1Error::Failed(ErrorKind::ConnectionReset)
                            });
                        }
                        Ok(_) => got_any = true,
                        Err(e) => {
                            self.closed = true;
                            let k = ErrorKind::from_io(&e);
                            return Err(if !got_any && k == ErrorKind::ConnectionReset {
                                H1Error::Stale
                            } else {
                                H1Error::Failed(k)
                            });
                        }
                    }
                }
            }
        }
    }

    /// Takes up to `n` buffered bytes (reading more if none are buffered).
    async fn take(&mut self, n: usize, keep: Option<&mut BytesMut>) -> Result<usize, ErrorKind> {
        if self.rpos == self.rlen {
            match self.fill().await {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(ErrorKind::from_io(&e)),
            }
        }
        let k = n.min(self.rlen - self.rpos);
        if let Some(out) = keep {
            out.extend_from_slice(&self.rbuf[self.rpos..self.rpos + k]);
        }
        self.rpos += k;
        Ok(k)
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    async fn line(&mut self) -> Result<String, ErrorKind> {
        loop {
            if let Some(i) = self.rbuf[self.rpos..self.rlen]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                let s = String::from_utf8_lossy(&self.rbuf[self.rpos..self.rpos + i]).into_owned();
                self.rpos += i + 2;
                return Ok(s);
            }
            if self.rlen - self.rpos > 64 * 1024 {
                return Err(ErrorKind::Protocol);
            }
            match self.fill().await {
                Ok(0) => return Err(ErrorKind::ConnectionReset),
                Ok(_) => {}
                Err(e) => return Err(ErrorKind::from_io(&e)),
            }
        }
    }

    /// Reads (and keeps, if asked) the body.
    pub async fn read_body(&mut self, kind: BodyKind, keep: bool) -> Result<Bytes, ErrorKind> {
        let mut out = BytesMut::new();
        let r = self
            .body_inner(kind, if keep { Some(&mut out) } else { None })
            .await;
        if r.is_err() {
            self.closed = true;
        }
        // don't hold a large buffer on an idle connection
        if self.rbuf.len() > INIT_READ && self.rpos == self.rlen {
            self.rbuf = Vec::new();
            self.rpos = 0;
            self.rlen = 0;
        }
        r.map(|_| out.freeze())
    }

    async fn body_inner(
        &mut self,
        kind: BodyKind,
        mut keep: Option<&mut BytesMut>,
    ) -> Result<(), ErrorKind> {
        match kind {
            BodyKind::None => Ok(()),
            BodyKind::Length(mut n) => {
                while n > 0 {
                    let got = self
                        .take(n.min(usize::MAX as u64) as usize, keep.as_deref_mut())
                        .await?;
                    if got == 0 {
                        return Err(ErrorKind::ConnectionReset);
                    }
                    n -= got as u64;
                }
                Ok(())
            }
            BodyKind::UntilClose => loop {
                let got = self.take(usize::MAX, keep.as_deref_mut()).await?;
                if got == 0 {
                    self.closed = true;
                    return Ok(());
                }
            },
            BodyKind::Chunked => loop {
                let line = self.line().await?;
                let size_s = line.split(';').next().unwrap_or("").trim();
                let mut size = u64::from_str_radix(size_s, 16).map_err(|_| ErrorKind::Protocol)?;
                if size == 0 {
                    // trailers until an empty line
                    while !self.line().await?.is_empty() {}
                    return Ok(());
                }
                while size > 0 {
                    let got = self.take(size as usize, keep.as_deref_mut()).await?;
                    if got == 0 {
                        return Err(ErrorKind::ConnectionReset);
                    }
                    size -= got as u64;
                }
                if !self.line().await?.is_empty() {
                    return Err(ErrorKind::Protocol);
                }
            },
        }
    }
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}
