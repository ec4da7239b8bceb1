//! A per-VU cookie jar: stores `Set-Cookie` and sends matching cookies back.
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Cookie {
    name: String,
    value: String,
    host: String,
    path: String,
    expires: Option<Instant>,
}

/// Cookies of one VU.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    cookies: Vec<Cookie>,
}

impl CookieJar {
    /// Stores one `Set-Cookie` header value received from `host` for a request to `path`.
    pub fn store(&mut self, host: &str, req_path: &str, header: &str) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let name = name.trim().to_string();
        if name.is_empty() {
            return;
        }
        let default_path = match req_path.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => req_path[..i].to_string(),
        };
        let mut c = Cookie {
            name,
            value: value.trim().trim_matches('"').to_string(),
            host: host.to_ascii_lowercase(),
            path: default_path,
            expires: None,
        };
        let mut delete = false;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" if v.trim().starts_with('/') => c.path = v.trim().to_string(),
                "domain" => {
                    let d = v.trim().trim_start_matches('.').to_ascii_lowercase();
                    if !d.is_empty() && (c.host == d || c.host.ends_with(&format!(".{d}"))) {
                        c.host = d;
                    }
                }
                "max-age" => match v.trim().parse::<i64>() {
                    Ok(s) if s <= 0 => delete = true,
                    Ok(s) => c.expires = Some(Instant::now() + Duration::from_secs(s as u64)),
                    Err(_) => {}
                },
                "expires" if v.contains("1970") => delete = true,
                _ => {}
            }
        }
        self.cookies
            .retain(|e| !(e.name == c.name && e.host == c.host && e.path == c.path));
        if !delete {
            self.cookies.push(c);
        }
    }

    /// The `Cookie` header for a request, if any cookie matches.
    pub fn header_for(&mut self, host: &str, path: &str) -> Option<String> {
        let now = Instant::now();
        self.cookies.retain(|c| c.expires.is_none_or(|e| e > now));
        let host = host.to_ascii_lowercase();
        let mut out = String::new();
        for c in &self.cookies {
            let host_ok = host == c.host || host.ends_with(&format!(".{}", c.host));
            let path_ok = path.starts_with(&c.path);
            if host_ok && path_ok {
                if !out.is_empty() {
                    out.push_str("; ");
                }
                out.push_str(&c.name);
                out.push('=');
                out.push_str(&c.value);
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// The value of a cookie by name for a host, if set.
    pub fn get(&self, host: &str, name: &str) -> Option<&str> {
        let host = host.to_ascii_lowercase();
        self.cookies
            .iter()
            .rev()
            .find(|c| c.name == name && (host == c.host || host.ends_with(&format!(".{}", c.host))))
            .map(|c| c.value.as_str())
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
        assert_eq!(
            j.header_for("example.com", "/a/c").as_deref(),
            Some("sid=1; x=2")
        );
        assert_eq!(j.header_for("example.com", "/z").as_deref(), Some("sid=1"));
        assert_eq!(j.header_for("other.com", "/").as_deref(), None);
        j.store("example.com", "/", "sid=; Max-Age=0; Path=/");
        assert_eq!(j.header_for("example.com", "/").as_deref(), None);
        assert_eq!(j.get("example.com", "x"), Some("2"));
    }
}
