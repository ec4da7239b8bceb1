//! The scan answers exactly what the full parse and path query answer.
use super::*;

/// What an extract reads with the full parse: the text of the first node, or `None`.
fn slow_text(q: &JsonQuery, raw: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(raw).ok()?;
    q.first(&doc).map(|n| match n {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn slow_value(q: &JsonQuery, raw: &[u8]) -> Option<Value> {
    let doc: Value = serde_json::from_slice(raw).ok()?;
    q.first(&doc).cloned()
}

const BODIES: &[&str] = &[
    r#"{"id":1,"status":"ok"}"#,
    r#"{"id":"a\"b\\c\u00e9\n\u0001","status":"ok"}"#,
    r#"{"id":-7,"n":1.5,"big":18446744073709551615,"neg":-9223372036854775808,"e":1e20,"z":-0,"f":0.1}"#,
    r#"{"id":true,"t":false,"nul":null}"#,
    r#"{"id":{"b":2,"a":[1,{"x":"y"}]},"items":[{"id":10},{"id":"twenty"},[3]]}"#,
    r#"{"items":[],"id":[]}"#,
    r#"{"id":1,"id":2}"#,
    r#"{"a":{"b":1},"a":{"c":2}}"#,
    r#"{"a":{"b":1},"a":{"b":3}}"#,
    r#"{"a b":1,"a\u0020b":2,"\u0069d":"escaped key"}"#,
    r#"  {"id" : 1 }  "#,
    r#"{"id":1} x"#,
    r#"{"id":1,"#,
    r#"{"id":1,"s":"\ud800"}"#,
    r#"{"id":1,"n":1e400}"#,
    "{\"id\":1,\"s\":\"\u{7f}\u{10ffff}\"}",
    r#"[{"id":1},{"id":2}]"#,
    r#"[[0,1,2],[3,4,5]]"#,
    r#""just a string""#,
    r#"42"#,
    r#"null"#,
    r#""#,
    r#"not json"#,
    r#"{"items":[{"id":1},{"id":2}],"meta":{"next":{"page":2,"cursor":"c-2"}}}"#,
    r#"{"id":"\u00e9\ud83d\ude00"}"#,
];

const PATHS: &[&str] = &[
    "$",
    "$.id",
    "$.status",
    "$.n",
    "$.big",
    "$.neg",
    "$.e",
    "$.z",
    "$.f",
    "$.t",
    "$.nul",
    "$.missing",
    "$.id.b",
    "$.id.a[1].x",
    "$.id.a[0]",
    "$.id.a[5]",
    "$.items[0].id",
    "$.items[1].id",
    "$.items[2][0]",
    "$.items[2].id",
    "$.a.b",
    "$.a.c",
    "$['a b']",
    "$[\"a b\"]",
    "$[0]",
    "$[1].id",
    "$[1][2]",
    "$.meta.next.cursor",
    "$.meta.next",
    "$.s",
    // not simple: the full path answers
    "$[-1]",
    "$..id",
    "$.items[*].id",
    "$.items[0:1]",
    "$[?@.id==1]",
    "$ .id",
    "$.items[ 0 ]",
    "$['a\\u0020b']",
];

#[test]
fn scans_answer_as_the_full_parse_does() {
    let mut simple = 0;
    for p in PATHS {
        let q = JsonQuery::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        for b in BODIES {
            let raw = b.as_bytes();
            let mut out = String::from("stale");
            match q.scan_text(raw, &mut out) {
                None => assert!(!q.is_simple(), "{p}"),
                Some(found) => {
                    simple += 1;
                    let fast = found.then_some(out);
                    assert_eq!(fast, slow_text(&q, raw), "{p} on {b}");
                    assert_eq!(q.scan_value(raw), Some(slow_value(&q, raw)), "{p} on {b}");
                }
            }
        }
    }
    // every simple path above was tried on every body
    assert_eq!(simple, 30 * BODIES.len());
}

#[test]
fn only_plain_names_and_indexes_are_simple() {
    let simple = |p: &str| JsonQuery::parse(p).map(|q| q.is_simple()).ok();
    assert_eq!(simple("$.a.b_c[0][12]['x y']"), Some(true));
    assert_eq!(simple("$"), Some(true));
    for p in [
        "$[-1]",
        "$..a",
        "$.*",
        "$[0,1]",
        "$[01]",
        "$['a\\'b']",
        "$.a[?@.b]",
    ] {
        assert_ne!(simple(p), Some(true), "{p}");
    }
    let q = JsonQuery::parse("$['a']").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.simple.as_deref(), Some(&[Seg::Name("a".into())][..]));
}
