//! The JSON paths of checks and extracts (`$.items[0].id`). Every path is compiled by
//! `serde_json_path` (RFC 9535) and can be queried on a parsed document; a path of names
//! and non-negative indexes only (`$.a.b[0]`, `$['a b']`, the common case) can also be
//! answered by [`JsonQuery::scan_text`] and [`JsonQuery::scan_value`] straight from the
//! body's bytes, without building the document: the body is still parsed whole by
//! serde_json (so a body that is not JSON matches nothing, exactly as with the full
//! parse), but only the matched value is kept.
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;
use std::fmt::{self, Write as _};

/// A compiled JSON path, with its simple form when it has one.
#[derive(Debug, Clone)]
pub struct JsonQuery {
    path: JsonPath,
    simple: Option<Box<[Seg]>>,
}

/// One step of a simple path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    /// A member of an object.
    Name(String),
    /// An element of an array (from the start).
    Index(usize),
}

impl JsonQuery {
    /// Compiles `text` (RFC 9535 JSONPath).
    pub fn parse(text: &str) -> Result<JsonQuery, serde_json_path::ParseError> {
        let path = JsonPath::parse(text)?;
        Ok(JsonQuery {
            path,
            simple: simple_path(text),
        })
    }

    /// The first node the path selects in `doc`.
    pub fn first<'b>(&self, doc: &'b Value) -> Option<&'b Value> {
        self.path.query(doc).first()
    }

    /// Whether the path is simple enough for [`JsonQuery::scan_text`] and
    /// [`JsonQuery::scan_value`].
    pub fn is_simple(&self) -> bool {
        self.simple.is_some()
    }

    /// Writes the first node the path selects in the JSON document `raw` into `out`
    /// (replacing its text) as an extract reads it: a string unquoted, any other value as
    /// compact JSON. `None` when the path is not simple; `Some(false)` when nothing
    /// matches or `raw` is not JSON (`out` is then left unspecified).
    pub fn scan_text(&self, raw: &[u8], out: &mut String) -> Option<bool> {
        let segs = self.simple.as_deref()?;
        let mut leaf = TextLeaf(out);
        Some(scan(raw, segs, &mut leaf))
    }

    /// The first node the path selects in the JSON document `raw`, as a value. `None` when
    /// the path is not simple; `Some(None)` when nothing matches or `raw` is not JSON.
    pub fn scan_value(&self, raw: &[u8]) -> Option<Option<Value>> {
        let segs = self.simple.as_deref()?;
        let mut leaf = ValueLeaf(None);
        Some(scan(raw, segs, &mut leaf).then_some(leaf.0).flatten())
    }
}

impl fmt::Display for JsonQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.path.fmt(f)
    }
}

