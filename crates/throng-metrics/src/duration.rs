//! Durations as k6 writes them (`500ms`, `10s`, `1m30s`, `1.5h`; `0` alone is zero): the
//! one grammar that plans, CLI flags and the demo target's settings read, and the way
//! throng prints them back.
use std::time::Duration;

/// Parses a k6 duration string. `0` alone means zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() {
        return Err("expected a duration like `10s`, `500ms` or `1m30s`".into());
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{t}` has a number without a unit (use ms, s, m or h)"))?;
        if num_end == 0 {
            return Err(format!(
                "`{t}` is not a duration: expected something like `10s`, `500ms` or `1m30s`"
            ));
        }
        let n: f64 = rest[..num_end]
            .parse()
            .map_err(|_| format!("`{}` is not a number", &rest[..num_end]))?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            u => {
                return Err(format!(
                    "unknown duration unit `{u}` in `{t}` (use ms, s, m or h)"
                ))
            }
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > 1e9 {
        return Err(format!("`{t}` is too long"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a duration the way k6 prints it (`1m30s`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let total_s = d.as_secs_f64();
    let h = (total_s / 3600.0).floor() as u64;
    let m = ((total_s % 3600.0) / 60.0).floor() as u64;
    let s = total_s % 60.0;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0.0005 || out.is_empty() {
        if (s - s.round()).abs() < 0.0005 {
            out.push_str(&format!("{}s", s.round() as u64));
        } else {
            out.push_str(&format!("{s:.1}s"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "10", "s", "10x", "1m-3s", "abc", ".s", "1e3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("99999999999h").is_err());
    }

    #[test]
    fn prints_as_k6_does_and_reads_back() {
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        for d in ["1h2m3s", "250ms", "30s", "0s", "1.5s"] {
            let parsed = parse_duration(d).unwrap_or_default();
            assert_eq!(format_duration(parsed), d);
        }
    }
}
