//! Modules a script imports besides k6's: local files (`import { x } from './lib.js'`,
//! relative to the importing file, nested), read once at load so a missing file fails there
//! naming the importing file:line:col, and the jslib modules throng has built in.
use std::collections::HashSet;

/// A module's name (as QuickJS resolves it) and its source.
#[derive(Debug, Clone)]
pub struct LocalModule {
    /// The resolved name (a path, or the jslib URL).
    pub name: String,
    /// Its JavaScript.
    pub text: String,
}

/// jslib modules scripts import from their URL, with throng's built-in equivalent.
const JSLIB: &[(&str, &str)] = &[(
    "https://jslib.k6.io/k6-summary/",
    include_str!("js/summary.js"),
)];

/// An import specifier and where it is (1-based line and column).
struct Import {
    spec: String,
    line: usize,
    col: usize,
}

/// The static import specifiers of `text` (`import … from '…'`, `import '…'`,
/// `export … from '…'`), skipping line comments.
fn imports(text: &str) -> Vec<Import> {
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for kw in ["from", "import"] {
            let mut at = 0;
            while let Some(i) = line[at..].find(kw) {
                let start = at + i;
                at = start + kw.len();
                let before = line[..start].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
                    continue;
                }
                let rest = line[at..].trim_start();
                let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                    continue;
                };
                let body = &rest[1..];
                if let Some(end) = body.find(q) {
                    let col = line.len() - rest.len() + 1;
                    out.push(Import {
                        spec: body[..end].to_string(),
                        line: ln + 1,
                        col,
                    });
                }
            }
        }
    }
    out
}

/// QuickJS's own module-name normalisation: `name` relative to the module `base`.
pub(crate) fn resolve(base: &str, name: &str) -> String {
    if !name.starts_with('.') {
        return name.to_string();
    }
    let mut dir = match base.rfind('/') {
        Some(i) => base[..i].to_string(),
        None => String::new(),
    };
    let mut r = name;
    loop {
        if let Some(rest) = r.strip_prefix("./") {
            r = rest;
        } else if let Some(rest) = r.strip_prefix("../") {
            if dir.is_empty() {
                break;
            }
            let last = dir.rfind('/').map_or(0, |i| i + 1);
            if matches!(&dir[last..], "." | "..") {
                break;
            }
            dir.truncate(last.saturating_sub(1));
            r = rest;
        } else {
            break;
        }
    }
    if dir.is_empty() {
        r.to_string()
    } else {
        format!("{dir}/{r}")
    }
}

/// Every module `text` (the script `name`) imports, transitively, but k6's own — each
/// after the modules it imports (QuickJS resolves a module's imports when compiling it).
pub(crate) fn collect(name: &str, text: &str) -> Result<Vec<LocalModule>, String> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([name.to_string()]);
    visit(name, text, &mut seen, &mut out)?;
    Ok(out)
}

fn visit(
    from: &str,
    src: &str,
    seen: &mut HashSet<String>,
    out: &mut Vec<LocalModule>,
) -> Result<(), String> {
    for imp in imports(src) {
        let place = format!("{from}:{}:{}", imp.line, imp.col);
        let spec = imp.spec.as_str();
        if spec == "k6" || spec.starts_with("k6/") {
            continue;
        }
        if spec.starts_with("http://") || spec.starts_with("https://") {
            let Some((_, js)) = JSLIB.iter().find(|(p, _)| spec.starts_with(p)) else {
                let known: Vec<String> = JSLIB.iter().map(|(p, _)| format!("{p}*")).collect();
                return Err(format!(
                    "{place}: cannot import {spec:?}: throng does not fetch remote modules (built in: {})",
                    known.join(", ")
                ));
            };
            if seen.insert(spec.to_string()) {
                out.push(LocalModule {
                    name: spec.to_string(),
                    text: js.to_string(),
                });
            }
            continue;
        }
        if !(spec.starts_with("./") || spec.starts_with("../") || spec.starts_with('/')) {
            return Err(format!(
                "{place}: cannot import {spec:?}: not a k6 module, a relative file or a built-in jslib URL"
            ));
        }
        let resolved = resolve(from, spec);
        if !seen.insert(resolved.clone()) {
            continue;
        }
        let text = std::fs::read_to_string(&resolved)
            .map_err(|e| format!("{place}: cannot import {spec:?} ({resolved}): {e}"))?;
        visit(&resolved, &text, seen, out)?;
        out.push(LocalModule {
            name: resolved,
            text,
        });
    }
    Ok(())
}

/// Serves the script's local and jslib modules to QuickJS when first imported (so imports
/// may be circular, as in k6) and resolves relative names as QuickJS does.
pub(crate) struct LocalModules(pub(crate) std::sync::Arc<[LocalModule]>);

impl rquickjs::loader::Resolver for LocalModules {
    fn resolve<'js>(
        &mut self,
        _ctx: &rquickjs::Ctx<'js>,
        base: &str,
        name: &str,
    ) -> rquickjs::Result<String> {
        Ok(resolve(base, name))
    }
}

impl rquickjs::loader::Loader for LocalModules {
    fn load<'js>(
        &mut self,
        ctx: &rquickjs::Ctx<'js>,
        name: &str,
    ) -> rquickjs::Result<rquickjs::Module<'js, rquickjs::module::Declared>> {
        match self.0.iter().find(|m| m.name == name) {
            Some(m) => rquickjs::Module::declare(ctx.clone(), m.name.as_str(), m.text.as_str()),
            None => Err(rquickjs::Error::new_loading(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_as_quickjs_does() {
        assert_eq!(resolve("/a/b/s.js", "./lib.js"), "/a/b/lib.js");
        assert_eq!(resolve("/a/b/s.js", "../c/lib.js"), "/a/c/lib.js");
        assert_eq!(resolve("s.js", "./lib.js"), "lib.js");
        assert_eq!(resolve("x/s.js", "./y/../lib.js"), "x/y/../lib.js");
        assert_eq!(resolve("/a/s.js", "k6/http"), "k6/http");
    }

    #[test]
    fn finds_static_imports_with_their_place() {
        let src = "import http from 'k6/http';\n// import x from './no.js'\nimport { a } from \"./lib.js\";\nexport { b } from './b.js';\nconst imported = 1;\n";
        let found: Vec<(String, usize, usize)> = imports(src)
            .into_iter()
            .map(|i| (i.spec, i.line, i.col))
            .collect();
        assert_eq!(
            found,
            vec![
                ("k6/http".to_string(), 1, 18),
                ("./lib.js".to_string(), 3, 19),
                ("./b.js".to_string(), 4, 19),
            ]
        );
    }
}
