//! The request template language: `{{ expr }}` in strings, compiled once at plan load and
//! rendered into a reused buffer.
//!
//! An expression is a literal (`'text'`, `"text"`, `42`, `2.5`, `true`, `null`), a name
//! (`vu`, `iter`, `scenario`, `seq`, `uuid`, `now`, `timestamp_ms`, `unix`, `env.NAME`,
//! `<data>.<field>` with nested JSON fields as `users.address.city`, or an extracted
//! variable, whose full name wins: `vu.token`, `setup.id`), a call `f(a, b)` (see
//! [`functions`]: random values, JWTs, digests, encodings, time, `fake.*`), an inline map
//! `{sub: seq, exp: now_plus('1h')}`, a filter `x | default('5m')`, `x | string`,
//! `x | json`, or a comparison or logic `== != < <= > >= && || !` (also `and`, `or`, `not`)
//! giving `true`/`false`; numbers compare as numbers.
//!
//! Names, fields and variables render without allocating; everything else is evaluated
//! to a value ([`value`]) first. The modules follow the pipeline: [`lexer`] → [`parser`] →
//! [`eval`] (names bound at compile time, evaluation at render time).
mod eval;
mod faker;
mod functions;
mod lexer;
mod parser;
mod value;

use eval::{eval, resolve, Expr, Name};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use value::{push_json_escaped, text_truthy, Val};

/// Reads a file a template names (`jwt_rs256`'s PEM), relative to the plan's folder.
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// What names a template may use, known at plan load.
pub struct Scope<'a> {
    /// `-e` and plan env values.
    pub env: &'a BTreeMap<String, String>,
    /// Data sources: name and field names (nested JSON fields as `a.b`).
    pub data: &'a [(String, Vec<String>)],
    /// Variables extracted somewhere in the scenario's flow.
    pub vars: &'a [String],
    /// How files named by templates are read (none: `jwt_rs256` is an error).
    pub read_file: Option<ReadFile<'a>>,
}

impl<'a> Scope<'a> {
    /// A scope of env values, data sources and variables that reads no files.
    pub fn new(
        env: &'a BTreeMap<String, String>,
        data: &'a [(String, Vec<String>)],
        vars: &'a [String],
    ) -> Scope<'a> {
        Scope {
            env,
            data,
            vars,
            read_file: None,
        }
    }
}

/// A compile error: byte offset within the template text and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    /// Byte offset of the offending expression in the template text.
    pub offset: usize,
    /// The expression as written.
    pub expr: String,
    /// What is wrong and what was expected.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Lit(String),
    Name(Name),
    Expr(Box<Expr>),
}

/// How a value is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// As text.
    Plain,
    /// Escaped for the inside of a JSON string.
    JsonStr,
    /// As a whole JSON value: numbers and booleans bare, text quoted.
    JsonValue,
}

#[derive(Debug, Clone, PartialEq)]
struct Part {
    seg: Seg,
    mode: Mode,
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    parts: Vec<Part>,
}

/// Everything a render may read. Built per iteration by the workload, borrowed per render.
pub struct RenderCtx<'a> {
    /// 1-based VU number.
    pub vu: u64,
    /// 0-based iteration of this VU in this scenario.
    pub iter: u64,
    /// Scenario name.
    pub scenario: &'a str,
    /// The current row of each data source (by index), if one was picked.
    pub rows: &'a [Option<&'a [String]>],
    /// Extracted variable values, by index.
    pub vars: &'a [String],
    /// The VU's random generator (seeded from `--seed`, one stream per VU).
    pub rng: &'a mut fastrand::Rng,
    /// The run-wide `seq` counter.
    pub seq: &'a AtomicU64,
    /// A fixture's row number: `seq` reads it instead of the counter.
    pub row: Option<u64>,
    /// A frozen clock for `now`, `now_plus`, `date`, ... (fixtures); `None`: the wall clock.
    pub now: Option<jiff::Timestamp>,
}

/// Where the `}}` closing an expression starting at `s` is: braces of inline maps and
/// quoted strings are skipped.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut depth, mut i, mut quote) = (0usize, 0usize, None::<u8>);
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Compiles one expression (the text between `{{` and `}}`).
fn compile_expr(src: &str, scope: &Scope<'_>) -> Result<Expr, String> {
    if src.trim().is_empty() {
        return Err(format!(
            "empty expression `{{{{}}}}`: expected a name ({}) or a function call",
            eval::NAMES
        ));
    }
    let ast = parser::parse(src).map_err(|e| format!("`{}`: {e}", src.trim()))?;
    resolve(ast, scope, false)
}

impl Template {
    /// A template that is only literal text.
    pub fn literal(s: &str) -> Template {
        let mut t = Template::default();
        t.push_lit(s, Mode::Plain);
        t
    }

