//! Parsing an HTTP/1.x response head and deciding how its body is delimited (RFC 9112 §6.3).
//! Pure functions over bytes, so the rules are unit-tested and fuzzed without a socket.
use crate::error::ErrorKind;
use crate::h1::MAX_HEAD;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::mem::MaybeUninit;

/// Header slots tried first; a head with more is parsed again with room for all of them.
const FAST_HEADERS: usize = 100;

/// What the head of a response said.
#[derive(Debug)]
pub(crate) struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    /// The connection must not be reused after this response.
    pub close: bool,
}

impl Head {
    /// A 1xx interim response (not 101, which ends HTTP/1.1 on the connection).
    pub fn interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
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

/// The result of parsing what is buffered.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// More bytes are needed.
    Partial,
    /// A whole head of `n` bytes.
    Complete(usize, Head, BodyKind),
}

fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// A `Content-Length` value: `1*DIGIT`, or a list of identical such values (RFC 9110
/// §8.6). Anything else — a sign, spaces inside, differing values — is `None`.
fn content_length(v: &[u8]) -> Option<u64> {
    // at most 19 digits: no overflow
    let number = |p: &[u8]| p.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    if (1..=19).contains(&v.len()) && v.iter().all(u8::is_ascii_digit) {
        // the usual value: one number, nothing around it
        return Some(number(v));
    }
    let mut out: Option<u64> = None;
    for part in v.split(|&b| b == b',') {
        let p = part.trim_ascii();
        if p.is_empty() || p.len() > 19 || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = number(p);
        match out {
            Some(prev) if prev != n => return None,
            _ => out = Some(n),
        }
    }
    out
}

/// Parses a response head at the start of `buf`. `want_headers`: keep every header
/// (otherwise only `Set-Cookie` and `Location`, which the client itself needs).
///
/// A well-formed head in the common shape is read by [`crate::head_fast`] in one pass;
/// anything else (incomplete, unusual or hostile) by `httparse`, so every verdict is
/// httparse's.
pub(crate) fn parse_head(buf: &[u8], want_headers: bool) -> Result<Parsed, ErrorKind> {
    if buf.is_empty() {
        // what httparse says of no bytes, without setting up a parse
        return Ok(Parsed::Partial);
    }
    if let Some((n, framing)) = crate::head_fast::scan(buf, want_headers) {
        return framing.finish(n);
    }
    // uninitialised slots: httparse writes the ones it fills (no 3 KiB of zeroes per parse)
    let mut hs = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; FAST_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    // the default configuration, as `Response::parse` uses
    let config = httparse::ParserConfig::default();
    match config.parse_response_with_uninit_headers(&mut resp, buf, &mut hs) {
        Ok(httparse::Status::Complete(n)) => decide(n, &resp, want_headers),
        Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => {
            // a long head: room for as many headers as it has lines, within MAX_HEAD
            let end = buf.len().min(MAX_HEAD);
            let lines = buf[..end].iter().filter(|&&b| b == b'\n').count() + 1;
            let mut hs = vec![httparse::EMPTY_HEADER; lines];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(&buf[..end]) {
                Ok(httparse::Status::Complete(n)) => decide(n, &resp, want_headers),
                Ok(httparse::Status::Partial) if end < buf.len() => Err(ErrorKind::Protocol),
                Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
                Err(_) => Err(ErrorKind::Protocol),
            }
        }
        Err(_) => Err(ErrorKind::Protocol),
    }
}

fn decide(
    n: usize,
    resp: &httparse::Response<'_, '_>,
    want_headers: bool,
) -> Result<Parsed, ErrorKind> {
    let mut f = Framing::new(resp.version, resp.code.unwrap_or(0), want_headers);
    for h in resp.headers.iter() {
        f.header(h.name.as_bytes(), h.value);
    }
    f.finish(n)
}

