//! Inputs the `results_json` fuzz target (fuzz/fuzz_targets/results_json.rs) found, minimized:
//! each must be refused with an error or read, never panic.
use throng_report::Results;

/// Reads `bytes` as `throng report` does and renders the summary if they load.
fn read(bytes: &[u8]) {
    if let Ok(r) = Results::from_json(bytes) {
        let _ = throng_report::render_summary(&r, false);
    }
}

/// A series whose histogram header announces a lowest trackable value near `u64::MAX`:
/// `2 * low` in the bounds check of `decode_hdr` (validate.rs) overflowed (fixed in 9436a13).
#[test]
fn hdr_with_huge_lowest_value_is_refused() {
    let input = br#"{"series":[{"hdr":"HISTFAAAAEJ4nC3GsQ3AIAwAQefjyIqSLopokBCTeCZ2YAPmYDdGoIBv7mNtn4gkWZ6bY4uPNc7PraAXpoZB4CHjFPrLBKdkBOY=","metric":"","tags":{},"value":0}]}"#;
    read(input);
}
