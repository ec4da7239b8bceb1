//! Hiding secrets in everything throng writes: command lines, headers, env values, plan text
//! and URLs. One list of words decides what a secret is, so every output agrees.
//!
//! A name is secret when, lower-cased with `_` read as `-`, it contains one of
//! [`SECRET_WORDS`]: `Authorization`, `Proxy-Authorization`, `Cookie`, `X-API-Key`,
//! `X-Auth-Token`, `API_TOKEN`, `DB_PASSWORD`, `client_secret`, ... Its value becomes
//! [`REDACTED`].
use std::borrow::Cow;

/// What a secret value is replaced with.
pub const REDACTED: &str = "***";

/// Words that mark a name (header, env variable, query parameter, YAML key) as secret.
pub const SECRET_WORDS: [&str; 12] = [
    "auth",
    "cookie",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "api-key",
    "apikey",
    "credential",
    "private-key",
    "session",
];

/// Whether a header, env variable, query parameter or YAML key of this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// A header's value as it may be shown: [`REDACTED`] when the header is secret.
pub fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_name(name) {
        REDACTED
    } else {
        value
    }
}

/// One command-line argument with any secret hidden: `Authorization: Bearer x` becomes
/// `Authorization:***`, `API_TOKEN=x` becomes `API_TOKEN=***`, `--header=Cookie: a=b`
/// becomes `--header=***`, and a URL keeps everything but its password and the values of
/// secret query parameters (`?token=x` becomes `?token=***`).
pub fn arg(arg: &str) -> String {
    // database URLs (`throng quick --sql postgres://user:password@...`) carry passwords too
    const DB_SCHEMES: [&str; 4] = ["postgres://", "postgresql://", "redis://", "rediss://"];
    if crate::has_http_scheme(arg) || DB_SCHEMES.iter().any(|s| arg.starts_with(s)) {
        return url(arg).into_owned();
    }
    if !is_secret_name(arg) {
        // a database URL (`postgres://u:pw@h/db`), alone or as `PG_URL=postgres://…`
        return match arg.split_once('=') {
            Some((k, v)) if !k.contains("://") && v.contains("://") => format!("{k}={}", url(v)),
            _ if arg.contains("://") => url(arg).into_owned(),
            _ => arg.to_string(),
        };
    }
    match arg.find([':', '=']) {
        Some(i) => format!("{}{REDACTED}", &arg[..=i]),
        None => REDACTED.to_string(),
    }
}

/// A URL with its password and the values of secret query parameters hidden.
pub fn url(u: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(u.len());
    let mut changed = false;
    // userinfo: scheme://user:password@host
    let (head, rest) = match u.find("://") {
        Some(i) => u.split_at(i + 3),
        None => ("", u),
    };
    out.push_str(head);
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(REDACTED);
                    changed = true;
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    // query: ?a=1&token=x#frag
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let (query, frag) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, _)) if is_secret_name(k) => {
                        out.push_str(k);
                        out.push('=');
                        out.push_str(REDACTED);
                        changed = true;
                    }
                    _ => out.push_str(pair),
                }
            }
            if let Some(f) = frag {
                out.push('#');
                out.push_str(f);
            }
        }
        None => out.push_str(tail),
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(u)
    }
}

