//! Templates in the plan (strings and JSON bodies), compiled in the plan's scope: env, data
//! fields and the flow's variables (and files beside the plan, for `jwt_rs256`); template
//! errors land where they were written.
use super::{lc, Cx};
use crate::raw::{Json, S};
use crate::template::{Scope, Template, TemplateError};

impl Cx<'_> {
    /// Reports template errors at their expression, except for fields of a data source
    /// that failed to load (its error was given once).
    fn template_errors(&mut self, at: (usize, usize), errs: Vec<TemplateError>) {
        for e in errs {
            // a data source that failed to load has no fields: its error was given once
            let inner = e.expr.trim_start_matches('{').trim_end_matches('}').trim();
            let head = inner.split('.').next().unwrap_or("").trim();
            if inner.contains('.') && self.failed_data.iter().any(|f| f == head) {
                continue;
            }
            let pos = self.src.find_from(at.0, at.1, &e.expr);
            self.err_at(pos, e.message);
        }
    }

    /// Reads a file a template names, relative to the plan's folder.
    fn read_beside(&self, name: &str) -> Result<String, String> {
        self.files
            .read(&self.base_dir.join(name))
            .map_err(|e| e.to_string())
    }

    /// A template string; on errors (reported) an empty template.
    pub(super) fn tpl(&mut self, s: &S<String>, vars: &[String]) -> Template {
        let read = |n: &str| self.read_beside(n);
        let scope = Scope {
            read_file: Some(&read),
            ..Scope::new(&self.env, &self.data_scope, vars)
        };
        match Template::compile(&s.value, &scope) {
            Ok(t) => {
                self.secrets.extend(t.secrets());
                t
            }
            Err(errs) => {
                self.template_errors(lc(s), errs);
                Template::default()
            }
        }
    }

    /// A JSON body whose strings are templates; on errors (reported) an empty template.
    pub(super) fn json_tpl(&mut self, v: &S<Json>, vars: &[String]) -> Template {
        let mut t = Template::default();
        let mut errs = Vec::new();
        {
            let read = |n: &str| self.read_beside(n);
            let scope = Scope {
                read_file: Some(&read),
                ..Scope::new(&self.env, &self.data_scope, vars)
            };
            build_json(&v.value, &scope, &mut t, &mut errs);
        }
        if !errs.is_empty() {
            self.template_errors(lc(v), errs);
        }
        self.secrets.extend(t.secrets());
        t
    }
}

/// Appends `v` as JSON text to `t`, compiling its strings as templates.
fn build_json(v: &Json, scope: &Scope<'_>, t: &mut Template, errs: &mut Vec<TemplateError>) {
    match v {
        Json::Object(m) => {
            t.append_raw("{");
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    t.append_raw(",");
                }
                t.append_raw(&serde_json::to_string(k).unwrap_or_default());
                t.append_raw(":");
                build_json(val, scope, t, errs);
            }
            t.append_raw("}");
        }
        Json::Array(a) => {
            t.append_raw("[");
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    t.append_raw(",");
                }
                build_json(val, scope, t, errs);
            }
            t.append_raw("]");
        }
        Json::String(s) => {
            // `"{{random_int(1,9)}}"` alone is a number; `{{ x | string }}` stays text
            if let Err(e) = t.append_json_value(s, scope) {
                errs.extend(e);
            }
        }
        other => t.append_raw(&other.to_string()),
    }
}
