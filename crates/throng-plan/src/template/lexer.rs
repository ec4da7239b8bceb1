//! Splits an expression (the text between `{{` and `}}`) into tokens.

/// One token with its byte offset in the expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A name, dots included: `vu`, `env.HOST`, `users.address.city`, `fake.name`.
    Ident(String),
    /// A quoted string, escapes resolved.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// Punctuation and operators: `( ) { } , : | ! == != < <= > >= && ||`.
    Op(&'static str),
}

const OPS: [&str; 16] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "{", "}", ",", ":", "|",
];

/// The tokens of `src`, each with its offset, or a message naming the offending character.
pub(super) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            let (s, next) = string(src, i)?;
            out.push((Tok::Str(s), i));
            i = next;
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
            let tok = if text.contains('.') {
                Tok::Float(
                    text.parse()
                        .map_err(|_| format!("`{text}` is not a number"))?,
                )
            } else {
                Tok::Int(
                    text.parse()
                        .map_err(|_| format!("`{text}` is not an integer (too large?)"))?,
                )
            };
            out.push((tok, start));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start));
        } else if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            out.push((Tok::Op(op), i));
            i += op.len();
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected `{ch}` at column {}", i + 1));
        }
    }
    Ok(out)
}

/// A quoted string starting at `start`; returns its value and the offset after it.
fn string(src: &str, start: usize) -> Result<(String, usize), String> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((j, ch)) = chars.next() {
        match ch {
            c if c == quote => return Ok((out, start + 1 + j + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, c)) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(format!("unclosed string: expected a closing {quote}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t: Vec<Tok> = lex("f('a,b', -3, 2.5) | default(\"x\\\"y\") == users.a.b && !x")
            .expect("lexes")
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            t,
            vec![
                Tok::Ident("f".into()),
                Tok::Op("("),
                Tok::Str("a,b".into()),
                Tok::Op(","),
                Tok::Int(-3),
                Tok::Op(","),
                Tok::Float(2.5),
                Tok::Op(")"),
                Tok::Op("|"),
                Tok::Ident("default".into()),
                Tok::Op("("),
                Tok::Str("x\"y".into()),
                Tok::Op(")"),
                Tok::Op("=="),
                Tok::Ident("users.a.b".into()),
                Tok::Op("&&"),
                Tok::Op("!"),
                Tok::Ident("x".into()),
            ]
        );
        assert!(lex("'open").expect_err("unclosed").contains("unclosed"));
        assert!(lex("a # b").expect_err("bad").contains("`#`"));
    }
}
