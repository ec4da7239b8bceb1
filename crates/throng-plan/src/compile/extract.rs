//! A request's `extract:` (header, json, regex or cookie into a flow variable), and the JSON
//! path syntax shared with checks.
use super::{lc, Cx};
use crate::json_query::JsonQuery;
use crate::model::ExtractFrom;
use crate::raw::{RawExtract, S};

/// A JSON path such as `$.items[0].id`, or an error at `at`.
pub(super) fn json_path(cx: &mut Cx<'_>, at: (usize, usize), p: &str) -> Option<JsonQuery> {
    match JsonQuery::parse(p) {
        Ok(jp) => Some(jp),
        Err(e) => {
            cx.err_at(
                at,
                format!("`{p}` is not a JSON path (expected e.g. `$.items[0].id`): {e}"),
            );
            None
        }
    }
}

/// Where variable `var` is extracted from.
pub(super) fn compile_extract(
    cx: &mut Cx<'_>,
    var: &str,
    e: &S<RawExtract>,
) -> Option<ExtractFrom> {
    let r = &e.value;
    let n = [&r.header, &r.json, &r.regex, &r.cookie, &r.column]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if n != 1 {
        cx.err(
            e,
            format!(
                "extract `{var}`: expected exactly one of header, json, regex, cookie or column"
            ),
        );
        return None;
    }
    if let Some(h) = &r.header {
        return Some(ExtractFrom::Header(h.value.clone()));
    }
    if let Some(j) = &r.json {
        return json_path(cx, lc(j), &j.value).map(ExtractFrom::Json);
    }
    if let Some(re) = &r.regex {
        return match regex::Regex::new(&re.value) {
            Ok(x) => Some(ExtractFrom::Regex(x)),
            Err(err) => {
                cx.err(
                    re,
                    format!(
                        "extract `{var}`: invalid regex: {}",
                        err.to_string().replace('\n', " ")
                    ),
                );
                None
            }
        };
    }
    if let Some(c) = &r.column {
        return Some(ExtractFrom::Column(c.value.clone()));
    }
    r.cookie
        .as_ref()
        .map(|c| ExtractFrom::Cookie(c.value.clone()))
}