/// The simple form of `text`: `$` followed by `.name` (ASCII letters, digits and `_`, not
/// starting with a digit), `['name']` / `["name"]` (no escapes) and `[n]` (n ≥ 0, no
/// leading zero), with no spaces. Anything else (wildcards, slices, filters, negative
/// indexes, descendants, escapes) is left to the full path.
fn simple_path(text: &str) -> Option<Box<[Seg]>> {
    let mut rest = text.strip_prefix('$')?;
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            segs.push(Seg::Name(name.to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = &r[..close];
            let quoted = |q: char| {
                inner
                    .strip_prefix(q)
                    .and_then(|s| s.strip_suffix(q))
                    .filter(|s| !s.contains(['\\', '\'', '"']))
            };
            if let Some(name) = quoted('\'').or_else(|| quoted('"')) {
                segs.push(Seg::Name(name.to_string()));
            } else if !inner.is_empty()
                && inner.len() <= 15
                && inner.bytes().all(|b| b.is_ascii_digit())
                && (inner == "0" || !inner.starts_with('0'))
            {
                segs.push(Seg::Index(inner.parse().ok()?));
            } else {
                return None;
            }
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(segs.into_boxed_slice())
}

/// Parses `raw` whole, giving the value at `segs` to `leaf`; whether it was found (and
/// `raw` is JSON).
fn scan<L: Leaf>(raw: &[u8], segs: &[Seg], leaf: &mut L) -> bool {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let mut found = false;
    let walk = Walk {
        segs,
        leaf,
        found: &mut found,
    };
    walk.deserialize(&mut de).is_ok() && de.end().is_ok() && found
}

/// What keeps the matched value.
trait Leaf {
    /// Reads the matched value from `d`.
    fn take<'de, D: Deserializer<'de>>(&mut self, d: D) -> Result<(), D::Error>;
}

/// Keeps the matched value as a [`Value`].
struct ValueLeaf(Option<Value>);

impl Leaf for ValueLeaf {
    fn take<'de, D: Deserializer<'de>>(&mut self, d: D) -> Result<(), D::Error> {
        self.0 = Some(Value::deserialize(d)?);
        Ok(())
    }
}

/// Writes the matched value as an extract's text into a reused string.
struct TextLeaf<'a>(&'a mut String);

impl Leaf for TextLeaf<'_> {
    fn take<'de, D: Deserializer<'de>>(&mut self, d: D) -> Result<(), D::Error> {
        self.0.clear();
        d.deserialize_any(TextVisitor(self.0))
    }
}

/// Writes a value as text: a string as it is, integers as digits, anything else as
/// serde_json prints its [`Value`].
struct TextVisitor<'a>(&'a mut String);

impl TextVisitor<'_> {
    fn json(self, v: Value) {
        let _ = write!(self.0, "{v}");
    }
}

impl<'de> Visitor<'de> for TextVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.json(Value::from(v));
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push_str("null");
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        self.json(v);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        self.json(v);
        Ok(())
    }
}

/// Follows `segs` down a document, validating everything it passes over.
struct Walk<'a, L> {
    segs: &'a [Seg],
    leaf: &'a mut L,
    found: &'a mut bool,
}

impl<'de, L: Leaf> DeserializeSeed<'de> for Walk<'_, L> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.segs.is_empty() {
            self.leaf.take(d)?;
            *self.found = true;
            Ok(())
        } else {
            d.deserialize_any(self)
        }
    }
}

/// The scalar arms of a visitor that only walks past a value: each is accepted as it is.
macro_rules! skip_scalars {
    () => {
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    };
}

impl<'de, L: Leaf> Visitor<'de> for Walk<'_, L> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (Some(Seg::Name(name)), rest) = (self.segs.first(), &self.segs[1..]) else {
            return Skip.visit_map(map);
        };
        while let Some(is_it) = map.next_key_seed(KeyIs(name))? {
            if is_it {
                // a later duplicate key wins, as in a parsed document
                *self.found = false;
                map.next_value_seed(Walk {
                    segs: rest,
                    leaf: &mut *self.leaf,
                    found: &mut *self.found,
                })?;
            } else {
                map.next_value_seed(Skip)?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (Some(Seg::Index(n)), rest) = (self.segs.first(), &self.segs[1..]) else {
            return Skip.visit_seq(seq);
        };
        let mut i = 0usize;
        loop {
            let more = if i == *n {
                seq.next_element_seed(Walk {
                    segs: rest,
                    leaf: &mut *self.leaf,
                    found: &mut *self.found,
                })?
            } else {
                seq.next_element_seed(Skip)?
            };
            if more.is_none() {
                return Ok(());
            }
            i = i.saturating_add(1);
        }
    }
    skip_scalars!();
}

/// Whether a map key is this name (compared after unescaping, without allocating).
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// Passes over a value, parsing it as fully as building a [`Value`] would (strings
/// unescaped and checked, numbers in range) — unlike `IgnoredAny`, which serde_json
/// skips more leniently — so a scan accepts exactly the documents a full parse does.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(KeyIs(""))?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    skip_scalars!();
}

#[cfg(test)]
mod tests;
