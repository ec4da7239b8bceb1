//! A minimal blocking HTTP/1.1 GET over a TCP stream, for monitors: one request per
//! connection (`Connection: close`), bounded time and size, `http://` only. Monitors run on
//! their own threads, so a blocking client keeps them off the load's runtime.
use crate::MonitorError;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest body a monitor reads (64 MiB).
const MAX_BODY: usize = 64 << 20;

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (chunked encoding undone).
    pub body: Vec<u8>,
}

/// GETs `url` (`http://host[:port]/path`) within `timeout`.
pub fn get(url: &str, timeout: Duration) -> Result<Response, MonitorError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| MonitorError(format!("{url}: only http:// URLs can be monitored")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let hostport = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| MonitorError(format!("{url}: cannot resolve {authority}: {e}")))?
        .next()
        .ok_or_else(|| MonitorError(format!("{url}: {authority} has no address")))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| MonitorError(format!("{url}: cannot connect: {e}")))?;
    let io = |e: std::io::Error| MonitorError(format!("{url}: {e}"));
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: throng-monitor\r\nAccept: text/plain, */*\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut buf = Vec::new();
    s.take(MAX_BODY as u64 + 65536)
        .read_to_end(&mut buf)
        .map_err(io)?;
    parse_response(&buf).map_err(|e| MonitorError(format!("{url}: {e}")))
}

fn parse_response(buf: &[u8]) -> Result<Response, String> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the response has no complete head")?;
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "the response head is not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut chunked = false;
    let mut len = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            } else if k == "content-length" {
                len = v.parse::<usize>().ok();
            }
        }
    }
    let raw = &buf[end + 4..];
    let body = if chunked {
        dechunk(raw)?
    } else if let Some(n) = len {
        raw.get(..n)
            .ok_or("the body is shorter than its Content-Length")?
            .to_vec()
    } else {
        raw.to_vec()
    };
    Ok(Response { status, body })
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut")?;
        let size_s = std::str::from_utf8(&raw[..nl]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(size_s.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_s:?}"))?;
        raw = &raw[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = raw.get(..size).ok_or("a chunk is cut")?;
        out.extend_from_slice(chunk);
        raw = raw.get(size + 2..).ok_or("a chunk is cut")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").expect("ok");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc"[..]));
        let r = parse_response(
            b"HTTP/1.1 503 No\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .expect("ok");
        assert_eq!((r.status, r.body.as_slice()), (503, &b"abcde"[..]));
        assert!(parse_response(b"garbage").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn unreachable_is_an_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let e = get(
            &format!("http://127.0.0.1:{port}/metrics"),
            Duration::from_secs(1),
        )
        .expect_err("refused");
        assert!(e.0.contains("cannot connect"), "{e}");
        assert!(get("https://x/", Duration::from_secs(1)).is_err());
    }
}
