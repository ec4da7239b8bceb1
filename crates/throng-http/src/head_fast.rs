//! The common case of a response head read in one pass: `HTTP/1.1 200 OK`, then
//! `Name: value` lines of plain ASCII, all complete in the buffer. What it reads it feeds
//! to [`Framing`] as it goes, with no header array to fill and read back.
//!
//! It only ever answers for heads `httparse` (with its default configuration, as
//! [`crate::head::parse_head`] uses it) reads the same way, to the same length and
//! headers: a stricter subset of its grammar. Anything outside it — an incomplete head,
//! leading blank lines, bare LF line ends, obs-text, a space before a colon, more headers
//! than the fast slots, any byte httparse would refuse — is left to httparse, so every
//! verdict on an unusual or hostile head is the one it always was.
use crate::head::Framing;

/// Most headers read here; a head with more goes to httparse (as it has 100 slots at
/// first, and its own rules beyond them).
const MAX_HEADERS: usize = 100;

/// A table of the bytes a `const fn(u8) -> bool` accepts.
macro_rules! table {
    ($keep:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $keep(i as u8);
            i += 1;
        }
        t
    }};
}

/// RFC 9110 `tchar`: exactly httparse's header name bytes.
pub(crate) const fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// HTAB, SP and visible ASCII (httparse also takes obs-text, 0x80 and up, in values and
/// reasons: such a head is left to it).
const fn is_text(b: u8) -> bool {
    b == b'\t' || (b' ' <= b && b <= b'~')
}

/// Header name bytes.
static NAME: [bool; 256] = table!(is_name);

/// Header value and reason phrase bytes read here.
static TEXT: [bool; 256] = table!(is_text);

/// Reads a complete head in the common shape: its length and what its headers say, or
/// `None` to leave it to httparse. A line's text is checked eight bytes at a time, its CR
/// (or anything else) found from the flags of the word that holds it.
pub(crate) fn scan(buf: &[u8], want_headers: bool) -> Option<(usize, Framing)> {
    let version = match buf.get(..9)? {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', v @ (b'0' | b'1'), b' '] => v - b'0',
        _ => return None,
    };
    let code = buf.get(9..12)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    let mut i = match buf.get(12)? {
        // the reason phrase
        b' ' => crlf(buf, text_end(buf, 13)?)?,
        _ => crlf(buf, 12)?,
    };
    let mut framing = Framing::new(Some(version), status, want_headers);
    let mut count = 0;
    loop {
        if *buf.get(i)? == b'\r' {
            return Some((crlf(buf, i)?, framing));
        }
        let name_len = buf[i..].iter().position(|&b| !NAME[usize::from(b)])?;
        let colon = i + name_len;
        if name_len == 0 || buf[colon] != b':' {
            return None;
        }
        let end = text_end(buf, colon + 1)?;
        let next = crlf(buf, end)?;
        count += 1;
        if count > MAX_HEADERS {
            return None;
        }
        // httparse skips the whitespace after the colon and trims it from the end (only
        // SP and HTAB can be there: no other whitespace is text)
        framing.header(&buf[i..colon], trim_ows(&buf[colon + 1..end]));
        i = next;
    }
}

/// The index after the CRLF at `i`.
fn crlf(buf: &[u8], i: usize) -> Option<usize> {
    (buf.get(i..i + 2)? == b"\r\n").then_some(i + 2)
}

/// The index of the first byte from `i` on that is not HTAB, SP or visible ASCII (`None`
/// if there is none): eight bytes at a time, the first such byte of a word found from its
/// flags, and byte by byte only in the last seven bytes of the buffer.
fn text_end(buf: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(w) = buf.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(w) else {
            break;
        };
        let x = u64::from_le_bytes(bytes);
        // each byte below SP (HTAB, CR, controls) or above `~` (DEL, obs-text) sets its
        // flag. A borrow or carry can set the flag of a byte above one that is flagged,
        // never below it, so the lowest flag is the first such byte. (Adding
        // 0x7f - 0x7e = 1 to each byte sets the high bit of one above `~`.)
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let above = (x.wrapping_add(ONES) | x) & HIGH;
        let flags = below | above;
        if flags == 0 {
            i += 8;
            continue;
        }
        let at = i + (flags.trailing_zeros() / 8) as usize;
        // HTAB is text: go on after it
        if buf.get(at) != Some(&b'\t') {
            return Some(at);
        }
        i = at + 1;
    }
    let tail = buf.get(i..)?;
    Some(i + tail.iter().position(|&b| !TEXT[usize::from(b)])?)
}

