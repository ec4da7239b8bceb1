//! Parses tokens into an expression tree. Precedence, loosest first: `||`/`or`,
//! `&&`/`and`, `!`/`not`, comparisons (`== != < <= > >=`, not chained), filters (`x | f`),
//! then literals, names, calls `f(a, b)`, maps `{k: v}` and parentheses.
use super::lexer::{lex, Tok};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// An expression as written, names not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ast {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// A name (dots included).
    Name(String),
    /// A function call: name, arguments.
    Call(String, Vec<Ast>),
    /// An inline map `{k: v}`, keys in written order.
    Map(Vec<(String, Ast)>),
    Not(Box<Ast>),
    Bin(BinOp, Box<Ast>, Box<Ast>),
    /// `subject | name(args)`.
    Filter(String, Vec<Ast>, Box<Ast>),
}

/// Parses one whole expression.
pub(super) fn parse(src: &str) -> Result<Ast, String> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
        ops: 0,
    };
    let e = p.or()?;
    match p.toks.get(p.at) {
        None => Ok(e),
        Some((t, off)) => Err(format!(
            "unexpected {} at column {}: expected an operator or the end of the expression",
            describe(t),
            off + 1
        )),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Int(i) => format!("`{i}`"),
        Tok::Float(f) => format!("`{f}`"),
        Tok::Op(o) => format!("`{o}`"),
    }
}

/// How deeply expressions may nest (parentheses, maps, calls, `!`): the parser and the
/// evaluator recurse, and a template must not be able to exhaust the stack.
const MAX_DEPTH: usize = 32;

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
    /// Operators and filters so far: chains of them nest too (`a && b && c`).
    ops: usize,
}

/// How many operators and filters one expression may chain.
const MAX_OPS: usize = 64;

impl Parser {
    fn count_op(&mut self) -> Result<(), String> {
        self.ops += 1;
        if self.ops > MAX_OPS {
            return Err(format!(
                "more than {MAX_OPS} operators and filters in one expression"
            ));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(i)) if i == w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str, what: &str) -> Result<(), String> {
        if self.eat_op(op) {
            return Ok(());
        }
        Err(match self.toks.get(self.at) {
            Some((t, off)) => format!(
                "expected `{op}` {what}, found {} at column {}",
                describe(t),
                off + 1
            ),
            None => format!("expected `{op}` {what}, found the end of the expression"),
        })
    }