/// Whether a header name (a token: bytes httparse accepts in a name) is `lower`, a
/// lower-case name of letters and `-`, ignoring case. Folding with `| 0x20` is exact here:
/// the only bytes it maps onto a lower-case letter are that letter and its capital, and
/// onto `-` only `-` and CR, which is not a token byte.
/// Eight bytes at a time (the names asked about are 8 to 17 bytes long), the last eight
/// read where they end.
fn name_is(name: &[u8], lower: &[u8]) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let n = name.len();
    if n != lower.len() {
        return false;
    }
    if n < 8 {
        return name.iter().zip(lower).all(|(&a, &b)| a | 0x20 == b);
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let same = |at: usize| match (word(name, at), word(lower, at)) {
        (Some(a), Some(b)) => a | FOLD == b,
        _ => false,
    };
    let mut at = 0;
    while at + 8 < n {
        if !same(at) {
            return false;
        }
        at += 8;
    }
    same(n - 8)
}

/// What a response head's headers say about its framing, header by header: the body's
/// length, whether the connection may be reused, and the headers kept.
pub(crate) struct Framing {
    status: u16,
    want_headers: bool,
    headers: HeaderMap,
    length: Option<u64>,
    /// Some(chunked is the last coding)
    te: Option<bool>,
    close: bool,
    /// A header made the head invalid (a bad or conflicting `Content-Length`).
    bad: bool,
}

impl Framing {
    /// Before the headers of a response of HTTP/1.`version` with `status`.
    pub fn new(version: Option<u8>, status: u16, want_headers: bool) -> Framing {
        Framing {
            status,
            want_headers,
            headers: HeaderMap::new(),
            length: None,
            te: None,
            close: version == Some(0),
            bad: false,
        }
    }

    /// One header, in order.
    pub fn header(&mut self, name: &[u8], v: &[u8]) {
        if self.bad {
            return;
        }
        // the name's length first: most headers are none of these
        let needed = match name.len() {
            14 if name_is(name, b"content-length") => {
                match content_length(v) {
                    Some(n) if self.length.is_none_or(|prev| prev == n) => self.length = Some(n),
                    _ => self.bad = true,
                }
                false
            }
            17 if name_is(name, b"transfer-encoding") => {
                let last = v
                    .split(|&b| b == b',')
                    .map(<[u8]>::trim_ascii)
                    .rfind(|t| !t.is_empty())
                    .unwrap_or(b"");
                // several Transfer-Encoding lines are one list; the last coding decides
                self.te = Some(last.eq_ignore_ascii_case(b"chunked"));
                false
            }
            10 if name_is(name, b"connection") => {
                // the usual values whole first, then as a list
                if v.eq_ignore_ascii_case(b"keep-alive") {
                    self.close = false;
                } else if has_token(v, b"close") {
                    self.close = true;
                } else if has_token(v, b"keep-alive") {
                    self.close = false;
                }
                false
            }
            // the client's own: cookies for the jar, redirects
            10 => name_is(name, b"set-cookie"),
            8 => name_is(name, b"location"),
            _ => false,
        };
        if self.want_headers || needed {
            if let (Ok(k), Ok(val)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(v)) {
                self.headers.append(k, val);
            }
        }
    }

