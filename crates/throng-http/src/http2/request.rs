//! A request's head as an HPACK header block: the pseudo-headers, throng's defaults and
//! the request's own headers, which are checked once and kept while a VU sends the same
//! ones again (a plan's, nearly always). Fields that repeat go into the connection's table
//! ([`EncTable`]) once and by index after; the path, cookies, lengths and secrets do not.
use super::hpack::{self, index, EncTable};
use crate::error::ErrorKind;
use http::header::{
    HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, HOST, TE, TRANSFER_ENCODING, UPGRADE,
    USER_AGENT,
};
use http::Method;

/// A request's own headers, encoded, kept from the last request.
#[derive(Debug, Default)]
pub(crate) struct OwnHeaders {
    /// The headers `block` was made from.
    source: Vec<(String, String)>,
    /// Their fields, without the connection-specific ones and a `TE` other than `trailers`
    /// (not allowed in HTTP/2, RFC 9113 §8.2.2), names in lower case.
    fields: Vec<Field>,
    /// They have their own `User-Agent` (throng's is not sent) and `Content-Length`.
    user_agent: bool,
    content_length: bool,
}

impl OwnHeaders {
    /// Makes the block for `headers` unless it was made for them last time; the failure if
    /// a name or value is not valid in a header (nothing is kept then).
    pub(crate) fn of(&mut self, headers: &[(String, String)]) -> Result<&OwnHeaders, ErrorKind> {
        if self.source != headers {
            self.fields.clear();
            self.user_agent = false;
            self.content_length = false;
            for (k, v) in headers {
                // bytes, not text: a value HTTP/1.1 sends (UTF-8 too) goes over HTTP/2 as well
                let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_bytes(v.as_bytes()),
                ) else {
                    self.fields.clear();
                    self.source.clear();
                    return Err(ErrorKind::InvalidHeader);
                };
                if connection_specific(&name)
                    || (name == TE && !value.as_bytes().eq_ignore_ascii_case(b"trailers"))
                {
                    continue;
                }
                self.user_agent |= name == USER_AGENT;
                self.content_length |= name == CONTENT_LENGTH;
                // secrets are marked never to be indexed by anything on the way
                let secret = matches!(
                    name.as_str(),
                    "authorization" | "proxy-authorization" | "cookie"
                );
                let name = name.as_str().as_bytes();
                self.fields.push(Field {
                    name: name.to_vec(),
                    value: value.as_bytes().to_vec(),
                    name_idx: hpack::static_name(name),
                    secret,
                });
            }
            // the strings' storage is kept from one set of headers to the next
            self.source.resize_with(headers.len(), Default::default);
            for ((k, v), (sk, sv)) in headers.iter().zip(self.source.iter_mut()) {
                sk.clone_from(k);
                sv.clone_from(v);
            }
        }
        Ok(self)
    }
}

/// One of a request's own header fields, as it is encoded.
#[derive(Debug)]
struct Field {
    name: Vec<u8>,
    value: Vec<u8>,
    /// The name's index in the static table.
    name_idx: Option<usize>,
    /// Never indexed (and not put in the table): a secret.
    secret: bool,
}

/// Headers HTTP/2 forbids (RFC 9113 §8.2.2): the connection's own, not a message's.
fn connection_specific(name: &HeaderName) -> bool {
    name == HOST
        || name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// Everything a request's header block is made of.
pub(crate) struct Head<'a> {
    pub method: &'a Method,
    pub https: bool,
    /// `host` or `host:port`.
    pub authority: &'a str,
    pub path_and_query: &'a str,
    pub own: &'a OwnHeaders,
    /// The jar's cookies for the request (`None` when the request has its own).
    pub cookie: Option<&'a str>,
    /// throng's `User-Agent`, sent unless the request has its own.
    pub user_agent: &'a [u8],
    pub body_len: usize,
}

