//! The request template language: `{{ expr }}` in strings, compiled once at plan load and
//! rendered into a reused buffer.
//!
//! Expressions: `vu`, `iter`, `scenario`, `now` (RFC 3339), `timestamp_ms`, `uuid`, `seq`
//! (a run-wide counter), `env.NAME`, `<data>.<field>` (the current row of a data source),
//! `<var>` (a value extracted by an earlier step), `random_int(a,b)`, `random_string(n)`,
//! `random_choice(a,b,c)`.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What names a template may use, known at plan load.
pub struct Scope<'a> {
    /// `-e` and plan env values.
    pub env: &'a BTreeMap<String, String>,
    /// Data sources: name and field names.
    pub data: &'a [(String, Vec<String>)],
    /// Variables extracted somewhere in the scenario's flow.
    pub vars: &'a [String],
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
    Vu,
    Iter,
    Scenario,
    Now,
    TimestampMs,
    Uuid,
    Seq,
    Data { src: usize, field: usize },
    Var(usize),
    RandomInt(i64, i64),
    RandomString(usize),
    RandomChoice(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Part {
    seg: Seg,
    json_escape: bool,
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
    /// The VU's random generator.
    pub rng: &'a mut fastrand::Rng,
    /// The run-wide `seq` counter.
    pub seq: &'a AtomicU64,
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl Template {
    /// A template that is only literal text.
    pub fn literal(s: &str) -> Template {
        let mut t = Template::default();
        t.push_lit(s, false);
        t
    }

    /// Compiles `text`, resolving every name against `scope`.
    pub fn compile(text: &str, scope: &Scope<'_>) -> Result<Template, Vec<TemplateError>> {
        let mut t = Template::default();
        t.append(text, scope, false)?;
        Ok(t)
    }

    fn push_lit(&mut self, s: &str, json_escape: bool) {
        if s.is_empty() {
            return;
        }
        let s = if json_escape {
            json_escape_str(s)
        } else {
            s.to_string()
        };
        if let Some(Part {
            seg: Seg::Lit(prev),
            ..
        }) = self.parts.last_mut()
        {
            prev.push_str(&s);
        } else {
            self.parts.push(Part {
                seg: Seg::Lit(s),
                json_escape: false,
            });
        }
    }

    /// Appends raw literal text (no template expansion, no escaping).
    pub(crate) fn append_raw(&mut self, s: &str) {
        self.push_lit(s, false);
    }

    /// Appends compiled `text`; with `json_escape`, literals and rendered values are escaped
    /// for use inside a JSON string.
    pub(crate) fn append(
        &mut self,
        text: &str,
        scope: &Scope<'_>,
        json_escape: bool,
    ) -> Result<(), Vec<TemplateError>> {
        let mut errors = Vec::new();
        let mut rest = text;
        let mut base = 0usize;
        while let Some(open) = rest.find("{{") {
            self.push_lit(&rest[..open], json_escape);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                errors.push(TemplateError {
                    offset: base + open,
                    expr: rest[open..].to_string(),
                    message: "unclosed `{{`: expected `}}`".into(),
                });
                rest = "";
                break;
            };
            let expr = &after[..close];
            match compile_expr(expr.trim(), scope) {
                Ok(Seg::Lit(s)) => self.push_lit(&s, json_escape),
                Ok(seg) => self.parts.push(Part { seg, json_escape }),
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
        self.push_lit(rest, json_escape);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
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
    pub fn data_sources(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p.seg {
            Seg::Data { src, .. } => Some(src),
            _ => None,
        })
    }

    /// Renders into `out` (appending).
    pub fn render(&self, cx: &mut RenderCtx<'_>, out: &mut String) {
        for p in &self.parts {
            if p.json_escape && !matches!(p.seg, Seg::Lit(_)) {
                let mut tmp = String::new();
                render_seg(&p.seg, cx, &mut tmp);
                out.push_str(&json_escape_str(&tmp));
            } else {
                render_seg(&p.seg, cx, out);
            }
        }
    }

    /// Renders into a new string.
    pub fn render_string(&self, cx: &mut RenderCtx<'_>) -> String {
        let mut s = String::new();
        self.render(cx, &mut s);
        s
    }
}

fn render_seg(seg: &Seg, cx: &mut RenderCtx<'_>, out: &mut String) {
    match seg {
        Seg::Lit(s) => out.push_str(s),
        Seg::Vu => {
            let _ = write!(out, "{}", cx.vu);
        }
        Seg::Iter => {
            let _ = write!(out, "{}", cx.iter);
        }
        Seg::Scenario => out.push_str(cx.scenario),
        Seg::Now => {
            let _ = write!(out, "{}", jiff::Timestamp::now());
        }
        Seg::TimestampMs => {
            let _ = write!(out, "{}", jiff::Timestamp::now().as_millisecond());
        }
        Seg::Uuid => {
            let a = cx.rng.u64(..);
            let b = cx.rng.u64(..);
            let _ = write!(
                out,
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0x0fff,
                ((b >> 48) & 0x3fff) | 0x8000,
                b & 0xffff_ffff_ffff
            );
        }
        Seg::Seq => {
            let _ = write!(out, "{}", cx.seq.fetch_add(1, Ordering::Relaxed));
        }
        Seg::Data { src, field } => {
            if let Some(Some(row)) = cx.rows.get(*src) {
                if let Some(v) = row.get(*field) {
                    out.push_str(v);
                }
            }
        }
        Seg::Var(i) => {
            if let Some(v) = cx.vars.get(*i) {
                out.push_str(v);
            }
        }
        Seg::RandomInt(a, b) => {
            let _ = write!(out, "{}", cx.rng.i64(*a..=*b));
        }
        Seg::RandomString(n) => {
            for _ in 0..*n {
                out.push(ALNUM[cx.rng.usize(..ALNUM.len())] as char);
            }
        }
        Seg::RandomChoice(v) => {
            if !v.is_empty() {
                out.push_str(&v[cx.rng.usize(..v.len())]);
            }
        }
    }
}

/// Escapes text for the inside of a JSON string (no surrounding quotes).
pub fn json_escape_str(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q.get(1..q.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

const BUILTINS: &str = "vu, iter, scenario, now, timestamp_ms, uuid, seq, env.NAME, random_int(a,b), random_string(n), random_choice(a,b,...)";

fn compile_expr(expr: &str, scope: &Scope<'_>) -> Result<Seg, String> {
    if expr.is_empty() {
        return Err(format!(
            "empty expression `{{{{}}}}`: expected one of {BUILTINS}"
        ));
    }
    if let Some(open) = expr.find('(') {
        let name = expr[..open].trim();
        let args_src = expr[open + 1..]
            .strip_suffix(')')
            .ok_or_else(|| format!("`{expr}`: expected `)` at the end of the call"))?;
        let args: Vec<String> = if args_src.trim().is_empty() {
            Vec::new()
        } else {
            args_src
                .split(',')
                .map(|a| a.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                .collect()
        };
        let int = |s: &str| -> Result<i64, String> {
            s.parse::<i64>()
                .map_err(|_| format!("`{expr}`: `{s}` is not an integer"))
        };
        return match name {
            "random_int" => {
                if args.len() != 2 {
                    return Err(format!(
                        "`{expr}`: random_int takes two integers, e.g. random_int(1,100)"
                    ));
                }
                let (a, b) = (int(&args[0])?, int(&args[1])?);
                if b < a {
                    return Err(format!(
                        "`{expr}`: the upper bound is below the lower bound"
                    ));
                }
                Ok(Seg::RandomInt(a, b))
            }
            "random_string" => {
                if args.len() != 1 {
                    return Err(format!(
                        "`{expr}`: random_string takes one length, e.g. random_string(12)"
                    ));
                }
                let n = int(&args[0])?;
                if !(0..=1_000_000).contains(&n) {
                    return Err(format!("`{expr}`: length must be 0..1000000"));
                }
                Ok(Seg::RandomString(n as usize))
            }
            "random_choice" => {
                if args.is_empty() {
                    return Err(format!("`{expr}`: random_choice needs at least one value"));
                }
                Ok(Seg::RandomChoice(args))
            }
            other => Err(format!(
                "unknown function `{other}`: expected random_int, random_string or random_choice"
            )),
        };
    }
    match expr {
        "vu" => return Ok(Seg::Vu),
        "iter" => return Ok(Seg::Iter),
        "scenario" => return Ok(Seg::Scenario),
        "now" => return Ok(Seg::Now),
        "timestamp_ms" => return Ok(Seg::TimestampMs),
        "uuid" => return Ok(Seg::Uuid),
        "seq" => return Ok(Seg::Seq),
        _ => {}
    }
    // per-VU (`vu.NAME`) and setup (`setup.NAME`) values are variables named with their prefix
    if let Some(i) = scope.vars.iter().position(|v| v == expr) {
        return Ok(Seg::Var(i));
    }
    if let Some((head, field)) = expr.split_once('.') {
        if head == "env" {
            return scope
                .env
                .get(field)
                .map(|v| Seg::Lit(v.clone()))
                .ok_or_else(|| {
                    format!("environment value `{field}` is not set: pass `-e {field}=...`, use --env-file, or add it under `env:` in the plan")
                });
        }
        if let Some(src) = scope.data.iter().position(|(n, _)| n == head) {
            let fields = &scope.data[src].1;
            return fields
                .iter()
                .position(|f| f == field)
                .map(|field| Seg::Data { src, field })
                .ok_or_else(|| {
                    format!(
                        "data source `{head}` has no field `{field}` (fields: {})",
                        fields.join(", ")
                    )
                });
        }
        return Err(format!(
            "unknown name `{expr}`: `{head}` is not a data source{}",
            known_list("data sources", scope.data.iter().map(|(n, _)| n.as_str()))
        ));
    }
    Err(format!(
        "unknown name `{expr}`: expected one of {BUILTINS}{}",
        known_list("extracted variables", scope.vars.iter().map(|s| s.as_str()))
    ))
}

fn known_list<'a>(what: &str, it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        String::new()
    } else {
        format!("; {what}: {}", v.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(
        t: &Template,
        vars: &[String],
        rows: &[Option<&[String]>],
        seq: &AtomicU64,
    ) -> String {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut cx = RenderCtx {
            vu: 3,
            iter: 9,
            scenario: "s",
            rows,
            vars,
            rng: &mut rng,
            seq,
        };
        t.render_string(&mut cx)
    }

    type Parts = (
        BTreeMap<String, String>,
        Vec<(String, Vec<String>)>,
        Vec<String>,
    );

    fn scope_parts() -> Parts {
        let mut env = BTreeMap::new();
        env.insert("HOST".to_string(), "h".to_string());
        (
            env,
            vec![("users".into(), vec!["id".into(), "name".into()])],
            vec!["token".into()],
        )
    }

    #[test]
    fn compiles_and_renders() {
        let (env, data, vars) = scope_parts();
        let scope = Scope {
            env: &env,
            data: &data,
            vars: &vars,
        };
        let t = Template::compile(
            "{{env.HOST}}/u/{{ users.name }}/{{vu}}-{{iter}}/{{token}}/{{scenario}}",
            &scope,
        )
        .expect("compile");
        let row = vec!["7".to_string(), "ann".to_string()];
        let seq = AtomicU64::new(0);
        let s = render(&t, &["T".to_string()], &[Some(row.as_slice())], &seq);
        assert_eq!(s, "h/u/ann/3-9/T/s");
    }

    #[test]
    fn random_functions_stay_in_bounds() {
        let (env, data, vars) = scope_parts();
        let scope = Scope {
            env: &env,
            data: &data,
            vars: &vars,
        };
        let t = Template::compile(
            "{{random_int(1,3)}}|{{random_string(5)}}|{{random_choice(a,b)}}|{{uuid}}|{{seq}}",
            &scope,
        )
        .expect("compile");
        let mut rng = fastrand::Rng::with_seed(2);
        let seq = AtomicU64::new(0);
        for i in 0..50 {
            let mut cx = RenderCtx {
                vu: 1,
                iter: 0,
                scenario: "s",
                rows: &[],
                vars: &[],
                rng: &mut rng,
                seq: &seq,
            };
            let s = t.render_string(&mut cx);
            let parts: Vec<&str> = s.split('|').collect();
            let n: i64 = parts[0].parse().expect("int");
            assert!((1..=3).contains(&n));
            assert_eq!(parts[1].len(), 5);
            assert!(parts[2] == "a" || parts[2] == "b");
            assert_eq!(parts[3].len(), 36);
            assert_eq!(parts[3].as_bytes()[14], b'4');
            assert_eq!(parts[4], i.to_string());
        }
    }

    #[test]
    fn unknown_names_are_errors_with_offsets() {
        let (env, data, vars) = scope_parts();
        let scope = Scope {
            env: &env,
            data: &data,
            vars: &vars,
        };
        let errs = Template::compile(
            "ab{{nope}}cd{{env.MISSING}}{{users.x}}{{random_int(3,1)}}{{",
            &scope,
        )
        .expect_err("errors");
        assert_eq!(errs.len(), 5);
        assert_eq!(errs[0].offset, 2);
        assert!(errs[0].message.contains("unknown name `nope`"));
        assert!(errs[1].message.contains("MISSING"));
        assert!(errs[2].message.contains("no field `x`"));
        assert!(errs[4].message.contains("unclosed"));
    }

    #[test]
    fn json_escaping_applies_to_values() {
        let (env, data, vars) = scope_parts();
        let scope = Scope {
            env: &env,
            data: &data,
            vars: &vars,
        };
        let mut t = Template::default();
        t.append_raw("{\"m\":\"");
        t.append("say \"{{token}}\"", &scope, true).expect("ok");
        t.append_raw("\"}");
        let seq = AtomicU64::new(0);
        let s = render(&t, &["a\"b".to_string()], &[], &seq);
        let v: serde_json::Value = serde_json::from_str(&s).expect("valid json");
        assert_eq!(v["m"], "say \"a\"b\"");
    }
}
