//! Where a request goes, read from its URL: [`Target`], and the one-entry cache
//! ([`LastUrl`]) that lets a VU sending the same URL again skip reading it.
use crate::conn::Origin;
use http::Uri;
use std::borrow::Cow;
use std::ops::Range;

/// Where a request goes, read from its URL. A plain URL (lower-case `http://` or `https://`,
/// a host name, IPv4 or bracketed IPv6 address, an optional port, a path and query of URL
/// characters) is read in place without allocating; anything else is parsed by `http::Uri`.
pub(crate) struct Target<'a> {
    pub https: bool,
    pub host: Cow<'a, str>,
    pub port: u16,
    /// The request target: `/` when the URL has no path.
    pub path_and_query: Cow<'a, str>,
}

/// Bytes allowed unescaped in a path and query (RFC 3986 `pchar`, `/` and `?`, and `%`).
fn url_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')'
        | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?' | b'%')
}

/// Where the parts of a plain URL are in it (see [`Target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plain {
    https: bool,
    host: Range<usize>,
    port: u16,
    /// The path and query; empty when the URL has none (the target is then `/`).
    path_and_query: Range<usize>,
}

impl Plain {
    /// Reads a plain URL; `None` for anything else.
    fn read(url: &str) -> Option<Plain> {
        let (https, start) = if url.starts_with("http://") {
            (false, 7)
        } else if url.starts_with("https://") {
            (true, 8)
        } else {
            return None;
        };
        let b = url.as_bytes();
        let end = b[start..]
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .map_or(b.len(), |i| start + i);
        let authority = &b[start..end];
        let (host, port) = if authority.first() == Some(&b'[') {
            let close = authority.iter().position(|&c| c == b']')?;
            let host = &authority[1..close];
            let ok = host
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
            if !ok || !host.contains(&b':') {
                return None;
            }
            (start + 1..start + close, &authority[close + 1..])
        } else {
            let i = authority
                .iter()
                .position(|&c| c == b':')
                .unwrap_or(authority.len());
            let ok = authority[..i]
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_');
            if !ok {
                return None;
            }
            (start..start + i, &authority[i..])
        };
        if host.is_empty() {
            return None;
        }
        let port = match port {
            [] if https => 443,
            [] => 80,
            [b':', digits @ ..] if (1..=5).contains(&digits.len()) => {
                let mut n = 0u32;
                for &d in digits {
                    if !d.is_ascii_digit() {
                        return None;
                    }
                    n = n * 10 + u32::from(d - b'0');
                }
                u16::try_from(n).ok()?
            }
            _ => return None,
        };
        let pq = &b[end..];
        if !(pq.is_empty() || pq[0] == b'/') || !pq.iter().all(|&c| url_char(c)) {
            return None;
        }
        Some(Plain {
            https,
            host,
            port,
            path_and_query: end..b.len(),
        })
    }

    /// The target these parts describe in `url` (the URL they were read from, or an equal one).
    fn target<'a>(&self, url: &'a str) -> Option<Target<'a>> {
        let path_and_query = if self.path_and_query.is_empty() {
            "/"
        } else {
            url.get(self.path_and_query.clone())?
        };
        Some(Target {
            https: self.https,
            host: Cow::Borrowed(url.get(self.host.clone())?),
            port: self.port,
            path_and_query: Cow::Borrowed(path_and_query),
        })
    }
}

impl<'a> Target<'a> {
    /// Reads `url`; `None` when it is not an `http` or `https` URL with a host.
    pub fn parse(url: &'a str) -> Option<Target<'a>> {
        Target::plain(url).or_else(|| Target::general(url))
    }

    /// The allocation-free reading of a plain URL; `None` for anything else.
    fn plain(url: &'a str) -> Option<Target<'a>> {
        Plain::read(url)?.target(url)
    }

    /// Any other URL `http::Uri` accepts.
    fn general(url: &str) -> Option<Target<'a>> {
        let uri: Uri = url.parse().ok()?;
        let https = match uri.scheme_str()? {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let host = uri
            .host()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path_and_query = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        Some(Target {
            https,
            host: Cow::Owned(host),
            port,
            path_and_query: Cow::Owned(path_and_query),
        })
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        let pq: &str = &self.path_and_query;
        match pq.find('?') {
            Some(i) => &pq[..i],
            None => pq,
        }
    }

    /// Whether a connection to `o` serves this target.
    pub fn is(&self, o: &Origin) -> bool {
        o.https == self.https && o.port == self.port && o.host == self.host
    }

    /// Same scheme, host and port.
    pub fn same_origin(&self, other: &Target<'_>) -> bool {
        self.https == other.https && self.port == other.port && self.host == other.host
    }

    /// The origin, to key connections by.
    pub fn origin(&self) -> Origin {
        Origin {
            https: self.https,
            host: self.host.to_string(),
            port: self.port,
        }
    }

    /// `host` or `host:port` (bracketed for IPv6), as a URL's authority.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.to_string()
        };
        match (self.https, self.port) {
            (false, 80) | (true, 443) => host,
            (_, p) => format!("{host}:{p}"),
        }
    }
}