impl Head<'_> {
    /// Writes the header block, with the connection's table.
    pub(crate) fn encode(&self, out: &mut Vec<u8>, table: &mut EncTable) {
        match *self.method {
            Method::GET => hpack::put_indexed(out, index::METHOD_GET),
            Method::POST => hpack::put_indexed(out, index::METHOD_POST),
            ref m => table.field(out, Some(index::METHOD), b":method", m.as_str().as_bytes()),
        }
        hpack::put_indexed(
            out,
            if self.https {
                index::SCHEME_HTTPS
            } else {
                index::SCHEME_HTTP
            },
        );
        table.field(
            out,
            Some(index::AUTHORITY),
            b":authority",
            self.authority.as_bytes(),
        );
        match self.path_and_query {
            "/" => hpack::put_indexed(out, index::PATH_ROOT),
            p => hpack::put_literal_at(out, index::PATH, p.as_bytes()),
        }
        if !self.own.user_agent {
            table.field(out, Some(index::USER_AGENT), b"user-agent", self.user_agent);
        }
        if let Some(c) = self.cookie {
            // the jar's cookies are checked when they are stored; one that is not a header
            // value is left out, as before
            if HeaderValue::from_str(c).is_ok() {
                hpack::put_literal(out, b"cookie", c.as_bytes(), true);
            }
        }
        for f in &self.own.fields {
            if f.secret {
                hpack::put_literal(out, &f.name, &f.value, true);
            } else {
                table.field(out, f.name_idx, &f.name, &f.value);
            }
        }
        if self.body_len > 0 && !self.own.content_length {
            let mut digits = itoa_buf(self.body_len);
            hpack::put_literal_at(out, index::CONTENT_LENGTH, digits.as_bytes_mut());
        }
    }
}

/// A number's decimal digits, without allocating.
struct Digits {
    buf: [u8; 20],
    at: usize,
}

impl Digits {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.at..]
    }
}

fn itoa_buf(mut n: usize) -> Digits {
    let mut d = Digits {
        buf: [0; 20],
        at: 20,
    };
    loop {
        d.at -= 1;
        d.buf[d.at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http2::hpack::Decoder;

    fn decode(block: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        Decoder::new(4096)
            .decode(block, |n, v| {
                out.push((
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ))
            })
            .expect("decodes");
        out
    }

    fn h(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn a_head_has_its_pseudo_headers_first_and_its_own_headers_after_the_defaults() {
        let mut own = OwnHeaders::default();
        let headers = vec![
            h("X-Trace", "1"),
            h("Connection", "keep-alive"),
            h("TE", "gzip"),
            h("Authorization", "Bearer s3cret"),
        ];
        let own = own.of(&headers).expect("valid");
        let head = Head {
            method: &Method::PUT,
            https: true,
            authority: "example.com:8443",
            path_and_query: "/a?b=1",
            own,
            cookie: Some("a=1; b=2"),
            user_agent: b"throng/1",
            body_len: 1234,
        };
        let mut out = Vec::new();
        head.encode(&mut out, &mut EncTable::default());
        assert_eq!(
            decode(&out),
            vec![
                h(":method", "PUT"),
                h(":scheme", "https"),
                h(":authority", "example.com:8443"),
                h(":path", "/a?b=1"),
                h("user-agent", "throng/1"),
                h("cookie", "a=1; b=2"),
                h("x-trace", "1"),
                h("authorization", "Bearer s3cret"),
                h("content-length", "1234"),
            ]
        );
    }

    #[test]
    fn a_requests_own_user_agent_and_length_replace_the_defaults() {
        let mut own = OwnHeaders::default();
        let headers = vec![h("user-agent", "mine"), h("content-length", "2")];
        let head = Head {
            method: &Method::GET,
            https: false,
            authority: "h",
            path_and_query: "/",
            own: own.of(&headers).expect("valid"),
            cookie: None,
            user_agent: b"throng",
            body_len: 2,
        };
        let mut out = Vec::new();
        head.encode(&mut out, &mut EncTable::default());
        let f = decode(&out);
        assert_eq!(
            f[..3],
            [
                h(":method", "GET"),
                h(":scheme", "http"),
                h(":authority", "h")
            ]
        );
        assert_eq!(f[3], h(":path", "/"));
        assert_eq!(f[4..], [h("user-agent", "mine"), h("content-length", "2")]);
    }

    #[test]
    fn a_header_that_breaks_the_framing_is_refused_and_nothing_is_kept() {
        let mut own = OwnHeaders::default();
        assert!(own.of(&[h("x-a", "1")]).is_ok());
        assert_eq!(
            own.of(&[h("x-a", "1\r\nx-b: 2")]).err(),
            Some(ErrorKind::InvalidHeader)
        );
        assert_eq!(
            own.of(&[h("bad name", "1")]).err(),
            Some(ErrorKind::InvalidHeader)
        );
        // the next request with no headers has none
        assert!(own.of(&[]).expect("valid").fields.is_empty());
    }

    #[test]
    fn digits() {
        for n in [0usize, 7, 10, 1234, usize::MAX] {
            assert_eq!(itoa_buf(n).as_bytes_mut(), n.to_string().as_bytes());
        }
    }
}
