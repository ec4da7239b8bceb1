//! Writing an HTTP/1.1 request head (and body) into a connection's reused buffer: byte
//! pushes and a small decimal formatter, no `core::fmt` on the per-request path.
use crate::error::ErrorKind;

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

/// A header name and value that can be written without changing the message's framing.
fn header_ok(k: &str, v: &str) -> bool {
    !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && !v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

/// Whether every header can be written (see [`header_ok`]): a request with one that cannot
/// opens no connection, as Go's transport checks headers before it dials.
pub(crate) fn headers_ok(headers: &[(String, String)]) -> bool {
    headers.iter().all(|(k, v)| header_ok(k, v))
}

/// Which of the headers throng writes itself the request already carries.
#[derive(Default)]
struct Given {
    host: bool,
    user_agent: bool,
    connection: bool,
}

/// Renders the request into `w` (cleared first): request line, `Host`, `User-Agent`,
/// `Cookie`, `Connection: close` (each unless the request sets its own), the request's
/// headers in order except `Content-Length` and `Transfer-Encoding` (framing is ours: a
/// user-set length or coding could desynchronise the stream), `Content-Length` when there
/// is a body or the method expects one, the blank line and the body.
///
/// `InvalidHeader` when a header's name or value would break the framing (nothing of the
/// request is sent then).
pub(crate) fn render(w: &mut Vec<u8>, o: &Out<'_>) -> Result<(), ErrorKind> {
    w.clear();
    let mut given = Given::default();
    for (k, v) in o.headers {
        if !header_ok(k, v) {
            return Err(ErrorKind::InvalidHeader);
        }
        let k = k.as_bytes();
        given.host |= k.eq_ignore_ascii_case(b"host");
        given.user_agent |= k.eq_ignore_ascii_case(b"user-agent");
        given.connection |= k.eq_ignore_ascii_case(b"connection");
    }
    push(w, &[o.method, " ", o.target, " HTTP/1.1\r\n"]);
    if !given.host {
        push(w, &["Host: ", o.host, "\r\n"]);
    }
    if !given.user_agent {
        push(w, &["User-Agent: ", o.user_agent, "\r\n"]);
    }
    if let Some(c) = o.cookie {
        push(w, &["Cookie: ", c, "\r\n"]);
    }
    if o.close && !given.connection {
        w.extend_from_slice(b"Connection: close\r\n");
    }
    for (k, v) in o.headers {
        let name = k.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            continue;
        }
        push(w, &[k, ": ", v, "\r\n"]);
    }
    let needs_length = !o.body.is_empty() || matches!(o.method, "POST" | "PUT" | "PATCH");
    if needs_length {
        w.extend_from_slice(b"Content-Length: ");
        push_decimal(w, o.body.len() as u64);
        w.extend_from_slice(b"\r\n");
    }
    w.extend_from_slice(b"\r\n");
    w.extend_from_slice(o.body);
    Ok(())
}

