//! The one test for "is this an absolute HTTP URL".

/// Whether `s` starts with `http://` or `https://` (exactly, as k6 and throng's plans
/// write them): an absolute URL rather than a path under `base_url`.
pub fn has_http_scheme(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::has_http_scheme;

    #[test]
    fn absolute_http_urls_only() {
        assert!(has_http_scheme("http://a/"));
        assert!(has_http_scheme("https://a/b"));
        assert!(!has_http_scheme("/path"));
        assert!(!has_http_scheme("ftp://a/"));
        assert!(!has_http_scheme("HTTP://a/"));
        assert!(!has_http_scheme("http:/a"));
    }
}
