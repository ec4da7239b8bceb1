//! A per-VU cookie jar over the maintained `cookie_store` crate (RFC 6265).
//!
//! `cookie_store` does the storage model: domain-match (host-only cookies stay on their host,
//! a `Domain` attribute must domain-match the request host and never applies to an IP
//! address), path-match (`/ab` does not match a cookie with path `/a`, `/a/b` does), expiry
//! (`Max-Age` wins over `Expires`; a past date or `Max-Age<=0` deletes) and `Secure` (sent
//! only over https, or to loopback as browsers do). On top of it this module adds the rules of
//! RFC 6265bis a browser applies when *storing*: a `Secure` cookie set over plain http is
//! ignored, the `__Secure-` and `__Host-` prefixes are enforced, and a `Domain` attribute of a
//! single label (`Domain=com`, a public suffix) other than the host itself is refused.
use cookie_store::{CookieDomain, CookieStore, RawCookie};
use std::net::IpAddr;
use url::Url;

/// Cookies of one VU.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    store: CookieStore,
}

/// The URL a cookie is stored from or sent to; `None` when the host is not a valid URL host.
fn url_for(https: bool, host: &str, path: &str) -> Option<Url> {
    let scheme = if https { "https" } else { "http" };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let mut url = Url::parse(&format!("{scheme}://{host}/")).ok()?;
    let path = path.split('?').next().unwrap_or("/");
    if path.starts_with('/') {
        url.set_path(path);
    }
    Some(url)
}

