//! Checks and extraction on a response of any step kind.
use throng_http::HttpResponse;
use throng_plan::{Check, CheckKind, CmpOp, Extract, ExtractFrom};

/// What checks and extracts read from a step's result, whatever its protocol (generic, so
/// HTTP's checks are monomorphised: no dynamic dispatch on its hot path).
pub(crate) trait Reply {
    /// The status a `status` check compares.
    fn status(&self) -> u16;
    /// Whether the step failed before a status came (a `duration` check then fails).
    fn errored(&self) -> bool;
    /// The duration a `duration` check compares, ms.
    fn duration_ms(&self) -> f64;
    /// A header (HTTP), handshake header (WebSocket) or metadata value (gRPC).
    fn header(&self, name: &str) -> Option<&str>;
    /// Rows a SQL statement returned or affected (`None` for other protocols).
    fn rows(&self) -> Option<u64> {
        None
    }
    /// A column of the first row a SQL statement returned.
    fn column(&self, _name: &str) -> Option<&str> {
        None
    }
}

impl Reply for HttpResponse {
    fn status(&self) -> u16 {
        self.status
    }
    fn errored(&self) -> bool {
        self.error.is_some()
    }
    fn duration_ms(&self) -> f64 {
        self.timings.duration()
    }
    fn header(&self, name: &str) -> Option<&str> {
        HttpResponse::header(self, name)
    }
}

/// The response body, parsed as JSON at most once.
pub(crate) struct ParsedBody<'a> {
    raw: &'a [u8],
    json: Option<Option<serde_json::Value>>,
}

impl<'a> ParsedBody<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        ParsedBody { raw, json: None }
    }

    fn text(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.raw)
    }

    fn json(&mut self) -> Option<&serde_json::Value> {
        let raw = self.raw;
        self.json
            .get_or_insert_with(|| serde_json::from_slice(raw).ok())
            .as_ref()
    }
}

fn json_eq(node: &serde_json::Value, expected: &serde_json::Value) -> bool {
    if node == expected {
        return true;
    }
    // `"42"` in YAML matches 42 in the body, and the other way round
    let as_text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    as_text(node) == as_text(expected)
}

/// Evaluates each check, calling `record(index, passed)`.
pub(crate) fn evaluate_checks(
    checks: &[Check],
    resp: &impl Reply,
    body: &mut ParsedBody<'_>,
    mut record: impl FnMut(usize, bool),
) {
    for (i, c) in checks.iter().enumerate() {
        let ok = match &c.kind {
            CheckKind::Status(codes) => codes.contains(&resp.status()),
            CheckKind::Duration(op, bound) => {
                let d = resp.duration_ms();
                !resp.errored()
                    && match op {
                        CmpOp::Lt => d < *bound,
                        CmpOp::Le => d <= *bound,
                        CmpOp::Gt => d > *bound,
                        CmpOp::Ge => d >= *bound,
                    }
            }
            CheckKind::BodyContains(s) => body.text().contains(s.as_str()),
            CheckKind::BodyMatches(re) => re.is_match(&body.text()),
            CheckKind::Json { path, expected } => body
                .json()
                .and_then(|v| {
                    path.query(v)
                        .first()
                        .map(|n| expected.as_str() == Some("*") || json_eq(n, expected))
                })
                .unwrap_or(false),
            CheckKind::Header { name, expected } => match resp.header(name) {
                Some(v) => expected == "*" || v.contains(expected.as_str()),
                None => false,
            },
            CheckKind::Rows(op, n) => resp.rows().is_some_and(|r| match op {
                None => r == *n,
                Some(CmpOp::Lt) => r < *n,
                Some(CmpOp::Le) => r <= *n,
                Some(CmpOp::Gt) => r > *n,
                Some(CmpOp::Ge) => r >= *n,
            }),
        };
        record(i, ok);
    }
}

/// Sets each extracted variable (to "" when the value is not found); `cookie` reads a
/// cookie the step set (HTTP's only).
pub(crate) fn extract_values(
    extract: &[Extract],
    resp: &impl Reply,
    body: &mut ParsedBody<'_>,
    cookie: impl Fn(&str) -> Option<String>,
    vars: &mut [String],
) {
    for e in extract {
        let v = match &e.from {
            ExtractFrom::Header(h) => resp.header(h).map(str::to_string),
            ExtractFrom::Json(p) => body.json().and_then(|v| {
                p.query(v).first().map(|n| match n {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }),
            ExtractFrom::Regex(re) => {
                let text = body.text();
                re.captures(&text).and_then(|c| {
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map(|m| m.as_str().to_string())
                })
            }
            ExtractFrom::Cookie(name) => cookie(name),
            ExtractFrom::Column(c) => resp.column(c).map(str::to_string),
        };
        if let Some(slot) = vars.get_mut(e.var) {
            *slot = v.unwrap_or_default();
        }
    }
}
