//! Reading a results file back: its schema version and every HDR histogram are checked, so a
//! file from another version, or one whose histograms were altered, is refused with a
//! one-line message naming the field (and series) instead of being reported on.
//!
//! The checks run inside deserialization (`serde_json::from_str::<Results>` refuses such a
//! file too); [`crate::Results::from_json`] adds a typed error that tells a truncated file, a
//! file that is not JSON and an unknown version apart.
use crate::results::SeriesDump;
use base64::Engine as _;
use hdrhistogram::Histogram;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::io::Read as _;

/// The schema version this build writes and reads.
pub const RESULTS_VERSION: u32 = 1;

/// Why a results file was refused. Every message is one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResultsFileError {
    /// The file ends before the JSON does.
    #[error("truncated: the JSON ends early (line {line}, column {column})")]
    Truncated {
        /// Line where the text ended.
        line: usize,
        /// Column where it ended.
        column: usize,
    },
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but its `version` is not one this build reads.
    #[error("unsupported results version {found} in field `version` (this throng reads version {RESULTS_VERSION})")]
    UnknownVersion {
        /// What the file says, as written.
        found: String,
    },
    /// JSON of the right version whose content is wrong (a field's type, a missing field,
    /// an altered histogram); the message names the field.
    #[error("{0}")]
    Invalid(String),
}

impl ResultsFileError {
    /// `e`, met reading `bytes`. A syntax error on the input's last byte is a truncation
    /// too: a file cut inside a number (`12.`, `-`, `1e`) is an "invalid number" to the
    /// parser, which only sees that the number is not complete.
    pub(crate) fn from_json_error(e: serde_json::Error, bytes: &[u8]) -> ResultsFileError {
        use serde_json::error::Category;
        let truncated = ResultsFileError::Truncated {
            line: e.line(),
            column: e.column(),
        };
        match e.classify() {
            Category::Eof => truncated,
            Category::Syntax if at_end(bytes, e.line(), e.column()) => truncated,
            Category::Syntax | Category::Io => ResultsFileError::NotJson(e.to_string()),
            Category::Data => ResultsFileError::Invalid(e.to_string()),
        }
    }
}

/// Whether 1-based `line` and `column` (serde_json's error position) are the last byte of
/// `bytes`, trailing whitespace aside.
fn at_end(bytes: &[u8], line: usize, column: usize) -> bool {
    let text = bytes.trim_ascii_end();
    let Some(last) = text.len().checked_sub(1) else {
        return false;
    };
    let lines = text.iter().filter(|b| **b == b'\n').count() + 1;
    let start = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    line == lines && column == last - start + 1
}

/// Checks the version first, so a file of another version is named as such even when its
/// other fields no longer fit.
pub(crate) fn peek_version(bytes: &[u8]) -> Result<(), ResultsFileError> {
    #[derive(Deserialize)]
    struct Peek {
        version: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Peek>(bytes) {
        Ok(Peek { version: Some(v) }) => {
            if version_of(&v) == Some(RESULTS_VERSION) {
                Ok(())
            } else {
                Err(ResultsFileError::UnknownVersion {
                    found: v.to_string(),
                })
            }
        }
        // no version: the full read names the missing field
        Ok(Peek { version: None }) => Ok(()),
        Err(e) => Err(ResultsFileError::from_json_error(e, bytes)),
    }
}

fn version_of(v: &serde_json::Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// `deserialize_with` for `Results::version`.
pub(crate) fn version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match version_of(&v) {
        Some(n) if n == RESULTS_VERSION => Ok(n),
        _ => Err(D::Error::custom(format!(
            "unsupported results version {v} in field `version` (this throng reads version {RESULTS_VERSION})"
        ))),
    }
}

/// `deserialize_with` for `Results::series`: every histogram decodes and agrees with the
/// series' count, min, max and sum.
pub(crate) fn series<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SeriesDump>, D::Error> {
    let v = Vec::<SeriesDump>::deserialize(d)?;
    for (i, s) in v.iter().enumerate() {
        if let Err(why) = check_dump(s) {
            return Err(D::Error::custom(format!(
                "field `series[{i}].hdr` ({}): {why}",
                label(s)
            )));
        }
    }
    Ok(v)
}

/// `http_req_duration{name:home,status:200}`.
fn label(s: &SeriesDump) -> String {
    if s.tags.is_empty() {
        return s.metric.clone();
    }
    let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("{}{{{}}}", s.metric, tags.join(","))
}

fn check_dump(s: &SeriesDump) -> Result<(), String> {
    let Some(b64) = &s.hdr else {
        return Ok(());
    };
    let h = decode_hdr(b64)?;
    let count = h.len();
    if !(s.value >= 0.0 && s.value.fract() == 0.0 && s.value == count as f64) {
        return Err(format!(
            "the histogram holds {count} samples but `value` says {}",
            s.value
        ));
    }
    if count == 0 {
        return Ok(());
    }
    let scaled = |v: f64| (v * throng_metrics::TREND_SCALE).round() as u64;
    let (Some(min), Some(max)) = (s.min, s.max) else {
        return Err("a trend with samples needs `min` and `max`".into());
    };
    if min > max || !h.equivalent(h.min(), scaled(min)) {
        return Err(format!(
            "`min` {min} disagrees with the histogram's smallest value {}",
            h.min() as f64 / throng_metrics::TREND_SCALE
        ));
    }
    if !h.equivalent(h.max(), scaled(max)) {
        return Err(format!(
            "`max` {max} disagrees with the histogram's largest value {}",
            h.max() as f64 / throng_metrics::TREND_SCALE
        ));
    }
    if let Some(sum) = s.extra {
        let n = count as f64;
        let slack = 1e-6 * (n * max).abs().max(1.0);
        if !(sum >= n * min - slack && sum <= n * max + slack) {
            return Err(format!(
                "the sum {sum} of {count} samples is outside {count} × [min, max]"
            ));
        }
    }
    Ok(())
}

/// The largest inflated histogram accepted (throng's own are a few KB).
const MAX_INFLATED: u64 = 16 << 20;
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
/// cookie, payload length, normalizing offset, digits, low, high, int/double ratio
const V2_HEADER: usize = 4 + 4 + 4 + 4 + 8 + 8 + 8;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_be_bytes)
}