/// Whether cookies may carry `Secure` to/from this URL: https, or a loopback host.
fn is_secure(url: &Url) -> bool {
    if url.scheme() == "https" {
        return true;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// RFC 6265bis storage checks that `cookie_store` (RFC 6265) leaves to the user agent.
fn acceptable(raw: &RawCookie<'_>, url: &Url) -> bool {
    let secure = raw.secure().unwrap_or(false);
    if secure && !is_secure(url) {
        return false;
    }
    let name = raw.name();
    if name.starts_with("__Secure-") && !secure {
        return false;
    }
    if name.starts_with("__Host-") && (!secure || raw.domain().is_some() || raw.path() != Some("/"))
    {
        return false;
    }
    if let Some(d) = raw.domain() {
        let d = d.trim_start_matches('.').to_ascii_lowercase();
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        if !d.is_empty() && !d.contains('.') && d != host {
            return false;
        }
    }
    true
}

impl CookieJar {
    /// Stores one `Set-Cookie` header value received over plain http from `host` for a
    /// request to `path`. Prefer [`CookieJar::store_from`], which knows the scheme.
    #[cfg(test)]
    pub fn store(&mut self, host: &str, req_path: &str, header: &str) {
        self.store_from(false, host, req_path, header);
    }

    /// Stores one `Set-Cookie` header value received from `host` (over https when `https`)
    /// for a request to `path`. A cookie the rules refuse is ignored, as browsers do.
    pub fn store_from(&mut self, https: bool, host: &str, req_path: &str, header: &str) {
        let Some(url) = url_for(https, host, req_path) else {
            return;
        };
        let Ok(raw) = RawCookie::parse(header.to_string()) else {
            return;
        };
        if !acceptable(&raw, &url) {
            return;
        }
        // a refused cookie (domain mismatch, already expired and unknown) is simply not stored
        let _ = self.store.insert_raw(&raw, &url);
    }

    /// The `Cookie` header for a plain-http request, if any cookie matches. Prefer
    /// [`CookieJar::header_for_url`], which knows the scheme.
    #[cfg(test)]
    pub fn header_for(&mut self, host: &str, path: &str) -> Option<String> {
        self.header_for_url(false, host, path)
    }

    /// The `Cookie` header for a request to `host` and `path` (over https when `https`), if
    /// any unexpired cookie domain-, path- and secure-matches it.
    pub fn header_for_url(&self, https: bool, host: &str, path: &str) -> Option<String> {
        // the hot path: most VUs hold no cookie, and building a URL costs a parse per request
        self.store.iter_any().next()?;
        let url = url_for(https, host, path)?;
        let mut matched = self.store.matches(&url);
        // RFC 6265 §5.4: longer paths first
        matched.sort_by_key(|c| std::cmp::Reverse(String::from(&c.path).len()));
        let mut out = String::new();
        for c in matched {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(c.name());
            out.push('=');
            out.push_str(c.value());
        }
        (!out.is_empty()).then_some(out)
    }

    /// Forgets every cookie.
    pub fn clear(&mut self) {
        self.store.clear();
    }

    /// Forgets the cookies a request to `host` and `path` would send (those named `name`
    /// only, when given).
    pub fn remove_matching(&mut self, https: bool, host: &str, path: &str, name: Option<&str>) {
        let Some(url) = url_for(https, host, path) else {
            return;
        };
        let gone: Vec<(String, String, String)> = self
            .store
            .matches(&url)
            .into_iter()
            .filter(|c| name.is_none_or(|n| c.name() == n))
            .map(|c| {
                (
                    String::from(&c.domain),
                    String::from(&c.path),
                    c.name().to_string(),
                )
            })
            .collect();
        for (d, p, n) in gone {
            self.store.remove(&d, &p, &n);
        }
    }

    /// The value of an unexpired cookie by name that applies to `host`, if set.
    pub fn get(&self, host: &str, name: &str) -> Option<&str> {
        let url = url_for(true, host, "/")?;
        self.store
            .iter_unexpired()
            .filter(|c| c.name() == name && c.domain.matches(&url))
            .max_by_key(|c| matches!(c.domain, CookieDomain::HostOnly(_)))
            .map(|c| c.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_matches_and_deletes() {
        let mut j = CookieJar::default();
        j.store("example.com", "/a/b", "sid=1; Path=/; HttpOnly");
        j.store("example.com", "/a/b", "x=2");
        // longest path first: x has the default path /a
        assert_eq!(
            j.header_for("example.com", "/a/c").as_deref(),
            Some("x=2; sid=1")
        );
        assert_eq!(j.header_for("example.com", "/z").as_deref(), Some("sid=1"));
        assert_eq!(j.header_for("other.com", "/").as_deref(), None);
        j.store("example.com", "/", "sid=; Max-Age=0; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        assert_eq!(j.get("example.com", "x"), Some("2"));
    }

    #[test]
    fn path_match_is_on_segment_boundaries() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "a=1; Path=/a");
        assert_eq!(j.header_for("example.com", "/a").as_deref(), Some("a=1"));
        assert_eq!(j.header_for("example.com", "/a/").as_deref(), Some("a=1"));
        assert_eq!(j.header_for("example.com", "/a/b").as_deref(), Some("a=1"));
        assert_eq!(j.header_for("example.com", "/ab").as_deref(), None);
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
    }

    #[test]
    fn default_path_is_the_request_directory() {
        let mut j = CookieJar::default();
        j.store("example.com", "/shop/cart?x=1", "d=1");
        assert_eq!(
            j.header_for("example.com", "/shop/item").as_deref(),
            Some("d=1")
        );
        assert_eq!(j.header_for("example.com", "/shopping").as_deref(), None);
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        // a Path attribute that does not start with / means the default path
        j.store("example.com", "/x/y", "e=1; Path=relative");
        assert_eq!(j.header_for("example.com", "/x/z").as_deref(), Some("e=1"));
    }

    #[test]
    fn secure_cookies_only_over_https() {
        let mut j = CookieJar::default();
        j.store_from(true, "example.com", "/", "s=1; Secure; Path=/");
        assert_eq!(
            j.header_for_url(true, "example.com", "/").as_deref(),
            Some("s=1")
        );
        assert_eq!(j.header_for_url(false, "example.com", "/").as_deref(), None);
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
    }

    #[test]
    fn secure_cookie_set_over_http_is_ignored() {
        let mut j = CookieJar::default();
        j.store_from(false, "example.com", "/", "s=1; Secure; Path=/");
        assert_eq!(j.header_for_url(true, "example.com", "/").as_deref(), None);
        // loopback counts as a secure context, as in browsers
        j.store_from(false, "127.0.0.1", "/", "s=1; Secure; Path=/");
        assert_eq!(
            j.header_for_url(false, "127.0.0.1", "/").as_deref(),
            Some("s=1")
        );
    }

    #[test]
    fn cookie_prefixes_are_enforced() {
        let mut j = CookieJar::default();
        j.store_from(true, "example.com", "/", "__Secure-a=1; Path=/");
        j.store_from(true, "example.com", "/", "__Host-b=1; Secure; Path=/x");
        j.store_from(
            true,
            "example.com",
            "/",
            "__Host-c=1; Secure; Path=/; Domain=example.com",
        );
        assert_eq!(j.header_for_url(true, "example.com", "/x").as_deref(), None);
        j.store_from(true, "example.com", "/", "__Host-d=1; Secure; Path=/");
        j.store_from(true, "example.com", "/", "__Secure-e=1; Secure; Path=/");
        let h = j
            .header_for_url(true, "example.com", "/")
            .unwrap_or_default();
        assert!(
            h.contains("__Host-d=1") && h.contains("__Secure-e=1"),
            "{h}"
        );
    }

    #[test]
    fn max_age_expires_and_deletes() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "a=1; Max-Age=3600; Path=/");
        j.store("example.com", "/", "b=1; Max-Age=0; Path=/");
        j.store("example.com", "/", "c=1; Max-Age=-5; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("a=1"));
        j.store("example.com", "/", "a=1; Max-Age=0; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        assert_eq!(j.get("example.com", "a"), None);
    }

    #[test]
    fn expires_in_the_past_deletes_and_future_keeps() {
        let mut j = CookieJar::default();
        j.store(
            "example.com",
            "/",
            "f=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/",
        );
        j.store(
            "example.com",
            "/",
            "p=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
        );
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("f=1"));
        // an Expires in the past removes a stored cookie (not only a 1970 date)
        j.store(
            "example.com",
            "/",
            "f=; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
        );
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
    }

    #[test]
    fn max_age_wins_over_expires() {
        let mut j = CookieJar::default();
        j.store(
            "example.com",
            "/",
            "m=1; Max-Age=600; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
        );
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("m=1"));
        j.store(
            "example.com",
            "/",
            "m=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/",
        );
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
    }

    #[test]
    fn short_max_age_lapses() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "t=1; Max-Age=1; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("t=1"));
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        assert_eq!(j.get("example.com", "t"), None);
    }

    #[test]
    fn host_only_cookie_stays_on_its_host() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "h=1; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("h=1"));
        assert_eq!(j.header_for("www.example.com", "/").as_deref(), None);
        assert_eq!(j.header_for("EXAMPLE.com", "/").as_deref(), Some("h=1"));
    }

    #[test]
    fn domain_attribute_covers_subdomains() {
        let mut j = CookieJar::default();
        j.store("www.example.com", "/", "d=1; Domain=.Example.com; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("d=1"));
        assert_eq!(j.header_for("a.b.example.com", "/").as_deref(), Some("d=1"));
        assert_eq!(j.header_for("badexample.com", "/").as_deref(), None);
        assert_eq!(j.get("api.example.com", "d"), Some("1"));
    }

    #[test]
    fn domain_attribute_must_domain_match_the_host() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "x=1; Domain=other.com; Path=/");
        j.store("example.com", "/", "y=1; Domain=www.example.com; Path=/");
        j.store("www.example.com", "/", "z=1; Domain=ample.com; Path=/");
        assert_eq!(j.header_for("other.com", "/").as_deref(), None);
        assert_eq!(j.header_for("www.example.com", "/").as_deref(), None);
        assert_eq!(j.header_for("ample.com", "/").as_deref(), None);
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
    }

    #[test]
    fn single_label_domain_is_refused() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "tld=1; Domain=com; Path=/");
        assert_eq!(j.header_for("other.com", "/").as_deref(), None);
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        // a single-label host may still name itself
        j.store("localhost", "/", "l=1; Domain=localhost; Path=/");
        assert_eq!(j.header_for("localhost", "/").as_deref(), Some("l=1"));
    }

    #[test]
    fn ip_hosts_get_no_domain_cookies_for_others() {
        let mut j = CookieJar::default();
        j.store("127.0.0.1", "/", "ip=1; Path=/");
        assert_eq!(j.header_for("127.0.0.1", "/").as_deref(), Some("ip=1"));
        assert_eq!(j.header_for("127.0.0.2", "/").as_deref(), None);
        j.store("::1", "/", "v6=1; Path=/");
        assert_eq!(j.header_for("::1", "/").as_deref(), Some("v6=1"));
    }

    #[test]
    fn same_name_different_paths_are_distinct_and_replace_by_key() {
        let mut j = CookieJar::default();
        j.store("example.com", "/", "n=root; Path=/");
        j.store("example.com", "/", "n=deep; Path=/a");
        assert_eq!(
            j.header_for("example.com", "/a/x").as_deref(),
            Some("n=deep; n=root")
        );
        j.store("example.com", "/", "n=root2; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("n=root2"));
    }

    #[test]
    fn garbage_is_ignored() {
        let mut j = CookieJar::default();
        for h in [
            "",
            "=",
            "novalue",
            ";;;",
            "=x; Path=/",
            "a=b; Max-Age=zz; Path=/",
        ] {
            j.store("example.com", "/", h);
        }
        j.store("bad host", "/", "a=1");
        // an unparsable Max-Age is ignored, the cookie stays
        assert_eq!(j.header_for("example.com", "/").as_deref(), Some("a=b"));
        assert_eq!(j.header_for("bad host", "/"), None);
    }
}
