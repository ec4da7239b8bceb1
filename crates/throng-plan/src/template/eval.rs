//! Resolved expressions: names bound to what they read (compile time), and their evaluation
//! (render time).
use super::functions::{call, compile_call, Func};
use super::parser::{Ast, BinOp};
use super::value::{push_int, Val};
use super::{RenderCtx, Scope};
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::atomic::Ordering as AtomicOrdering;

/// A name read at render time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Name {
    Vu,
    Iter,
    Scenario,
    Now,
    TimestampMs,
    Unix,
    Uuid,
    Seq,
    Data { src: usize, field: usize },
    Var(usize),
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Const(Val),
    Name(Name),
    Call(Func, Vec<Expr>),
    /// A call whose arguments are all constants, evaluated once at compile time.
    CallConst(Func, Vec<Val>),
    /// `random_int(a, b)` with constant bounds (the common case, kept cheap).
    RandomInt(i64, i64),
    Map(Vec<(String, Expr)>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `x | default(y)`: y when x is empty.
    Default(Box<Expr>, Box<Expr>),
    /// `x | string`.
    Text(Box<Expr>),
    /// `x | json`: text parsed as JSON.
    Json(Box<Expr>),
}

/// Names every template knows, for error messages.
pub(super) const NAMES: &str =
    "vu, iter, scenario, seq, uuid, now, timestamp_ms, unix, env.NAME, <data>.<field>";