/// Encodes a histogram as throng writes it: V2 + DEFLATE, base64 (`None` if it cannot).
///
/// The encoding is canonical: the header's highest trackable value is the histogram's own
/// largest value (not however far an auto-resizing histogram happened to grow), so the same
/// counts always encode to the same bytes — a histogram merged from instances equals the one
/// recorded in one process byte for byte.
pub fn encode_hdr(h: &Histogram<u64>) -> Option<String> {
    use hdrhistogram::serialization::Serializer as _;
    let mut canonical = Histogram::<u64>::new_with_bounds(
        h.low(),
        h.max().max(h.low().saturating_mul(2)).max(2),
        h.sigfig(),
    )
    .ok()?;
    canonical.add(h).ok()?;
    let mut buf = Vec::new();
    let mut ser = hdrhistogram::serialization::V2DeflateSerializer::new();
    ser.serialize(&canonical, &mut buf).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(&buf))
}

/// Decodes a base64 V2 (+DEFLATE) HDR histogram as throng writes it, checking the header and
/// every encoded count before the decoder sees them (so hostile input neither allocates
/// gigabytes nor overflows).
pub fn decode_hdr(b64: &str) -> Result<Histogram<u64>, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| format!("not base64 ({e})"))?;
    let plain = match be32(&raw, 0) {
        Some(V2_COMPRESSED_COOKIE) => {
            let len = be32(&raw, 4).ok_or("corrupt HDR histogram: header cut short")? as usize;
            let body = raw
                .get(8..8usize.saturating_add(len))
                .ok_or("corrupt HDR histogram: compressed payload cut short")?;
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(body)
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("corrupt HDR histogram: DEFLATE data is invalid ({e})"))?;
            if out.len() as u64 > MAX_INFLATED {
                return Err("corrupt HDR histogram: inflates beyond 16 MB".into());
            }
            out
        }
        Some(V2_COOKIE) => raw,
        _ => return Err("corrupt HDR histogram: not a V2 encoding (bad cookie)".into()),
    };
    if be32(&plain, 0) != Some(V2_COOKIE) {
        return Err("corrupt HDR histogram: bad inner cookie".into());
    }
    let payload = be32(&plain, 4).ok_or("corrupt HDR histogram: header cut short")? as usize;
    if plain.len() < V2_HEADER || plain.len() - V2_HEADER != payload {
        return Err(format!(
            "corrupt HDR histogram: the header announces {payload} bytes of counts, {} follow",
            plain.len().saturating_sub(V2_HEADER)
        ));
    }
    let digits = be32(&plain, 12).unwrap_or(0);
    let low = be64(&plain, 16).unwrap_or(0);
    let high = be64(&plain, 24).unwrap_or(0);
    if !(1..=3).contains(&digits) || low == 0 || high / 2 < low || high > 1 << 62 {
        return Err(format!(
            "corrupt HDR histogram: bounds {low}..{high} with {digits} significant digits are not what throng writes"
        ));
    }
    let shape = Histogram::<u64>::new_with_bounds(low, high, digits as u8)
        .map_err(|e| format!("corrupt HDR histogram: {e:?}"))?;
    scan_counts(&plain[V2_HEADER..], shape.distinct_values())?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut plain.as_slice())
        .map_err(|e| format!("corrupt HDR histogram: {e:?}"))
}

