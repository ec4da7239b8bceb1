//! Number formatting as k6 prints it, and text escaping for the HTML and XML reports.

/// A time in ms: `845µs`, `12.34ms`, `1.23s`, `1m2s`.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "0s".into();
    }
    if ms == 0.0 {
        return "0s".into();
    }
    if ms < 1.0 {
        return format!("{:.2}µs", ms * 1000.0).replace(".00µs", "µs");
    }
    if ms < 1000.0 {
        return format!("{ms:.2}ms");
    }
    let s = ms / 1000.0;
    if s < 60.0 {
        return format!("{s:.2}s");
    }
    let m = (s / 60.0).floor();
    format!("{}m{:.1}s", m as u64, s - m * 60.0)
}

/// A share (0..1) as a percentage with two decimals: `12.34%`.
pub fn format_percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Text escaped for HTML and XML text and double-quoted attributes: `&`, `<`, `>` and `"`.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Bytes with SI units: `512 B`, `12 kB`, `3.4 MB`.
pub fn format_bytes(b: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 || v >= 100.0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// A value by its metric's value type (`time`, `data` or plain).
pub fn format_value(v: f64, contains: throng_metrics::ValueType) -> String {
    match contains {
        throng_metrics::ValueType::Time => format_ms(v),
        throng_metrics::ValueType::Data => format_bytes(v),
        throng_metrics::ValueType::Default => {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v:.2}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_k6() {
        assert_eq!(format_ms(12.345), "12.35ms");
        assert_eq!(format_ms(0.5), "500µs");
        assert_eq!(format_ms(1234.0), "1.23s");
        assert_eq!(format_ms(62_000.0), "1m2.0s");
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(12_345.0), "12.3 kB");
        assert_eq!(format_bytes(3_400_000.0), "3.4 MB");
        assert_eq!(format_percent(0.12345), "12.35%");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_xml(r#"a<b> & "c" 'd'"#),
            "a&lt;b&gt; &amp; &quot;c&quot; 'd'"
        );
        assert_eq!(escape_xml("&amp;"), "&amp;amp;");
    }
}