    fn or(&mut self) -> Result<Ast, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let r = self.or_inner();
        self.depth -= 1;
        r
    }

    fn or_inner(&mut self) -> Result<Ast, String> {
        let mut l = self.and()?;
        while self.eat_op("||") || self.eat_word("or") {
            self.count_op()?;
            let r = self.and()?;
            l = Ast::Bin(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Ast, String> {
        let mut l = self.not()?;
        while self.eat_op("&&") || self.eat_word("and") {
            self.count_op()?;
            let r = self.not()?;
            l = Ast::Bin(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Ast, String> {
        if self.eat_op("!") || self.eat_word("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(format!("nested more than {MAX_DEPTH} levels deep"));
            }
            let inner = self.not();
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Ast, String> {
        let l = self.pipe()?;
        let op = match self.peek() {
            Some(Tok::Op("==")) => BinOp::Eq,
            Some(Tok::Op("!=")) => BinOp::Ne,
            Some(Tok::Op("<")) => BinOp::Lt,
            Some(Tok::Op("<=")) => BinOp::Le,
            Some(Tok::Op(">")) => BinOp::Gt,
            Some(Tok::Op(">=")) => BinOp::Ge,
            _ => return Ok(l),
        };
        self.at += 1;
        let r = self.pipe()?;
        Ok(Ast::Bin(op, Box::new(l), Box::new(r)))
    }

    fn pipe(&mut self) -> Result<Ast, String> {
        let mut subject = self.primary()?;
        while self.eat_op("|") {
            self.count_op()?;
            let name = match self.toks.get(self.at) {
                Some((Tok::Ident(n), _)) => n.clone(),
                _ => return Err("expected a filter name after `|` (default, string, json)".into()),
            };
            self.at += 1;
            let args = if self.eat_op("(") {
                self.args()?
            } else {
                Vec::new()
            };
            subject = Ast::Filter(name, args, Box::new(subject));
        }
        Ok(subject)
    }

    /// Arguments after `(`, through `)`.
    fn args(&mut self) -> Result<Vec<Ast>, String> {
        let mut args = Vec::new();
        if self.eat_op(")") {
            return Ok(args);
        }
        loop {
            args.push(self.or()?);
            if self.eat_op(")") {
                return Ok(args);
            }
            self.expect_op(",", "between arguments")?;
        }
    }

    fn primary(&mut self) -> Result<Ast, String> {
        let Some((tok, off)) = self.toks.get(self.at).cloned() else {
            return Err("the expression ends where a value was expected".into());
        };
        self.at += 1;
        Ok(match tok {
            Tok::Str(s) => Ast::Str(s),
            Tok::Int(i) => Ast::Int(i),
            Tok::Float(f) => Ast::Float(f),
            Tok::Ident(n) => match n.as_str() {
                "true" => Ast::Bool(true),
                "false" => Ast::Bool(false),
                "null" => Ast::Null,
                _ if self.eat_op("(") => Ast::Call(n, self.args()?),
                _ => Ast::Name(n),
            },
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect_op(")", "to close `(`")?;
                e
            }
            Tok::Op("{") => self.map()?,
            t => {
                return Err(format!(
                    "unexpected {} at column {}: expected a value",
                    describe(&t),
                    off + 1
                ))
            }
        })
    }

    /// A map after `{`, through `}`.
    fn map(&mut self) -> Result<Ast, String> {
        let mut entries = Vec::new();
        if self.eat_op("}") {
            return Ok(Ast::Map(entries));
        }
        loop {
            let key = match self.toks.get(self.at) {
                Some((Tok::Ident(k) | Tok::Str(k), _)) => k.clone(),
                _ => return Err("expected a key (a name or a string) in `{...}`".into()),
            };
            self.at += 1;
            self.expect_op(":", "after a map key")?;
            entries.push((key, self.or()?));
            if self.eat_op("}") {
                return Ok(Ast::Map(entries));
            }
            self.expect_op(",", "between map entries")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Box<Ast> {
        Box::new(Ast::Name(n.into()))
    }

    #[test]
    fn precedence() {
        assert_eq!(
            parse("a == 'x' && !b || c != 2").expect("parses"),
            Ast::Bin(
                BinOp::Or,
                Box::new(Ast::Bin(
                    BinOp::And,
                    Box::new(Ast::Bin(
                        BinOp::Eq,
                        name("a"),
                        Box::new(Ast::Str("x".into()))
                    )),
                    Box::new(Ast::Not(name("b"))),
                )),
                Box::new(Ast::Bin(BinOp::Ne, name("c"), Box::new(Ast::Int(2)))),
            )
        );
        assert_eq!(
            parse("env.T | default('5m') == 'x'").expect("parses"),
            Ast::Bin(
                BinOp::Eq,
                Box::new(Ast::Filter(
                    "default".into(),
                    vec![Ast::Str("5m".into())],
                    name("env.T")
                )),
                Box::new(Ast::Str("x".into()))
            )
        );
    }

    #[test]
    fn calls_and_maps() {
        assert_eq!(
            parse("jwt_hs256(k, {sub: seq, 'exp': now_plus('1h')})").expect("parses"),
            Ast::Call(
                "jwt_hs256".into(),
                vec![
                    Ast::Name("k".into()),
                    Ast::Map(vec![
                        ("sub".into(), Ast::Name("seq".into())),
                        (
                            "exp".into(),
                            Ast::Call("now_plus".into(), vec![Ast::Str("1h".into())])
                        ),
                    ])
                ]
            )
        );
        assert!(parse("f(a b)")
            .expect_err("no comma")
            .contains("between arguments"));
        assert!(parse("a b")
            .expect_err("trailing")
            .contains("unexpected `b`"));
        assert!(parse("{a 1}")
            .expect_err("no colon")
            .contains("after a map key"));
        assert!(parse("(a").expect_err("open").contains("to close"));
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).expect_err("deep").contains("levels deep"));
        assert!(parse(&"!".repeat(10_000))
            .expect_err("deep")
            .contains("levels deep"));
        assert!(parse(&"{a:".repeat(10_000))
            .expect_err("deep")
            .contains("levels deep"));
        assert!(parse(&format!("1{}", " && 1".repeat(10_000)))
            .expect_err("long")
            .contains("operators"));
        assert!(parse(&format!("1{}", " | string".repeat(10_000)))
            .expect_err("long")
            .contains("operators"));
    }
}
