//! A request's `check:`: status, duration, body_contains, body_matches, json and header
//! checks, each named as k6 would show it.
use super::extract::json_path;
use super::{lc, Cx};
use crate::duration::parse_duration;
use crate::model::{Check, CheckKind, CmpOp};
use crate::raw::{Json, RawCheck, S};

/// The statuses a `status` check may name: HTTP's 100–599.
pub(super) const HTTP_STATUSES: (u16, u16, &str) = (100, 599, "a status code (100-599)");

/// The checks of one `check:` mapping, in a fixed order.
pub(super) fn compile_checks(cx: &mut Cx<'_>, c: &S<RawCheck>) -> Vec<Check> {
    compile_checks_for(cx, c, HTTP_STATUSES)
}

/// [`compile_checks`] for a step kind whose statuses are `lo..=hi` (`what` names them in
/// errors).
pub(super) fn compile_checks_for(
    cx: &mut Cx<'_>,
    c: &S<RawCheck>,
    (lo, hi, what): (u16, u16, &str),
) -> Vec<Check> {
    let r = &c.value;
    let mut out = Vec::new();
    if let Some(st) = &r.status {
        let codes: Option<Vec<u16>> = match &st.value {
            Json::Number(n) => n.as_u64().map(|v| vec![v as u16]),
            Json::Array(a) => a.iter().map(|v| v.as_u64().map(|v| v as u16)).collect(),
            _ => None,
        };
        match codes {
            Some(codes) if !codes.is_empty() && codes.iter().all(|c| (lo..=hi).contains(c)) => {
                let name = if codes.len() == 1 {
                    format!("status is {}", codes[0])
                } else {
                    format!(
                        "status in [{}]",
                        codes
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(Check {
                    name,
                    kind: CheckKind::Status(codes),
                });
            }
            _ => cx.err(
                st,
                format!("check status: expected {what} or a list of them"),
            ),
        }
    }
    if let Some(d) = &r.duration {
        let t = d.value.trim();
        let (op, rest) = if let Some(x) = t.strip_prefix("<=") {
            (CmpOp::Le, x)
        } else if let Some(x) = t.strip_prefix(">=") {
            (CmpOp::Ge, x)
        } else if let Some(x) = t.strip_prefix('<') {
            (CmpOp::Lt, x)
        } else if let Some(x) = t.strip_prefix('>') {
            (CmpOp::Gt, x)
        } else {
            cx.err(d, "check duration: expected a comparison like `<500ms`");
            (CmpOp::Lt, "")
        };
        if !rest.is_empty() {
            // a bare number is milliseconds, as in thresholds (`<500`)
            let bare_ms = rest
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0);
            let ms = match bare_ms {
                Some(v) => Ok(v),
                None => parse_duration(rest).map(|v| v.as_secs_f64() * 1000.0),
            };
            match ms {
                Ok(v) => out.push(Check {
                    name: format!("duration {}", t.replace(' ', "")),
                    kind: CheckKind::Duration(op, v),
                }),
                Err(e) => cx.err(
                    d,
                    format!("check duration: {e} (or a number of milliseconds, e.g. `<500`)"),
                ),
            }
        }
    }
    if let Some(b) = &r.body_contains {
        out.push(Check {
            name: format!("body contains {}", b.value),
            kind: CheckKind::BodyContains(b.value.clone()),
        });
    }
    if let Some(b) = &r.body_matches {
        match regex::Regex::new(&b.value) {
            Ok(re) => out.push(Check {
                name: format!("body matches {}", b.value),
                kind: CheckKind::BodyMatches(re),
            }),
            Err(e) => cx.err(
                b,
                format!(
                    "body_matches: invalid regex: {}",
                    e.to_string().replace('\n', " ")
                ),
            ),
        }
    }
    for (path, expected) in &r.json {
        if let Some(jp) = json_path(cx, lc(expected), path) {
            let shown = match &expected.value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = if shown == "*" {
                format!("{path} exists")
            } else {
                format!("{path} == {shown}")
            };
            out.push(Check {
                name,
                kind: CheckKind::Json {
                    path: jp,
                    expected: expected.value.clone(),
                },
            });
        }
    }
    for (name, expected) in &r.header {
        let check_name = if expected.value == "*" {
            format!("header {name} present")
        } else {
            format!("header {name} contains {}", expected.value)
        };
        out.push(Check {
            name: check_name,
            kind: CheckKind::Header {
                name: name.clone(),
                expected: expected.value.clone(),
            },
        });
    }
    if let Some(rows) = &r.rows {
        match parse_rows(&rows.value) {
            Some((op, n, shown)) => out.push(Check {
                name: format!("rows {shown}"),
                kind: CheckKind::Rows(op, n),
            }),
            None => cx.err(
                rows,
                "check rows: expected a count or a comparison such as \">0\" or \"<=10\"",
            ),
        }
    }
    if let Some(n) = &r.name {
        match out.len() {
            1 => out[0].name = n.value.clone(),
            0 => {}
            _ => cx.err(
                n,
                "name: names one check, but this mapping holds several: give each its own entry under `checks:`",
            ),
        }
    }
    if out.is_empty() && cx.errors.is_empty() {
        cx.err(
            c,
            "check is empty: expected status, duration, body_contains, body_matches, json, header or rows",
        );
    }
    out
}

/// `3`, `"==3"`, `">0"`, `"<=10"`: the comparison (`None`: equal), the count and how the
/// check is named.
fn parse_rows(v: &Json) -> Option<(Option<CmpOp>, u64, String)> {
    if let Some(n) = v.as_u64() {
        return Some((None, n, format!("== {n}")));
    }
    let t = v.as_str()?.trim();
    let (op, rest) = if let Some(x) = t.strip_prefix("<=") {
        (Some(CmpOp::Le), x)
    } else if let Some(x) = t.strip_prefix(">=") {
        (Some(CmpOp::Ge), x)
    } else if let Some(x) = t.strip_prefix("==") {
        (None, x)
    } else if let Some(x) = t.strip_prefix('<') {
        (Some(CmpOp::Lt), x)
    } else if let Some(x) = t.strip_prefix('>') {
        (Some(CmpOp::Gt), x)
    } else {
        (None, t)
    };
    let n = rest.trim().parse::<u64>().ok()?;
    let sym = match op {
        None => "==",
        Some(CmpOp::Lt) => "<",
        Some(CmpOp::Le) => "<=",
        Some(CmpOp::Gt) => ">",
        Some(CmpOp::Ge) => ">=",
    };
    Some((op, n, format!("{sym} {n}")))
}
