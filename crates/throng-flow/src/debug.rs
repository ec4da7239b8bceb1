//! `--http-debug[=full]`: every request and response printed as it happened (headers; the
//! bodies too with `full`), like k6's `--http-debug`, with secrets redacted: secret headers
//! (`Authorization`, cookies, API keys), secrets in URLs and the plan's secret env values.
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use throng_http::{HttpRequest, HttpResponse};
use throng_metrics::redact::{self, Secrets};

/// How much `--http-debug` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpDebugMode {
    /// Request and response lines and headers.
    Headers,
    /// Headers and bodies.
    Full,
}

/// Longest body printed, bytes (the rest is counted, not printed).
const MAX_BODY: usize = 4096;

/// Prints requests and responses to a writer (stderr in the binary).
pub struct HttpDebug {
    mode: HttpDebugMode,
    secrets: Secrets,
    out: Mutex<Box<dyn std::io::Write + Send>>,
}

impl HttpDebug {
    /// Prints to `out`; `env` values whose names are secret are scrubbed from bodies.
    pub fn new(
        mode: HttpDebugMode,
        env: &std::collections::BTreeMap<String, String>,
        out: Box<dyn std::io::Write + Send>,
    ) -> HttpDebug {
        let mut secrets = Secrets::new();
        for (k, v) in env {
            secrets.add_named(k, v);
        }
        HttpDebug {
            mode,
            secrets,
            out: Mutex::new(out),
        }
    }

    /// Whether response bodies must be kept for printing.
    pub(crate) fn wants_body(&self) -> bool {
        self.mode == HttpDebugMode::Full
    }

    /// Prints one exchange: `req` when it is the request sent (None for a redirect hop or
    /// a retry, whose request line comes from the response).
    pub(crate) fn print(&self, req: Option<&HttpRequest>, resp: &HttpResponse) {
        let mut s = String::new();
        let (method, url) = match req {
            Some(r) => (r.method.as_str(), r.url.as_str()),
            None => (resp.method.as_str(), resp.url.as_str()),
        };
        let _ = writeln!(s, "Request:\n{method} {}", redact::url(url));
        if let Some(r) = req {
            for (k, v) in &r.headers {
                let _ = writeln!(s, "{k}: {}", redact::header_value(k, v));
            }
            if self.mode == HttpDebugMode::Full && !r.body.is_empty() {
                let _ = writeln!(s, "\n{}", self.body(&r.body));
            }
        }
        let _ = writeln!(s, "\nResponse:");
        match resp.error {
            Some(e) if resp.status == 0 => {
                let _ = writeln!(s, "(no response: {}, code {})", e.name(), e.code());
            }
            _ => {
                let _ = writeln!(s, "{} {}", resp.proto, resp.status);
                for (k, v) in &resp.headers {
                    let v = String::from_utf8_lossy(v.as_bytes());
                    let _ = writeln!(s, "{k}: {}", redact::header_value(k.as_str(), &v));
                }
                if self.mode == HttpDebugMode::Full && !resp.body.is_empty() {
                    let _ = writeln!(s, "\n{}", self.body(&resp.body));
                }
            }
        }
        let text = self.secrets.scrub(&s);
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    fn body(&self, b: &[u8]) -> String {
        let shown = &b[..b.len().min(MAX_BODY)];
        let mut t = String::from_utf8_lossy(shown).into_owned();
        if b.len() > MAX_BODY {
            let _ = write!(t, "\n… ({} more bytes)", b.len() - MAX_BODY);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn secrets_never_reach_the_debug_output() {
        let buf = Buf::default();
        let mut env = std::collections::BTreeMap::new();
        env.insert("API_TOKEN".to_string(), "tok-123456".to_string());
        let d = HttpDebug::new(HttpDebugMode::Full, &env, Box::new(buf.clone()));
        let req = HttpRequest {
            method: http::Method::POST,
            url: "http://127.0.0.1:1/x?api_key=abcdef".into(),
            headers: vec![
                ("Authorization".into(), "Bearer sekrit-token".into()),
                ("X-Trace".into(), "t1".into()),
            ],
            body: bytes::Bytes::from_static(b"{\"token\":\"tok-123456\"}"),
            timeout: None,
            keep_body: true,
            keep_headers: true,
            max_redirects: None,
        };
        let mut resp = HttpResponse {
            status: 200,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from_static(b"hello"),
            timings: Default::default(),
            error: None,
            bytes_sent: 0,
            bytes_received: 0,
            proto: "HTTP/1.1",
            url: req.url.clone(),
            method: http::Method::POST,
        };
        resp.headers
            .insert("set-cookie", http::HeaderValue::from_static("sid=abcd1234"));
        d.print(Some(&req), &resp);
        let out = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        for secret in ["sekrit-token", "abcdef", "tok-123456", "abcd1234"] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        assert!(out.contains("POST http://127.0.0.1:1/x?api_key="), "{out}");
        assert!(out.contains("X-Trace: t1"), "{out}");
        assert!(out.contains("HTTP/1.1 200"), "{out}");
        assert!(out.contains("hello"), "{out}");
    }
}