impl Expr {
    /// The value, when it is known at compile time.
    pub(super) fn constant(&self) -> Option<&Val> {
        match self {
            Expr::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the value may differ between renders: it reads a name of the run (`vu`,
    /// data, variables, the clock) or calls a function.
    pub(super) fn varies(&self) -> bool {
        let mut varies = false;
        self.walk(&mut |e| {
            varies |= matches!(
                e,
                Expr::Name(_) | Expr::Call(..) | Expr::CallConst(..) | Expr::RandomInt(..)
            );
        });
        varies
    }

    /// Calls `f` with this expression and every expression inside it.
    fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Map(m) => m.iter().for_each(|(_, a)| a.walk(f)),
            Expr::Not(a) | Expr::Text(a) | Expr::Json(a) => a.walk(f),
            Expr::Bin(_, a, b) | Expr::Default(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Const(_) | Expr::Name(_) | Expr::CallConst(..) | Expr::RandomInt(..) => {}
        }
    }

    /// Appends the constant keys given to signing functions.
    pub(super) fn secrets(&self, out: &mut Vec<String>) {
        self.walk(&mut |e| {
            let key = match e {
                Expr::Call(f, args) if f.takes_a_key() => args.first().and_then(Expr::constant),
                Expr::CallConst(f, args) if f.takes_a_key() => args.first(),
                _ => None,
            };
            if let Some(Val::Str(k)) = key {
                out.push(k.clone());
            }
        });
    }

    /// Calls `f` with every data source the expression reads.
    pub(super) fn data_sources(&self, f: &mut dyn FnMut(usize)) {
        self.walk(&mut |e| {
            if let Expr::Name(Name::Data { src, .. }) = e {
                f(*src)
            }
        });
    }
}

/// Binds the names of `ast` in `scope`. With `lenient`, an unset env value is null (the
/// subject of `default`) instead of an error.
pub(super) fn resolve(ast: Ast, scope: &Scope<'_>, lenient: bool) -> Result<Expr, String> {
    Ok(match ast {
        Ast::Str(s) => Expr::Const(Val::Str(s)),
        Ast::Int(i) => Expr::Const(Val::Int(i)),
        Ast::Float(f) => Expr::Const(Val::Float(f)),
        Ast::Bool(b) => Expr::Const(Val::Bool(b)),
        Ast::Null => Expr::Const(Val::Null),
        Ast::Name(n) => resolve_name(&n, scope, lenient)?,
        Ast::Call(name, args) => {
            let args = args
                .into_iter()
                .map(|a| match a {
                    // random_choice(a, b): bare words are text, as they always were
                    Ast::Name(n) if name == "random_choice" => {
                        resolve_name(&n, scope, false).or(Ok(Expr::Const(Val::Str(n))))
                    }
                    a => resolve(a, scope, false),
                })
                .collect::<Result<Vec<_>, String>>()?;
            compile_call(&name, args, scope)?
        }
        Ast::Map(m) => Expr::Map(
            m.into_iter()
                .map(|(k, v)| Ok((k, resolve(v, scope, false)?)))
                .collect::<Result<_, String>>()?,
        ),
        Ast::Not(a) => Expr::Not(Box::new(resolve(*a, scope, lenient)?)),
        Ast::Bin(op, a, b) => Expr::Bin(
            op,
            Box::new(resolve(*a, scope, lenient)?),
            Box::new(resolve(*b, scope, lenient)?),
        ),
        Ast::Filter(name, args, subject) => {
            let mut args = args.into_iter();
            let (arg, extra) = (args.next(), args.next());
            match (name.as_str(), arg, extra) {
                ("default", Some(d), None) => Expr::Default(
                    Box::new(resolve(*subject, scope, true)?),
                    Box::new(resolve(d, scope, false)?),
                ),
                ("string", None, None) => Expr::Text(Box::new(resolve(*subject, scope, lenient)?)),
                ("json", None, None) => {
                    let e = resolve(*subject, scope, lenient)?;
                    if let Some(v) = e.constant() {
                        parse_json(v)?;
                    }
                    Expr::Json(Box::new(e))
                }
                ("default", _, _) => {
                    return Err("the default filter takes one value, e.g. x | default('5m')".into())
                }
                ("string" | "json", _, _) => {
                    return Err(format!("the {name} filter takes no arguments"))
                }
                _ => {
                    return Err(format!(
                        "unknown filter `{name}`: expected default(value), string or json"
                    ))
                }
            }
        }
    })
}

fn resolve_name(n: &str, scope: &Scope<'_>, lenient: bool) -> Result<Expr, String> {
    // a variable's full name wins: `vu.token`, `setup.id` are variables named with a prefix
    if let Some(i) = scope.vars.iter().position(|v| v == n) {
        return Ok(Expr::Name(Name::Var(i)));
    }
    let name = match n {
        "vu" => Name::Vu,
        "iter" => Name::Iter,
        "scenario" => Name::Scenario,
        "now" => Name::Now,
        "timestamp_ms" => Name::TimestampMs,
        "unix" => Name::Unix,
        "uuid" => Name::Uuid,
        "seq" => Name::Seq,
        _ => return resolve_dotted(n, scope, lenient),
    };
    Ok(Expr::Name(name))
}

fn resolve_dotted(n: &str, scope: &Scope<'_>, lenient: bool) -> Result<Expr, String> {
    let Some((head, field)) = n.split_once('.') else {
        return Err(format!(
            "unknown name `{n}`: expected one of {NAMES}{}",
            known_list("extracted variables", scope.vars.iter().map(String::as_str))
        ));
    };
    if head == "env" {
        return match scope.env.get(field) {
            Some(v) => Ok(Expr::Const(Val::Str(v.clone()))),
            None if lenient => Ok(Expr::Const(Val::Null)),
            None => Err(format!(
                "environment value `{field}` is not set: pass `-e {field}=...`, use --env-file, or add it under `env:` in the plan"
            )),
        };
    }
    if head == "fake" {
        return compile_call(n, Vec::new(), scope);
    }
    if let Some(src) = scope.data.iter().position(|(d, _)| d == head) {
        let fields = &scope.data[src].1;
        return fields
            .iter()
            .position(|f| f == field)
            .map(|field| Expr::Name(Name::Data { src, field }))
            .ok_or_else(|| {
                format!(
                    "data source `{head}` has no field `{field}` (fields: {})",
                    fields.join(", ")
                )
            });
    }
    Err(format!(
        "unknown name `{n}`: `{head}` is not a data source{}",
        known_list("data sources", scope.data.iter().map(|(d, _)| d.as_str()))
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

fn parse_json(v: &Val) -> Result<Val, String> {
    match v {
        Val::Str(s) => serde_json::from_str(s)
            .map(Val::from_json)
            .map_err(|e| format!("`{}` is not valid JSON: {e}", short(s))),
        other => Ok(other.clone()),
    }
}

fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The render's clock: frozen for fixtures, else the wall clock.
pub(super) fn now(cx: &RenderCtx<'_>) -> jiff::Timestamp {
    cx.now.unwrap_or_else(jiff::Timestamp::now)
}

/// A random (version 4) UUID from `rng`.
pub(super) fn uuid(rng: &mut fastrand::Rng) -> String {
    let mut s = String::with_capacity(36);
    write_uuid(rng, &mut s);
    s
}

/// The two lower-case hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    t
};

fn write_uuid(rng: &mut fastrand::Rng, out: &mut String) {
    let a = rng.u64(..);
    let b = rng.u64(..);
    // 8-4-4-4-12 hex digits: version 4, variant 10xx
    let hi = (a & !0xf000) | 0x4000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    // two hex digits per byte, most significant first
    let mut s = [b'-'; 36];
    let mut put = |from: usize, digits: usize, v: u64| {
        for (i, pair) in s[from..from + digits].chunks_exact_mut(2).enumerate() {
            let byte = (v >> (8 * (digits / 2 - 1 - i))) as u8;
            pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
        }
    };
    put(0, 8, hi >> 32);
    put(9, 4, (hi >> 16) & 0xffff);
    put(14, 4, hi & 0xffff);
    put(19, 4, lo >> 48);
    put(24, 12, lo & 0xffff_ffff_ffff);
    // only ASCII hex digits and dashes were written
    out.push_str(std::str::from_utf8(&s).unwrap_or_default());
}

impl Name {
    /// Appends the value as text, without allocating.
    pub(super) fn write(self, cx: &mut RenderCtx<'_>, out: &mut String) {
        match self {
            Name::Vu => push_int(out, cx.vu),
            Name::Iter => push_int(out, cx.iter),
            Name::Scenario => out.push_str(cx.scenario),
            Name::Now => {
                let _ = write!(out, "{}", now(cx));
            }
            Name::TimestampMs => push_int(out, now(cx).as_millisecond()),
            Name::Unix => push_int(out, now(cx).as_second()),
            Name::Uuid => write_uuid(cx.rng, out),
            Name::Seq => push_int(out, seq(cx)),
            Name::Data { .. } | Name::Var(_) => out.push_str(self.text(cx)),
        }
    }

    /// Whether the value is a number (printed bare as a whole JSON value).
    pub(super) fn is_number(self) -> bool {
        matches!(
            self,
            Name::Vu | Name::Iter | Name::TimestampMs | Name::Unix | Name::Seq
        )
    }

    /// The text of a data field, variable or the scenario ("" for other names).
    pub(super) fn text<'c>(self, cx: &'c RenderCtx<'_>) -> &'c str {
        match self {
            Name::Data { src, field } => cx
                .rows
                .get(src)
                .copied()
                .flatten()
                .and_then(|row| row.get(field))
                .map(String::as_str)
                .unwrap_or(""),
            Name::Var(i) => cx.vars.get(i).map(String::as_str).unwrap_or(""),
            Name::Scenario => cx.scenario,
            _ => "",
        }
    }

    fn value(self, cx: &mut RenderCtx<'_>) -> Val {
        match self {
            Name::Vu => Val::Int(cx.vu as i64),
            Name::Iter => Val::Int(cx.iter as i64),
            Name::Seq => Val::Int(seq(cx) as i64),
            Name::TimestampMs => Val::Int(now(cx).as_millisecond()),
            Name::Unix => Val::Int(now(cx).as_second()),
            Name::Data { .. } | Name::Var(_) => Val::Str(self.text(cx).to_string()),
            _ => {
                let mut s = String::new();
                self.write(cx, &mut s);
                Val::Str(s)
            }
        }
    }
}

/// A value read in place: a field, variable or the scenario's name, or a constant.
enum Operand<'a> {
    Text(&'a str),
    Val(&'a Val),
}

impl Operand<'_> {
    fn number(&self) -> Option<f64> {
        match self {
            Operand::Text(s) => s.trim().parse().ok(),
            Operand::Val(v) => v.number(),
        }
    }

    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Operand::Text(s) => std::borrow::Cow::Borrowed(s),
            Operand::Val(v) => v.text(),
        }
    }
}

fn operand<'a>(e: &'a Expr, cx: &'a RenderCtx<'_>) -> Option<Operand<'a>> {
    match e {
        Expr::Const(v) => Some(Operand::Val(v)),
        Expr::Name(n @ (Name::Data { .. } | Name::Var(_) | Name::Scenario)) => {
            Some(Operand::Text(n.text(cx)))
        }
        _ => None,
    }
}