/// Splits a command line as a POSIX shell would for the quoting throng writes (single and
/// double quotes, backslash escapes).
fn shell_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// A whole command line (as shown in reports) with every secret argument hidden. The
/// argument after `-H`/`--header`/`-e`/`--env` is judged by its own name; arguments with a
/// space are single-quoted again.
pub fn command_line(cmd: &str) -> String {
    shell_words(cmd)
        .iter()
        .map(|w| {
            let r = arg(w);
            if r.contains([' ', '\'', '"']) {
                format!("'{}'", r.replace('\'', r"'\''"))
            } else {
                r
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with every occurrence of each of `secrets` (values known to be secret whatever
/// their name, such as an env value used as a signing key) replaced by [`REDACTED`].
pub fn values(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

/// Plan text (YAML) with the value of every secret-named key hidden: a line
/// `  Authorization: "Bearer x"` becomes `  Authorization: "***"`. Keys may be quoted.
pub fn yaml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let indent = body.len() - body.trim_start().len();
        let item = body[indent..].strip_prefix("- ").unwrap_or(&body[indent..]);
        let prefix_len = body.len() - item.len();
        let key_end = if let Some(q) = item.strip_prefix('"') {
            q.find('"').map(|i| i + 2)
        } else if let Some(q) = item.strip_prefix('\'') {
            q.find('\'').map(|i| i + 2)
        } else {
            item.find(':')
        };
        let redacted = key_end.and_then(|k| {
            let key = item[..k].trim_matches(['"', '\'']);
            let rest = &item[k..];
            let value = rest.strip_prefix(':')?;
            let value = value.trim();
            if value.is_empty() || value.starts_with('#') || !is_secret_name(key) {
                return None;
            }
            Some(format!(
                "{}{}: \"{REDACTED}\"",
                &body[..prefix_len],
                &item[..k]
            ))
        });
        match redacted {
            Some(r) => {
                out.push_str(&r);
                out.push_str(ending);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Known secret values, to scrub from free text (an error message, a debug line) where no
/// name says what is secret. Values shorter than 4 characters are not collected: they would
/// match innocent text.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// No known secrets.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Collects the value of `name` if the name is secret: the whole value, and for
    /// `Authorization`-style values (`Bearer x`) and cookies (`a=x; b=y`) each part.
    pub fn add_named(&mut self, name: &str, value: &str) {
        if !is_secret_name(name) {
            return;
        }
        self.add(value);
        if let Some((_, cred)) = value.trim().split_once(' ') {
            self.add(cred);
        }
        for part in value.split(';') {
            if let Some((_, v)) = part.split_once('=') {
                self.add(v);
            }
        }
    }

    /// Collects a secret value.
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.chars().count() >= 4 && !self.values.iter().any(|x| x == v) {
            self.values.push(v.to_string());
            // longest first, so a value containing another is replaced whole
            self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Whether no secret is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every known secret value replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.values.iter().any(|v| text.contains(v.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "Authorization",
            "Proxy-Authorization",
            "Cookie",
            "X-API-Key",
            "x_api_key",
            "X-Auth-Token",
            "API_TOKEN",
            "PASSWORD",
            "db_passwd",
            "client_secret",
            "X-Session-Id",
            "AWS_CREDENTIALS",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "Content-Type",
            "Accept",
            "URL",
            "USERS",
            "X-Request-Id",
            "Host",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        assert_eq!(header_value("Cookie", "a=b"), REDACTED);
        assert_eq!(header_value("Accept", "*/*"), "*/*");
    }

    #[test]
    fn args_as_the_cli_had_them() {
        assert_eq!(arg("Authorization: Bearer abc"), "Authorization:***");
        assert_eq!(arg("X-API-KEY: k"), "X-API-KEY:***");
        assert_eq!(arg("API_TOKEN=xyz"), "API_TOKEN=***");
        assert_eq!(arg("Cookie: sid=1"), "Cookie:***");
        assert_eq!(arg("--header=Cookie: sid=1"), "--header=***");
        assert_eq!(
            arg("PG_URL=postgres://app:s3cret@127.0.0.1:5432/app"),
            "PG_URL=postgres://app:***@127.0.0.1:5432/app"
        );
        assert_eq!(arg("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert_eq!(
            arg("db.mon=postgres://u@h/db?x=a=b"),
            "db.mon=postgres://u@h/db?x=a=b"
        );
        assert_eq!(arg("PASSWORD"), "***");
        assert_eq!(arg("--summary-export"), "--summary-export");
        assert_eq!(arg("URL=http://127.0.0.1/x"), "URL=http://127.0.0.1/x");
        assert_eq!(arg("http://127.0.0.1/x"), "http://127.0.0.1/x");
        assert!(!arg("postgres://app:pw1@127.0.0.1:5432/db").contains("pw1"));
        assert!(!arg("redis://:pw2@127.0.0.1:6379").contains("pw2"));
    }

    #[test]
    fn urls_lose_passwords_and_secret_params() {
        assert_eq!(
            url("https://u:pw@h.example:8443/a?x=1&api_key=K&token=T#f"),
            "https://u:***@h.example:8443/a?x=1&api_key=***&token=***#f"
        );
        assert_eq!(url("http://h/p?q=1"), "http://h/p?q=1");
        assert!(matches!(url("http://h/p?q=1"), Cow::Borrowed(_)));
        assert_eq!(url("http://user@h/"), "http://user@h/");
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            command_line(
                "throng quick http://h/ -H 'Cookie: sid=abc' -H Authorization:*** -e PASSWORD=pw -e URL=x"
            ),
            "throng quick http://h/ -H Cookie:*** -H Authorization:*** -e PASSWORD=*** -e URL=x"
        );
        assert_eq!(
            command_line("throng run p.yaml --html 'my report.html'"),
            "throng run p.yaml --html 'my report.html'"
        );
        assert_eq!(
            command_line(r#"a "X-Token: q w" b\ c"#),
            "a X-Token:*** 'b c'"
        );
    }

    #[test]
    fn yaml_keys() {
        let y = "defaults:\n  headers:\n    Authorization: \"Bearer x\"\n    \"X-API-Key\": 'k'\n    Accept: json\n  password:\n    - token: abc\nurl: http://h\n";
        assert_eq!(
            yaml(y),
            "defaults:\n  headers:\n    Authorization: \"***\"\n    \"X-API-Key\": \"***\"\n    Accept: json\n  password:\n    - token: \"***\"\nurl: http://h\n"
        );
    }

    #[test]
    fn scrubbing_known_values() {
        let mut s = Secrets::new();
        s.add_named("Authorization", "Bearer abcdef");
        s.add_named("Cookie", "sid=s3ss10n; theme=dark");
        s.add_named("Accept", "application/json");
        s.add("pw");
        assert_eq!(
            s.scrub("sent Bearer abcdef and abcdef, sid=s3ss10n, theme=dark, pw, application/json"),
            "sent *** and ***, sid=***, ***, pw, application/json"
        );
        assert!(matches!(s.scrub("nothing"), Cow::Borrowed(_)));
        assert!(Secrets::new().is_empty());
    }

    #[test]
    fn secret_values_are_hidden_wherever_they_appear() {
        let secrets = vec!["k3y-value".to_string(), String::new()];
        assert_eq!(
            values(
                "throng run p.yaml -e SIGNING=k3y-value -e X=k3y-value2",
                &secrets
            ),
            "throng run p.yaml -e SIGNING=*** -e X=***2"
        );
        assert_eq!(values("nothing here", &secrets), "nothing here");
    }
}
