//! A small parser of Prometheus' text exposition format (version 0.0.4): `# TYPE` lines,
//! samples `name{label="value",...} value [timestamp]`. A malformed line is an error naming
//! its line number, never a panic.

/// A metric family's type from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    /// `counter`
    Counter,
    /// `gauge` (and `untyped`, or no `# TYPE` line)
    Gauge,
    /// `histogram`
    Histogram,
    /// `summary`
    Summary,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (`demo_requests_total`, `x_bucket`).
    pub name: String,
    /// Its labels in written order.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// Family types by family name.
    pub types: Vec<(String, FamilyType)>,
    /// Every sample, in order.
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The type of a family (`Gauge` when undeclared).
    pub fn type_of(&self, family: &str) -> FamilyType {
        self.types
            .iter()
            .find(|(n, _)| n == family)
            .map(|(_, t)| *t)
            .unwrap_or(FamilyType::Gauge)
    }
}

/// Parses an exposition; the error names the first malformed line.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            let mut w = c.split_whitespace();
            if w.next() == Some("TYPE") {
                let (Some(name), Some(t)) = (w.next(), w.next()) else {
                    return Err(format!("line {}: malformed # TYPE line {line:?}", i + 1));
                };
                let t = match t {
                    "counter" => FamilyType::Counter,
                    "histogram" => FamilyType::Histogram,
                    "summary" => FamilyType::Summary,
                    "gauge" | "untyped" => FamilyType::Gauge,
                    other => return Err(format!("line {}: unknown metric type {other:?}", i + 1)),
                };
                out.types.push((name.to_string(), t));
            }
            continue;
        }
        out.samples
            .push(sample(line).map_err(|e| format!("line {}: {e}: {line:?}", i + 1))?);
    }
    Ok(out)
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or("a sample without a value")?;
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut r = r;
        loop {
            r = r.trim_start_matches([' ', ',']);
            if let Some(after) = r.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = r.find('=').ok_or("a label without `=`")?;
            let key = r[..eq].trim();
            if !valid_name(key) {
                return Err(format!("invalid label name {key:?}"));
            }
            let v = r[eq + 1..].trim_start();
            let v = v.strip_prefix('"').ok_or("a label value without quotes")?;
            let mut val = String::new();
            let mut chars = v.char_indices();
            let mut end = None;
            while let Some((j, ch)) = chars.next() {
                match ch {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => val.push('\n'),
                        Some((_, c)) => val.push(c),
                        None => break,
                    },
                    '"' => {
                        end = Some(j);
                        break;
                    }
                    c => val.push(c),
                }
            }
            let end = end.ok_or("an unterminated label value")?;
            labels.push((key.to_string(), val));
            r = &v[end + 1..];
        }
    }
    let mut w = rest.split_whitespace();
    let v = w.next().ok_or("a sample without a value")?;
    let value = match v {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v
            .parse::<f64>()
            .map_err(|_| format!("invalid value {v:?}"))?,
    };
    if let Some(ts) = w.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("invalid timestamp {ts:?}"))?;
    }
    if w.next().is_some() {
        return Err("extra text after the value".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_families_and_labels() {
        let e = parse(
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{route=\"/a\",status=\"200\"} 3\nx_total{route=\"/b\\\"q\",status=\"500\"} 4 1700000000000\n\n# TYPE g gauge\ng 1.5e3\nup NaN\n",
        )
        .expect("parse");
        assert_eq!(e.type_of("x_total"), FamilyType::Counter);
        assert_eq!(e.type_of("up"), FamilyType::Gauge);
        assert_eq!(e.samples.len(), 4);
        assert_eq!(e.samples[1].labels[0].1, "/b\"q");
        assert_eq!(e.samples[2].value, 1500.0);
        assert!(e.samples[3].value.is_nan());
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "x{a=\"1\" 2",
            "x 1 2 3",
            "x abc",
            "9x 1",
            "x{a=1} 2",
            "x",
            "# TYPE x weird",
        ] {
            let e = parse(&format!("ok 1\n{bad}\n")).expect_err(bad);
            assert!(e.starts_with("line 2:"), "{bad}: {e}");
        }
    }
}
