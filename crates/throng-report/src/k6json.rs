//! What k6's JSON outputs share: numbers written the way Go writes a float64 (an integral
//! value has no `.0`: `"count": 20`), group and check ids (the MD5 of their path), and the
//! trend stats k6 shows by default (`summaryTrendStats`).
use md5::{Digest, Md5};
use serde_json::{json, Value};

/// k6's default `summaryTrendStats`.
pub const TREND_STATS: [&str; 6] = ["avg", "min", "med", "max", "p(90)", "p(95)"];

/// A number as k6 (Go's encoding/json) writes it: integral values as integers.
pub fn num(v: f64) -> Value {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// A group's or check's id: the hex MD5 of its path (`::g::status is 200`).
pub fn id(path: &str) -> String {
    let digest = Md5::digest(path.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ids_are_written_as_k6_writes_them() {
        assert_eq!(num(20.0).to_string(), "20");
        assert_eq!(num(0.0).to_string(), "0");
        assert_eq!(num(0.5).to_string(), "0.5");
        assert_eq!(num(f64::NAN), Value::Null);
        // ids k6 v1.1 wrote for these paths
        assert_eq!(id(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(id("::g"), "652e756c89643c3ada0b451cbd88a9d3");
        assert_eq!(id("::g::status is 200"), "d1cc53a149f48055634317bd5e6c281c");
    }
}