/// Appends the parts in order.
fn push(w: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        w.extend_from_slice(p.as_bytes());
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(w: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    w.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out<'a>(method: &'a str, target: &'a str, headers: &'a [(String, String)]) -> Out<'a> {
        Out {
            method,
            target,
            host: "h.example:8080",
            user_agent: "throng/1",
            cookie: None,
            close: false,
            headers,
            body: b"",
        }
    }

    fn text(o: &Out<'_>) -> String {
        let mut w = b"left over".to_vec();
        render(&mut w, o).expect("renders");
        String::from_utf8(w).expect("utf-8")
    }

    fn hs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The writer this module replaced (`write!` per line), as the reference for bytes.
    fn by_fmt(o: &Out<'_>) -> Result<Vec<u8>, ErrorKind> {
        use std::io::Write as _;
        let mut w = Vec::new();
        let has = |n: &str| o.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        write!(w, "{} {} HTTP/1.1\r\n", o.method, o.target).expect("vec");
        if !has("host") {
            write!(w, "Host: {}\r\n", o.host).expect("vec");
        }
        if !has("user-agent") {
            write!(w, "User-Agent: {}\r\n", o.user_agent).expect("vec");
        }
        if let Some(c) = o.cookie {
            write!(w, "Cookie: {c}\r\n").expect("vec");
        }
        if o.close && !has("connection") {
            w.extend_from_slice(b"Connection: close\r\n");
        }
        for (k, v) in o.headers {
            if !header_ok(k, v) {
                return Err(ErrorKind::InvalidHeader);
            }
            if k.eq_ignore_ascii_case("content-length")
                || k.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            write!(w, "{k}: {v}\r\n").expect("vec");
        }
        if !o.body.is_empty() || matches!(o.method, "POST" | "PUT" | "PATCH") {
            write!(w, "Content-Length: {}\r\n", o.body.len()).expect("vec");
        }
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(o.body);
        Ok(w)
    }

    #[test]
    fn the_same_bytes_as_the_formatting_writer() {
        let sets = [
            hs(&[]),
            hs(&[("Accept", "*/*"), ("X-Trace", "a b\tc")]),
            hs(&[("host", "v"), ("Content-Length", "3")]),
            hs(&[("Connection", "close"), ("User-Agent", "k6")]),
            hs(&[("Cookie", "z=1"), ("transfer-encoding", "gzip")]),
            hs(&[("X-Bad", "a\nb")]),
        ];
        let big = vec![b'x'; 70_000];
        for method in [
            "GET", "POST", "PUT", "PATCH", "HEAD", "DELETE", "OPTIONS", "PURGE",
        ] {
            for target in ["/", "/a?b=c", "*"] {
                for headers in &sets {
                    for body in [&b""[..], b"{}", &big] {
                        for (cookie, close) in [(None, false), (Some("a=1"), true)] {
                            let o = Out {
                                cookie,
                                close,
                                body,
                                ..out(method, target, headers)
                            };
                            let mut w = Vec::new();
                            let got = render(&mut w, &o).map(|()| w);
                            assert_eq!(got, by_fmt(&o), "{method} {target} {headers:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn decimals() {
        for n in [0u64, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut w = Vec::new();
            push_decimal(&mut w, n);
            assert_eq!(w, n.to_string().as_bytes());
        }
    }

    #[test]
    fn a_get_with_a_query() {
        assert_eq!(
            text(&out("GET", "/a/b?x=1&y=%20z", &[])),
            "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: h.example:8080\r\nUser-Agent: throng/1\r\n\r\n"
        );
    }

    #[test]
    fn methods_that_expect_a_body_say_its_length_even_when_empty() {
        for m in ["POST", "PUT", "PATCH"] {
            assert_eq!(
                text(&out(m, "/", &[])),
                format!("{m} / HTTP/1.1\r\nHost: h.example:8080\r\nUser-Agent: throng/1\r\nContent-Length: 0\r\n\r\n")
            );
        }
        for m in ["GET", "HEAD", "DELETE", "OPTIONS"] {
            assert!(!text(&out(m, "/", &[])).contains("Content-Length"), "{m}");
        }
        let mut o = out("DELETE", "/x", &[]);
        o.body = b"{\"a\":1}";
        assert_eq!(
            text(&o),
            "DELETE /x HTTP/1.1\r\nHost: h.example:8080\r\nUser-Agent: throng/1\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        );
    }

    #[test]
    fn headers_in_order_with_framing_left_to_throng() {
        let h = hs(&[
            ("Content-Type", "application/json"),
            ("content-length", "999"),
            ("Transfer-Encoding", "chunked"),
            ("X-Empty", ""),
        ]);
        let mut o = out("POST", "/p", &h);
        o.body = b"[1,2]";
        o.cookie = Some("a=1; b=2");
        o.close = true;
        assert_eq!(
            text(&o),
            "POST /p HTTP/1.1\r\nHost: h.example:8080\r\nUser-Agent: throng/1\r\n\
             Cookie: a=1; b=2\r\nConnection: close\r\nContent-Type: application/json\r\n\
             X-Empty: \r\nContent-Length: 5\r\n\r\n[1,2]"
        );
    }

    #[test]
    fn the_requests_own_host_agent_and_connection_replace_throngs() {
        let h = hs(&[
            ("HOST", "other"),
            ("user-agent", "me"),
            ("Connection", "keep-alive"),
        ]);
        let mut o = out("GET", "/", &h);
        o.close = true;
        assert_eq!(
            text(&o),
            "GET / HTTP/1.1\r\nHOST: other\r\nuser-agent: me\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn ipv6_hosts_are_written_as_given() {
        let mut o = out("GET", "/", &[]);
        o.host = "[::1]:8080";
        assert_eq!(
            text(&o),
            "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: throng/1\r\n\r\n"
        );
    }

    #[test]
    fn framing_breakers_are_refused() {
        for bad in [
            hs(&[("X-A", "b\r\nX-Evil: 1")]),
            hs(&[("X A", "b")]),
            hs(&[("", "b")]),
            hs(&[("X:A", "b")]),
            hs(&[("X-Ok", "1"), ("X-A", "nul\0")]),
        ] {
            let mut w = Vec::new();
            assert_eq!(
                render(&mut w, &out("GET", "/", &bad)),
                Err(ErrorKind::InvalidHeader)
            );
        }
        assert!(header_ok("X-A", "b c"));
    }
}
