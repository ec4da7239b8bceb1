//! Checks and extraction on a response of any step kind.
use std::fmt::Write as _;
use throng_http::HttpResponse;
use throng_plan::{Check, CheckKind, CmpOp, Extract, ExtractFrom, JsonQuery};

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

/// The response body as checks and extracts read it: as text, or as JSON — scanned for
/// one simple path at a time without building the document ([`JsonQuery::scan_text`]),
/// or parsed at most once for the paths that need the whole document.
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

    /// Whether the body, read as text (invalid UTF-8 replaced by U+FFFD), contains
    /// `needle`. A needle without U+FFFD is found in the lossy text exactly where it is
    /// found in the bytes (a valid UTF-8 match can neither start inside a replaced
    /// sequence nor span one), so the bytes are searched without decoding them.
    fn contains(&self, needle: &str) -> bool {
        if needle.contains(char::REPLACEMENT_CHARACTER) {
            return self.text().contains(needle);
        }
        let (hay, n) = (self.raw, needle.as_bytes());
        match n.first() {
            None => true,
            // a short body: building a searcher costs more than trying each candidate
            Some(&first) if hay.len() <= 256 => {
                memchr::memchr_iter(first, hay).any(|i| hay.get(i..i + n.len()) == Some(n))
            }
            Some(_) => memchr::memmem::find(hay, n).is_some(),
        }
    }

    fn json(&mut self) -> Option<&serde_json::Value> {
        let raw = self.raw;
        self.json
            .get_or_insert_with(|| serde_json::from_slice(raw).ok())
            .as_ref()
    }

    /// The first node `q` selects, as a value.
    fn json_value(&mut self, q: &JsonQuery) -> Option<serde_json::Value> {
        if self.json.is_none() {
            if let Some(v) = q.scan_value(self.raw) {
                return v;
            }
        }
        self.json().and_then(|v| q.first(v)).cloned()
    }

    /// Writes the first node `q` selects into `out` as an extract reads it (a string
    /// unquoted, other values as JSON), `""` when there is none.
    fn json_text(&mut self, q: &JsonQuery, out: &mut String) {
        if self.json.is_none() {
            if let Some(found) = q.scan_text(self.raw, out) {
                if !found {
                    out.clear();
                }
                return;
            }
        }
        out.clear();
        match self.json().and_then(|v| q.first(v)) {
            Some(serde_json::Value::String(s)) => out.push_str(s),
            Some(other) => {
                let _ = write!(out, "{other}");
            }
            None => {}
        }
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
            CheckKind::BodyContains(s) => body.contains(s),
            CheckKind::BodyMatches(re) => re.is_match(&body.text()),
            CheckKind::Json { path, expected } => body
                .json_value(path)
                .is_some_and(|n| expected.as_str() == Some("*") || json_eq(&n, expected)),
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
        let Some(slot) = vars.get_mut(e.var) else {
            continue;
        };
        // written in place: a value that fits the variable's buffer allocates nothing
        let found = match &e.from {
            ExtractFrom::Json(p) => {
                body.json_text(p, slot);
                continue;
            }
            ExtractFrom::Header(h) => resp.header(h),
            ExtractFrom::Regex(re) => {
                let text = body.text();
                let m = re
                    .captures(&text)
                    .and_then(|c| c.get(1).or_else(|| c.get(0)));
                slot.clear();
                slot.push_str(m.map_or("", |m| m.as_str()));
                continue;
            }
            ExtractFrom::Cookie(name) => {
                *slot = cookie(name).unwrap_or_default();
                continue;
            }
            ExtractFrom::Column(c) => resp.column(c),
        };
        slot.clear();
        slot.push_str(found.unwrap_or(""));
    }
}

#[cfg(test)]
mod tests {
    use super::ParsedBody;

    #[test]
    fn contains_answers_as_the_lossy_text_does() {
        let long: Vec<u8> = b"x".repeat(300).into_iter().chain(*b"needle").collect();
        let bodies: [&[u8]; 8] = [
            b"ok",
            b"{\"id\":1,\"status\":\"ok\"}",
            b"caf\xc3\xa9 ok",
            b"\xe2\x82 ok \xff\xfe",
            b"\xe2\xe2\x82\xac euro",
            b"",
            b"aaaaaaab",
            &long,
        ];
        let needles = [
            "ok",
            "",
            "é",
            "é ok",
            "€",
            "\u{fffd}",
            "\u{fffd} ok",
            "ab",
            "aab",
            "needle",
            "x",
            "k",
            "okk",
        ];
        for b in bodies {
            let body = ParsedBody::new(b);
            for n in needles {
                let lossy = String::from_utf8_lossy(b).contains(n);
                assert_eq!(body.contains(n), lossy, "{n:?} in {b:?}");
            }
        }
    }
}