    /// The verdict on a head of `n` bytes once every header is seen.
    pub fn finish(self, n: usize) -> Result<Parsed, ErrorKind> {
        if self.bad {
            return Err(ErrorKind::Protocol);
        }
        let (status, length, mut close) = (self.status, self.length, self.close);
        let kind = if status == 204 || status == 304 || (100..200).contains(&status) {
            BodyKind::None
        } else if let Some(chunked) = self.te {
            // Transfer-Encoding overrides Content-Length; such a message may be a smuggling
            // attempt, so the connection is not reused after it
            if length.is_some() {
                close = true;
            }
            if chunked {
                BodyKind::Chunked
            } else {
                BodyKind::UntilClose
            }
        } else if let Some(n) = length {
            BodyKind::Length(n)
        } else {
            BodyKind::UntilClose
        };
        if status == 101 || kind == BodyKind::UntilClose {
            close = true;
        }
        Ok(Parsed::Complete(
            n,
            Head {
                status,
                headers: self.headers,
                close,
            },
            kind,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(head: &str) -> Result<(BodyKind, bool), ErrorKind> {
        match parse_head(head.as_bytes(), true)? {
            Parsed::Complete(_, h, k) => Ok((k, h.close)),
            Parsed::Partial => panic!("partial: {head}"),
        }
    }

    #[test]
    fn content_length_is_strict() {
        assert_eq!(content_length(b"5"), Some(5));
        assert_eq!(content_length(b" 5 "), Some(5));
        assert_eq!(content_length(b"5, 5"), Some(5));
        assert_eq!(content_length(b"5, 6"), None);
        assert_eq!(content_length(b"+5"), None);
        assert_eq!(content_length(b"-1"), None);
        assert_eq!(content_length(b"5 5"), None);
        assert_eq!(content_length(b""), None);
        assert_eq!(content_length(b"99999999999999999999"), None);
    }

    #[test]
    fn body_length_follows_rfc_9112() {
        let ok = "HTTP/1.1 200 OK\r\n";
        assert_eq!(
            kind(&format!("{ok}Content-Length: 5\r\n\r\n")),
            Ok((BodyKind::Length(5), false))
        );
        assert_eq!(
            kind(&format!(
                "{ok}Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
            )),
            Ok((BodyKind::Length(5), false))
        );
        assert_eq!(
            kind(&format!(
                "{ok}Content-Length: 5\r\nContent-Length: 6\r\n\r\n"
            )),
            Err(ErrorKind::Protocol)
        );
        assert_eq!(
            kind(&format!("{ok}Content-Length: +5\r\n\r\n")),
            Err(ErrorKind::Protocol)
        );
        assert_eq!(
            kind(&format!("{ok}Transfer-Encoding: gzip, chunked\r\n\r\n")),
            Ok((BodyKind::Chunked, false))
        );
        assert_eq!(
            kind(&format!("{ok}Transfer-Encoding: chunked, gzip\r\n\r\n")),
            Ok((BodyKind::UntilClose, true))
        );
        assert_eq!(
            kind(&format!(
                "{ok}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            )),
            Ok((BodyKind::Chunked, true))
        );
        assert_eq!(kind(&format!("{ok}\r\n")), Ok((BodyKind::UntilClose, true)));
        assert_eq!(
            kind("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
            Ok((BodyKind::None, false))
        );
        assert_eq!(
            kind("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"),
            Ok((BodyKind::Length(1), true))
        );
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\n"),
            Ok((BodyKind::Length(1), true))
        );
    }

    #[test]
    fn many_headers_are_allowed_up_to_the_head_limit() {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..500 {
            head.push_str(&format!("X-H{i}: v\r\n"));
        }
        head.push_str("Content-Length: 0\r\n\r\n");
        match parse_head(head.as_bytes(), true) {
            Ok(Parsed::Complete(n, h, BodyKind::Length(0))) => {
                assert_eq!(n, head.len());
                assert_eq!(h.headers.len(), 501);
            }
            other => panic!("{other:?}"),
        }
        // and a partial long head asks for more
        let cut = &head.as_bytes()[..head.len() - 10];
        assert!(matches!(parse_head(cut, true), Ok(Parsed::Partial)));
    }

    #[test]
    fn a_name_is_matched_in_any_case_and_only_itself() {
        for lower in [
            &b"content-length"[..],
            b"transfer-encoding",
            b"connection",
            b"set-cookie",
            b"location",
            b"te",
        ] {
            let upper = lower.to_ascii_uppercase();
            assert!(name_is(lower, lower));
            assert!(name_is(&upper, lower));
            // one byte changed, anywhere, to any token byte but its own capital
            for at in 0..lower.len() {
                for b in (0..=255u8).filter(|b| crate::head_fast::is_name(*b)) {
                    let mut name = lower.to_vec();
                    name[at] = b;
                    let same = b == lower[at] || b == lower[at].to_ascii_uppercase();
                    assert_eq!(
                        name_is(&name, lower),
                        same,
                        "{:?}",
                        String::from_utf8_lossy(&name)
                    );
                }
            }
            assert!(!name_is(&lower[1..], lower));
            assert!(!name_is(&[lower, b"x"].concat(), lower));
        }
    }
}