/// `v` without the SP and HTAB at its ends (the optional whitespace around a field value;
/// no other whitespace is text).
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::{BodyKind, Parsed};

    /// What httparse alone makes of a head (the fast path off), as `(n, status, close,
    /// kind, headers)`, or how it fails.
    fn by_httparse(buf: &[u8]) -> String {
        let mut hs = [httparse::EMPTY_HEADER; 100];
        let mut resp = httparse::Response::new(&mut hs);
        match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let mut f = Framing::new(resp.version, resp.code.unwrap_or(0), true);
                for h in resp.headers.iter() {
                    f.header(h.name.as_bytes(), h.value);
                }
                show(f.finish(n))
            }
            other => format!("not complete: {other:?}"),
        }
    }

    fn show(r: Result<Parsed, crate::error::ErrorKind>) -> String {
        match r {
            Ok(Parsed::Complete(n, h, kind)) => {
                format!("{n} {} {} {kind:?} {:?}", h.status, h.close, h.headers)
            }
            other => format!("{other:?}"),
        }
    }

    fn fast(buf: &[u8]) -> Option<String> {
        scan(buf, true).map(|(n, f)| show(f.finish(n)))
    }

    const COMMON: [&str; 12] = [
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 06:57:31 GMT\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 302 Found\r\nLocation: /next\r\nSet-Cookie: a=1; Path=/\r\nSET-COOKIE: b=2\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 200\r\nX-Empty:\r\nX-Spaces: \t padded \t \r\nContent-Length: 5, 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ];

    #[test]
    fn common_heads_read_as_httparse_reads_them() {
        for head in COMMON {
            let b = head.as_bytes();
            assert_eq!(fast(b), Some(by_httparse(b)), "{head:?}");
            // and the whole of parse_head agrees with httparse
            assert_eq!(
                show(crate::head::parse_head(b, true)),
                by_httparse(b),
                "{head:?}"
            );
        }
        let (n, f) = scan(COMMON[0].as_bytes(), false).expect("common");
        match f.finish(n) {
            Ok(Parsed::Complete(n, h, BodyKind::Length(2))) => {
                assert_eq!(n, COMMON[0].len() - 2);
                assert!(!h.close);
                assert!(h.headers.is_empty(), "only the client's own are kept");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_cut_of_a_head_is_left_to_httparse() {
        for head in COMMON {
            let b = head.as_bytes();
            let end = b.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
            for cut in 0..end {
                assert_eq!(fast(&b[..cut]), None, "{head:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn unusual_heads_are_left_to_httparse() {
        for head in [
            "\r\nHTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n",
            "HTTP/1.1 200 OK\r\n Folded: 1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: caf\u{e9}\r\n\r\n",
            "HTTP/1.1 200 Caf\u{e9}\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n",
            "HTTP/1.1  200 OK\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\n\r\n",
            "HTTP/1.1 200OK\r\n\r\n",
            "HTTP/2.0 200 OK\r\n\r\n",
            "http/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r",
        ] {
            assert_eq!(fast(head.as_bytes()), None, "{head:?}");
        }
        let mut many = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: v\r\n"));
        }
        assert!(fast(format!("{many}\r\n").as_bytes()).is_some());
        assert_eq!(fast(format!("{many}X-Last: v\r\n\r\n").as_bytes()), None);
    }

    #[test]
    fn text_end_checks_words_as_bytes() {
        let bytewise = |s: &[u8], from: usize| (from..s.len()).find(|&i| !is_text(s[i]));
        // every byte at every place of lines of a few fills and lengths, from a few starts
        for len in 0..20 {
            for fill in [b'a', b' ', b'\t', b'~', b'!'] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut s = vec![fill; len];
                        s[at] = b;
                        for from in [0, 1, 3] {
                            assert_eq!(text_end(&s, from), bytewise(&s, from), "{s:?} {from}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn tables_are_httparse_s_bytes() {
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(NAME[usize::from(b)], token, "{b}");
            let text = b == b'\t' || (0x20..=0x7e).contains(&b);
            assert_eq!(TEXT[usize::from(b)], text, "{b}");
        }
    }

    #[test]
    fn any_byte_in_any_place_gets_httparse_s_verdict() {
        // every one-byte change of a common head: the fast path either agrees with httparse
        // or leaves the head to it
        let base = COMMON[9].as_bytes();
        for i in 0..base.len() {
            for b in [
                0u8, b'\t', b'\n', b'\r', b' ', b':', b'x', b'X', b'-', 0x7f, 0x80, 0xff,
            ] {
                let mut m = base.to_vec();
                m[i] = b;
                if let Some(got) = fast(&m) {
                    assert_eq!(got, by_httparse(&m), "byte {i} = {b}");
                }
            }
        }
    }

    #[test]
    fn text_ends_at_the_first_byte_that_is_not_text() {
        // every byte value at every place of a line, read from several starts, agrees with
        // a byte-by-byte reading (the words' flags cannot point past or before it)
        let base = b"nginx/1.22.1 Thu, 26 Nov 2026 06:57:31 GMT x\ty";
        for at in 0..base.len() {
            for b in 0..=255u8 {
                let mut line = base.to_vec();
                line[at] = b;
                for start in 0..9 {
                    let slow = line[start..]
                        .iter()
                        .position(|&c| !TEXT[usize::from(c)])
                        .map(|p| start + p);
                    assert_eq!(text_end(&line, start), slow, "byte {b:#x} at {at}");
                }
            }
        }
    }

    #[test]
    fn ows_is_trimmed_from_both_ends() {
        assert_eq!(trim_ows(b" \t a b\t \t"), b"a b");
        assert_eq!(trim_ows(b"x"), b"x");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b""), b"");
    }
}