/// The last plain URL a client read and where its parts are: a VU sending the same URL
/// again (the usual case) reads it with one comparison. A copy of the URL is kept (its
/// buffer reused), so the cache is right whatever the caller does with its own string
/// between requests, templated URLs rendered in place included.
#[derive(Debug, Default)]
pub(crate) struct LastUrl {
    url: String,
    parts: Option<Plain>,
}

impl LastUrl {
    /// Where the last URL's text is (an address and a length, for a cache hint).
    pub fn text_region(&self) -> (usize, usize) {
        (self.url.as_ptr() as usize, self.url.len())
    }

    /// `url` read as [`Target::parse`] reads it.
    pub fn target<'a>(&mut self, url: &'a str) -> Option<Target<'a>> {
        if let Some(p) = &self.parts {
            if self.url == url {
                return p.target(url);
            }
        }
        match Plain::read(url) {
            Some(p) => {
                let t = p.target(url);
                self.url.clear();
                self.url.push_str(url);
                self.parts = Some(p);
                t
            }
            None => Target::general(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parts = Option<(bool, String, u16, String)>;

    fn parts(t: Option<Target<'_>>) -> Parts {
        t.map(|t| {
            (
                t.https,
                t.host.into_owned(),
                t.port,
                t.path_and_query.into_owned(),
            )
        })
    }

    const PLAIN: [&str; 10] = [
        "http://127.0.0.1:18090/",
        "http://h",
        "http://h/a/b?x=1&y=%20z",
        "https://h.example:8443/p;q=1/@x:y~!$'()*+,",
        "https://h",
        "http://[::1]:8080/x",
        "http://[::1]",
        "http://h_1.local/",
        "http://h:65535/",
        "http://h:0/",
    ];

    const NOT_PLAIN: [&str; 16] = [
        "HTTP://h/",
        "http://u:p@h/",
        "http://h?x=1",
        "http://h/#frag",
        "http://h/a b",
        "http://h:/",
        "http://h:99999/",
        "http://h:65536/",
        "http://h:8a/",
        "http://h/\u{e9}",
        "ftp://h/",
        "http:///x",
        "http://[fe80::1%25eth0]/",
        "http://h/{x}",
        "http://[::1/",
        "",
    ];

    #[test]
    fn plain_urls_read_as_uri_reads_them() {
        for url in PLAIN {
            assert!(Target::plain(url).is_some(), "{url} is plain");
            assert_eq!(
                parts(Target::parse(url)),
                parts(Target::general(url)),
                "{url}"
            );
        }
        // left to `http::Uri`, with the same answer as before
        for url in NOT_PLAIN {
            assert!(Target::plain(url).is_none(), "{url} is not plain");
            assert_eq!(
                parts(Target::parse(url)),
                parts(Target::general(url)),
                "{url}"
            );
        }
    }

    #[test]
    fn url_chars_are_rfc_3986_pchars_slash_query_and_percent() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
            assert_eq!(url_char(b), want, "{b}");
        }
    }

    #[test]
    fn the_last_url_reads_as_a_fresh_parse_whatever_came_before() {
        let mut last = LastUrl::default();
        let all: Vec<&str> = PLAIN.iter().chain(NOT_PLAIN.iter()).copied().collect();
        // every URL after every other, twice in a row: hits and misses
        for a in &all {
            for b in &all {
                for url in [*a, *b, *b] {
                    assert_eq!(
                        parts(last.target(url)),
                        parts(Target::parse(url)),
                        "{url} after {a}"
                    );
                }
            }
        }
        // an equal URL in another buffer (a template rendered into a new string)
        let owned = String::from("http://[::1]:8080/x?y=1");
        assert_eq!(parts(last.target(&owned)), parts(Target::parse(&owned)));
        let again = owned.clone();
        assert_eq!(parts(last.target(&again)), parts(Target::parse(&owned)));
    }

    #[test]
    fn paths_drop_the_query() {
        let t = Target::parse("http://h/a/b?x=1?y").expect("url");
        assert_eq!(t.path(), "/a/b");
        assert_eq!(Target::parse("http://h").expect("url").path(), "/");
    }
}