/// Walks the zig-zag LEB128 counts: no run of zeros or count may overflow, every count must
/// land inside the histogram, and the total must fit in a u64.
fn scan_counts(mut p: &[u8], len: usize) -> Result<(), String> {
    let bad = |why: &str| Err(format!("corrupt HDR histogram: {why}"));
    let mut index: u64 = 0;
    let mut total: u64 = 0;
    while !p.is_empty() {
        let mut v: u64 = 0;
        let mut used = 0;
        loop {
            let Some(&b) = p.get(used) else {
                return bad("a count is cut short");
            };
            if used == 8 {
                v |= u64::from(b) << 56;
                used += 1;
                break;
            }
            v |= u64::from(b & 0x7f) << (7 * used);
            used += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        p = &p[used..];
        let zz = ((v >> 1) as i64) ^ -((v & 1) as i64);
        if zz < 0 {
            let zeros = zz.unsigned_abs();
            index = match index.checked_add(zeros) {
                Some(i) if i <= len as u64 => i,
                _ => return bad("a run of zeros goes past the end"),
            };
        } else {
            let c = zz as u64;
            if c > 0 {
                if index >= len as u64 {
                    return bad("a count lies past the end");
                }
                total = match total.checked_add(c) {
                    Some(t) => t,
                    None => return bad("the total count overflows"),
                };
            }
            index += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Serializer as _;

    fn encode(h: &Histogram<u64>) -> String {
        let mut buf = Vec::new();
        let mut ser = hdrhistogram::serialization::V2DeflateSerializer::new();
        ser.serialize(h, &mut buf).expect("serializes");
        base64::engine::general_purpose::STANDARD.encode(&buf)
    }

    #[test]
    fn a_file_cut_anywhere_is_truncated_and_junk_is_not_json() {
        let whole = "{\n  \"version\": 2,\n  \"a\": [-1.25e3, 0.5, true, null, \"x\"]\n}\n";
        // every cut short of the whole (the empty file included)
        for n in 0..whole.trim_end().len() {
            let cut = &whole.as_bytes()[..n];
            let e = serde_json::from_slice::<serde_json::Value>(cut).expect_err("cut");
            let got = ResultsFileError::from_json_error(e, cut);
            assert!(
                matches!(got, ResultsFileError::Truncated { .. }),
                "cut at {n} ({:?}): {got}",
                String::from_utf8_lossy(cut)
            );
        }
        // a wrong byte before the end is not a truncation
        for bad in [
            "{\"a\": 1.x, \"b\": 2}",
            "{\"a\": -, \"b\": 2}",
            "[1e, 2]",
            "{\"a\" 1}",
        ] {
            let e = serde_json::from_slice::<serde_json::Value>(bad.as_bytes()).expect_err("bad");
            let got = ResultsFileError::from_json_error(e, bad.as_bytes());
            assert!(matches!(got, ResultsFileError::NotJson(_)), "{bad}: {got}");
        }
    }

    #[test]
    fn round_trips_throngs_own_histograms() {
        let mut t = throng_metrics::TrendAgg::new();
        for v in [0.5, 12.0, 12.25, 300.0] {
            t.record(v);
        }
        let h = decode_hdr(&encode(&t.hist)).expect("decodes");
        assert_eq!(h.len(), 4);
        assert_eq!(h.max(), t.hist.max());
    }

    #[test]
    fn hostile_headers_are_refused_without_allocating() {
        let mut v = Vec::new();
        v.extend_from_slice(&V2_COOKIE.to_be_bytes());
        v.extend_from_slice(&u32::MAX.to_be_bytes()); // 4 GB of counts announced
        v.extend_from_slice(&[0; 32]);
        let b = base64::engine::general_purpose::STANDARD.encode(&v);
        let e = decode_hdr(&b).expect_err("refused");
        assert!(e.contains("announces 4294967295 bytes"), "{e}");
        // a zero run of i64::MIN would overflow inside the decoder
        let mut v = Vec::new();
        v.extend_from_slice(&V2_COOKIE.to_be_bytes());
        v.extend_from_slice(&9u32.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(&3u32.to_be_bytes());
        v.extend_from_slice(&1u64.to_be_bytes());
        v.extend_from_slice(&2048u64.to_be_bytes());
        v.extend_from_slice(&1.0f64.to_be_bytes());
        v.extend_from_slice(&[0xff; 9]);
        let b = base64::engine::general_purpose::STANDARD.encode(&v);
        let e = decode_hdr(&b).expect_err("refused");
        assert!(e.contains("run of zeros"), "{e}");
        // a lowest value near u64::MAX must not overflow the bounds check
        let mut v = Vec::new();
        v.extend_from_slice(&V2_COOKIE.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(&3u32.to_be_bytes());
        v.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
        v.extend_from_slice(&u64::MAX.to_be_bytes());
        v.extend_from_slice(&1.0f64.to_be_bytes());
        let b = base64::engine::general_purpose::STANDARD.encode(&v);
        let e = decode_hdr(&b).expect_err("refused");
        assert!(e.contains("are not what throng writes"), "{e}");
    }
}