/// Compares two values: numerically when both read as numbers, else as text.
fn compare_operands(a: &Operand<'_>, b: &Operand<'_>) -> Ordering {
    match (a.number(), b.number()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.text().as_ref().cmp(b.text().as_ref()),
    }
}

fn seq(cx: &RenderCtx<'_>) -> u64 {
    match cx.row {
        Some(r) => r,
        None => cx.seq.fetch_add(1, AtomicOrdering::Relaxed),
    }
}

/// Evaluates `e`.
pub(super) fn eval(e: &Expr, cx: &mut RenderCtx<'_>) -> Result<Val, String> {
    Ok(match e {
        Expr::Const(v) => v.clone(),
        Expr::Name(n) => n.value(cx),
        Expr::RandomInt(a, b) => Val::Int(cx.rng.i64(*a..=*b)),
        Expr::CallConst(f, args) => call(f, args, cx)?,
        Expr::Call(f, args) => {
            let vals = args
                .iter()
                .map(|a| eval(a, cx))
                .collect::<Result<Vec<_>, _>>()?;
            call(f, &vals, cx)?
        }
        Expr::Map(m) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in m {
                obj.insert(k.clone(), eval(v, cx)?.to_json());
            }
            Val::Json(serde_json::Value::Object(obj))
        }
        Expr::Not(a) => Val::Bool(!eval(a, cx)?.truthy()),
        Expr::Bin(BinOp::And, a, b) => Val::Bool(eval(a, cx)?.truthy() && eval(b, cx)?.truthy()),
        Expr::Bin(BinOp::Or, a, b) => Val::Bool(eval(a, cx)?.truthy() || eval(b, cx)?.truthy()),
        Expr::Bin(op, a, b) => {
            let ord = match (operand(a, cx), operand(b, cx)) {
                // fields, variables and constants compare in place, without copies
                (Some(x), Some(y)) => compare_operands(&x, &y),
                _ => {
                    let (x, y) = (eval(a, cx)?, eval(b, cx)?);
                    compare_operands(&Operand::Val(&x), &Operand::Val(&y))
                }
            };
            Val::Bool(match op {
                BinOp::Eq => ord == Ordering::Equal,
                BinOp::Ne => ord != Ordering::Equal,
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                BinOp::Ge => ord != Ordering::Less,
                BinOp::And | BinOp::Or => false,
            })
        }
        Expr::Default(a, d) => {
            let v = eval(a, cx)?;
            if v.is_empty() {
                eval(d, cx)?
            } else {
                v
            }
        }
        Expr::Text(a) => Val::Str(eval(a, cx)?.text().into_owned()),
        Expr::Json(a) => parse_json(&eval(a, cx)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_numbers_as_numbers() {
        let cmp = |a: Val, b: Val| compare_operands(&Operand::Val(&a), &Operand::Val(&b));
        assert_eq!(cmp(Val::Str("10".into()), Val::Int(9)), Ordering::Greater);
        assert_eq!(cmp(Val::Str("200".into()), Val::Int(200)), Ordering::Equal);
        assert_eq!(
            cmp(Val::Str(" 2.5".into()), Val::Float(2.5)),
            Ordering::Equal
        );
        assert_eq!(
            cmp(Val::Str("admin".into()), Val::Str("user".into())),
            Ordering::Less
        );
        assert_eq!(
            compare_operands(&Operand::Text("9"), &Operand::Text("10")),
            Ordering::Less
        );
    }

    #[test]
    fn uuids_and_integers_print_as_format_did() {
        let (mut a, mut b) = (fastrand::Rng::with_seed(9), fastrand::Rng::with_seed(9));
        for _ in 0..1000 {
            let (x, y) = (b.u64(..), b.u64(..));
            let old = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                x >> 32,
                (x >> 16) & 0xffff,
                x & 0x0fff,
                ((y >> 48) & 0x3fff) | 0x8000,
                y & 0xffff_ffff_ffff
            );
            assert_eq!(uuid(&mut a), old);
        }
        for v in [0i64, 7, -1, 10_000, i64::MIN, i64::MAX] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