    /// Compiles `text`, resolving every name against `scope`.
    pub fn compile(text: &str, scope: &Scope<'_>) -> Result<Template, Vec<TemplateError>> {
        let mut t = Template::default();
        t.append(text, scope, false)?;
        Ok(t)
    }

    fn push_lit(&mut self, s: &str, mode: Mode) {
        if s.is_empty() {
            return;
        }
        let mut buf;
        let s = if mode == Mode::JsonStr {
            buf = String::new();
            push_json_escaped(&mut buf, s);
            buf.as_str()
        } else {
            s
        };
        if let Some(Part {
            seg: Seg::Lit(prev),
            ..
        }) = self.parts.last_mut()
        {
            prev.push_str(s);
        } else {
            self.parts.push(Part {
                seg: Seg::Lit(s.to_string()),
                mode: Mode::Plain,
            });
        }
    }

    fn push_expr(&mut self, e: Expr, mode: Mode) {
        match e {
            Expr::Const(v) => {
                let mut s = String::new();
                match mode {
                    Mode::JsonValue => v.write_json(&mut s),
                    _ => v.write_text(&mut s),
                }
                let mode = if mode == Mode::JsonValue {
                    Mode::Plain
                } else {
                    mode
                };
                self.push_lit(&s, mode)
            }
            Expr::Name(n) => self.parts.push(Part {
                seg: Seg::Name(n),
                mode,
            }),
            e => self.parts.push(Part {
                seg: Seg::Expr(Box::new(e)),
                mode,
            }),
        }
    }

    /// Appends raw literal text (no template expansion, no escaping).
    pub(crate) fn append_raw(&mut self, s: &str) {
        self.push_lit(s, Mode::Plain);
    }

    /// Appends compiled `text`; with `json_escape`, literals and rendered values are escaped
    /// for use inside a JSON string.
    pub(crate) fn append(
        &mut self,
        text: &str,
        scope: &Scope<'_>,
        json_escape: bool,
    ) -> Result<(), Vec<TemplateError>> {
        let mode = if json_escape {
            Mode::JsonStr
        } else {
            Mode::Plain
        };
        let mut errors = Vec::new();
        let mut rest = text;
        let mut base = 0usize;
        while let Some(open) = rest.find("{{") {
            self.push_lit(&rest[..open], mode);
            let after = &rest[open + 2..];
            let Some(close) = find_close(after) else {
                errors.push(TemplateError {
                    offset: base + open,
                    expr: rest[open..].to_string(),
                    message: "unclosed `{{`: expected `}}`".into(),
                });
                rest = "";
                break;
            };
            let expr = &after[..close];
            match compile_expr(expr, scope) {
                Ok(e) => self.push_expr(e, mode),
                Err(message) => errors.push(TemplateError {
                    offset: base + open,
                    expr: format!("{{{{{expr}}}}}"),
                    message,
                }),
            }
            let consumed = open + 2 + close + 2;
            base += consumed;
            rest = &rest[consumed..];
        }
        self.push_lit(rest, mode);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Appends a JSON string value whose text is `text`: when `text` is one whole
    /// expression, its value is typed (`{{random_int(1,9)}}` is a number, `{{x | string}}`
    /// text); otherwise a quoted JSON string with the values escaped inside it.
    pub(crate) fn append_json_value(
        &mut self,
        text: &str,
        scope: &Scope<'_>,
    ) -> Result<(), Vec<TemplateError>> {
        if let Some(inner) = text.strip_prefix("{{") {
            if find_close(inner) == Some(inner.len().saturating_sub(2)) && inner.ends_with("}}") {
                let expr = &inner[..inner.len() - 2];
                return match compile_expr(expr, scope) {
                    Ok(e) => {
                        self.push_expr(e, Mode::JsonValue);
                        Ok(())
                    }
                    Err(message) => Err(vec![TemplateError {
                        offset: 0,
                        expr: text.to_string(),
                        message,
                    }]),
                };
            }
        }
        self.append_raw("\"");
        let r = self.append(text, scope, true);
        self.append_raw("\"");
        r
    }

    /// The text of a template known when the plan loads (literal text, env values,
    /// constants and their `default`s); `None` when a part depends on the run (`vu`, data,
    /// variables, the clock, a function call).
    pub fn render_constant(&self) -> Option<String> {
        let varies = self.parts.iter().any(|p| match &p.seg {
            Seg::Lit(_) => false,
            Seg::Name(_) => true,
            Seg::Expr(e) => e.varies(),
        });
        if varies {
            return None;
        }
        let mut rng = fastrand::Rng::with_seed(0);
        let seq = AtomicU64::new(0);
        let mut cx = RenderCtx {
            vu: 0,
            iter: 0,
            scenario: "",
            rows: &[],
            vars: &[],
            rng: &mut rng,
            seq: &seq,
            row: None,
            now: None,
        };
        let mut out = String::new();
        self.try_render(&mut cx, &mut out).ok()?;
        Some(out)
    }

    /// Whether the template has no expressions.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p.seg, Seg::Lit(_)))
    }

