//! Durations as k6 writes them (the grammar lives in [`throng_metrics::duration`]), and the
//! plan's `1s..3s` ranges.
use std::time::Duration;

pub use throng_metrics::duration::{format_duration, parse_duration};

/// Parses `1s` or a range `1s..3s` into `(min, max)`.
pub fn parse_duration_range(s: &str) -> Result<(Duration, Duration), String> {
    match s.split_once("..") {
        Some((a, b)) => {
            let a = parse_duration(a)?;
            let b = parse_duration(b)?;
            if b < a {
                return Err(format!("range `{s}` ends before it starts"));
            }
            Ok((a, b))
        }
        None => {
            let d = parse_duration(s)?;
            Ok((d, d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            parse_duration_range("1s..3s"),
            Ok((Duration::from_secs(1), Duration::from_secs(3)))
        );
        assert!(parse_duration_range("3s..1s").is_err());
    }
}
