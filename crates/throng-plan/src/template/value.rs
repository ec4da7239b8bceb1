//! The values expressions produce, how they print, compare and count as true.
use std::borrow::Cow;
use std::fmt::Write as _;

/// A value of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A map or list (inline maps, JSON).
    Json(serde_json::Value),
}

impl Val {
    /// Appends the value as text: strings as they are, maps as JSON, null as nothing.
    pub(crate) fn write_text(&self, out: &mut String) {
        match self {
            Val::Null => {}
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Int(i) => push_int(out, *i),
            Val::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Val::Str(s) => out.push_str(s),
            Val::Json(v) => {
                let _ = write!(out, "{v}");
            }
        }
    }

    /// The value as text.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Val::Str(s) => Cow::Borrowed(s),
            other => {
                let mut s = String::new();
                other.write_text(&mut s);
                Cow::Owned(s)
            }
        }
    }

    /// Appends the value as a whole JSON value: strings quoted, numbers and booleans bare.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("null"),
            Val::Str(s) => {
                out.push('"');
                push_json_escaped(out, s);
                out.push('"');
            }
            Val::Float(f) if !f.is_finite() => out.push_str("null"),
            other => other.write_text(out),
        }
    }

    /// The value as JSON (claims of a token, an entry of a map).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Null => serde_json::Value::Null,
            Val::Bool(b) => (*b).into(),
            Val::Int(i) => (*i).into(),
            Val::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Val::Str(s) => s.clone().into(),
            Val::Json(v) => v.clone(),
        }
    }

    /// A JSON value as a template value.
    pub(crate) fn from_json(v: serde_json::Value) -> Val {
        match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Val::Str(s),
            other => Val::Json(other),
        }
    }

    /// The value as a number, when it is one or is text that reads as one.
    pub(crate) fn number(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as an integer, when it is one or is text that reads as one.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether the value counts as true: everything but null, false, 0 and the texts
    /// "", "false", "0" and "null".
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => text_truthy(s),
            Val::Json(_) => true,
        }
    }

    /// Whether the value is empty (null or ""), for the `default` filter.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Val::Null) || matches!(self, Val::Str(s) if s.is_empty())
    }
}

/// Whether rendered text counts as true: all but "", "false", "0" and "null".
pub(crate) fn text_truthy(s: &str) -> bool {
    !matches!(s.trim(), "" | "false" | "0" | "null")
}

/// Appends an integer in decimal (as `{}` prints it, without the formatting machinery).
pub(crate) fn push_int(out: &mut String, v: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends `s` escaped for the inside of a JSON string, without allocating.
pub(crate) fn push_json_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness() {
        for s in ["", "false", "0", "null"] {
            assert!(!Val::Str(s.into()).truthy());
        }
        assert!(Val::Str("x".into()).truthy());
    }

    #[test]
    fn escapes_like_serde_json() {
        for s in ["plain", "q\"b\\s\n\t\r\u{1}é"] {
            let mut out = String::new();
            push_json_escaped(&mut out, s);
            let back: String = serde_json::from_str(&format!("\"{out}\"")).expect("valid");
            assert_eq!(back, s);
        }
    }
}