    /// The text of a static template (None if it has expressions).
    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part {
                seg: Seg::Lit(s), ..
            }] => Some(s),
            _ => None,
        }
    }

    /// Which data sources (by index) the template reads.
    pub fn data_sources(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for p in &self.parts {
            match &p.seg {
                Seg::Name(Name::Data { src, .. }) => out.push(*src),
                Seg::Expr(e) => e.data_sources(&mut |s| out.push(s)),
                _ => {}
            }
        }
        out
    }

    /// Signing keys known at compile time (env values given to `jwt_hs256` and
    /// `hmac_sha256`), which outputs must hide.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.parts {
            if let Seg::Expr(e) = &p.seg {
                e.secrets(&mut out);
            }
        }
        out
    }

    /// Renders into `out` (appending). An expression that fails at render time (a value
    /// that is not JSON for `| json`, a bound that is not a number) renders as nothing; see
    /// [`Template::try_render`].
    pub fn render(&self, cx: &mut RenderCtx<'_>, out: &mut String) {
        for p in &self.parts {
            let _ = render_part(p, cx, out);
        }
    }

    /// Renders into `out` (appending), stopping at the first expression that fails.
    pub fn try_render(&self, cx: &mut RenderCtx<'_>, out: &mut String) -> Result<(), String> {
        for p in &self.parts {
            render_part(p, cx, out)?;
        }
        Ok(())
    }

    /// Renders into a new string.
    pub fn render_string(&self, cx: &mut RenderCtx<'_>) -> String {
        let mut s = String::new();
        self.render(cx, &mut s);
        s
    }

    /// Whether the template counts as true (for `if:` conditions and counters): false when
    /// it renders `""`, `"false"`, `"0"` or `"null"` (spaces around ignored) or fails to
    /// render, true otherwise. A template that is one expression is not rendered to text:
    /// `{{ status != 200 }}` is tested as a boolean without allocating.
    pub fn render_truthy(&self, cx: &mut RenderCtx<'_>) -> bool {
        match self.parts.as_slice() {
            [] => false,
            [Part {
                seg: Seg::Expr(e), ..
            }] => eval(e, cx).map(|v| v.truthy()).unwrap_or(false),
            [Part {
                seg: Seg::Name(n @ (Name::Data { .. } | Name::Var(_))),
                ..
            }] => text_truthy(n.text(cx)),
            _ => {
                let mut s = String::new();
                self.try_render(cx, &mut s).is_ok() && text_truthy(&s)
            }
        }
    }
}

fn render_part(p: &Part, cx: &mut RenderCtx<'_>, out: &mut String) -> Result<(), String> {
    match (&p.seg, p.mode) {
        (Seg::Lit(s), _) => out.push_str(s),
        (Seg::Name(n), Mode::Plain) => n.write(cx, out),
        (Seg::Name(n @ (Name::Data { .. } | Name::Var(_) | Name::Scenario)), Mode::JsonStr) => {
            push_json_escaped(out, n.text(cx))
        }
        (Seg::Name(n), Mode::JsonStr) => n.write(cx, out),
        (Seg::Name(n), Mode::JsonValue) if n.is_number() => n.write(cx, out),
        (Seg::Name(n @ (Name::Data { .. } | Name::Var(_) | Name::Scenario)), Mode::JsonValue) => {
            out.push('"');
            push_json_escaped(out, n.text(cx));
            out.push('"');
        }
        (Seg::Name(n), Mode::JsonValue) => {
            out.push('"');
            n.write(cx, out);
            out.push('"');
        }
        (Seg::Expr(e), Mode::Plain | Mode::JsonValue) if matches!(**e, Expr::RandomInt(..)) => {
            if let Expr::RandomInt(a, b) = **e {
                value::push_int(out, cx.rng.i64(a..=b));
            }
        }
        (Seg::Expr(e), mode) => {
            let v: Val = eval(e, cx)?;
            match mode {
                Mode::Plain => v.write_text(out),
                Mode::JsonStr => push_json_escaped(out, &v.text()),
                Mode::JsonValue => v.write_json(out),
            }
        }
    }
    Ok(())
}

/// Escapes text for the inside of a JSON string (no surrounding quotes).
pub fn json_escape_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_json_escaped(&mut out, s);
    out
}

#[cfg(test)]
mod tests;
