//! Every unknown key in a plan, not only the first.
//!
//! The YAML reader stops at the first key that the plan's shapes do not know. To report all of
//! them in one go, the key it named is blanked out of a copy of the text (the key, its value
//! and the lines nested under it become spaces, so every line and column stays where it was)
//! and the copy is read again, until the plan reads or another kind of error appears. Only
//! unknown keys are collected this way: an error that follows a blanked key could be an
//! artefact of the blanking, so after the first unknown key other errors are left for the next
//! run to report.
use super::yaml::yaml_error;
use crate::error::{PlanError, PlanErrors, Source};
use serde::de::DeserializeOwned;

/// At most this many unknown keys are reported at once.
const MAX_UNKNOWN: usize = 50;

/// Reads `src` as `T`, reporting every unknown key when there are any.
pub(crate) fn parse_all_unknown<T: DeserializeOwned>(src: &Source) -> Result<T, PlanErrors> {
    let mut text = src.text.clone();
    let mut found: Vec<PlanError> = Vec::new();
    loop {
        let e = match serde_saphyr::from_str::<T>(&text) {
            Ok(v) if found.is_empty() => return Ok(v),
            Ok(_) => return Err(PlanErrors(found)),
            Err(e) => e,
        };
        let first = yaml_error(src, &e);
        let Some(key) = unknown_key(&first.message) else {
            if found.is_empty() {
                found.push(first);
            }
            return Err(PlanErrors(found));
        };
        let (line, col) = (first.line, first.column);
        let mut err = first;
        if let Some(s) = suggestion(&key, &err.message) {
            err.message = err.message.replacen(
                &format!("unknown field `{key}`"),
                &format!("unknown field `{key}` (did you mean `{s}`?)"),
                1,
            );
        }
        // a blanking that fails, or a key reported twice, ends the search
        let repeated = found.iter().any(|f| f.line == line && f.column == col);
        found.push(err);
        if repeated || found.len() >= MAX_UNKNOWN || !blank_key(&mut text, line, col, &key) {
            found.dedup_by(|a, b| a.line == b.line && a.column == b.column);
            return Err(PlanErrors(found));
        }
    }
}

/// The key named by an "unknown field" message.
fn unknown_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let end = rest.find('`')?;
    Some(rest[..end].to_string())
}

/// The expected key closest to `key`, when one is close enough to be a typo.
fn suggestion(key: &str, message: &str) -> Option<String> {
    let list = message.split("expected one of ").nth(1)?;
    let limit = (key.chars().count() / 3).max(1);
    list.split(',')
        .map(|s| s.trim().trim_matches('`'))
        .filter(|s| !s.is_empty())
        .map(|s| (edit_distance(&key.to_lowercase(), &s.to_lowercase()), s))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s.to_string())
}

/// Edit distance in characters, a swap of two neighbours counting as one edit (optimal
/// string alignment), so `chekc` is one edit from `check`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Blanks the key at 1-based `line`:`col` (in characters) with its value: to the end of its
/// line and the lines nested deeper under it in block style, or to the next `,`/`}` in a
/// one-line flow mapping. False when the text there is not that key or the value cannot be
/// delimited (a flow mapping spanning lines).
fn blank_key(text: &mut String, line: usize, col: usize, key: &str) -> bool {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let Some(l) = lines.get_mut(line.wrapping_sub(1)) else {
        return false;
    };
    let Some(start) = l.char_indices().nth(col.wrapping_sub(1)).map(|(i, _)| i) else {
        return false;
    };
    let at = &l[start..];
    let names_key = at.starts_with(key)
        || at
            .strip_prefix(['"', '\''])
            .is_some_and(|s| s.starts_with(key));
    if !names_key {
        return false;
    }
    let prefix = &l[..start];
    let block = prefix.chars().all(|c| c == ' ' || c == '-');
    if block {
        let indent = prefix.chars().count();
        blank(l, start, l.len());
        for next in lines.iter_mut().skip(line) {
            let t = next.trim_start();
            let deeper = next.chars().take_while(|c| *c == ' ').count() > indent;
            if !(t.is_empty() || t.starts_with('#') || deeper) {
                break;
            }
            let len = next.len();
            blank(next, 0, len);
        }
    } else {
        let Some(end) = flow_value_end(at) else {
            return false;
        };
        blank(l, start, start + end);
    }
    *text = lines.join("\n");
    true
}

/// Where `key: value` ends in a flow mapping: after its `,`, or at the `}` closing the
/// mapping. None when the line ends first.
fn flow_value_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') if depth == 0 => return Some(i),
            (None, '}' | ']') => depth -= 1,
            (None, ',') if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Replaces bytes `from..to` of `s` with as many spaces as they held characters.
fn blank(s: &mut String, from: usize, to: usize) {
    let n = s[from..to].chars().count();
    s.replace_range(from..to, &" ".repeat(n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::RawPlan;
    use std::path::PathBuf;

    fn errors(text: &str) -> Vec<PlanError> {
        let src = Source {
            file: PathBuf::from("p.yaml"),
            text: text.to_string(),
        };
        match parse_all_unknown::<RawPlan>(&src) {
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        }
    }

    #[test]
    fn every_unknown_key_is_listed_with_its_place() {
        let text = "scenarios:\n  api:\n    executor: constant-vus\n    vus: 2\n    durationx: 5s\n    flow:\n      - { get: \"http://127.0.0.1:1/\", nmae: home }\n      - get: \"http://127.0.0.1:1/\"\n        chekc:\n          status: 200\nthresholdz:\n  http_req_duration: [\"p(95)<500\"]\n";
        let e = errors(text);
        let at: Vec<(usize, usize)> = e.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(at, vec![(5, 5), (7, 39), (9, 9), (11, 1)], "{e:?}");
        assert!(
            e[0].message.contains("did you mean `duration`?"),
            "{}",
            e[0]
        );
        assert!(e[1].message.contains("did you mean `name`?"), "{}", e[1]);
        assert!(e[2].message.contains("did you mean `check`?"), "{}", e[2]);
        assert!(
            e[3].message.contains("did you mean `thresholds`?"),
            "{}",
            e[3]
        );
        assert_eq!(e[0].snippet.as_deref(), Some("    durationx: 5s"));
    }

    #[test]
    fn a_plan_without_unknown_keys_reads() {
        let text = "scenarios:\n  api:\n    executor: constant-vus\n    vus: 2\n    duration: 5s\n    flow:\n      - get: \"http://127.0.0.1:1/\"\n";
        assert_eq!(errors(text), Vec::new());
    }

    #[test]
    fn other_errors_are_reported_as_before() {
        let e = errors("scenarios:\n  api:\n    executor: constant-vus\n    flow: 5\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 4, "{}", e[0]);
    }

    #[test]
    fn a_key_in_a_list_item_is_blanked_leaving_its_siblings() {
        let text = "scenarios:\n  api:\n    executor: per-vu-iterations\n    flow:\n      - bogus: 1\n        get: \"http://127.0.0.1:1/\"\n      - gte: \"http://127.0.0.1:1/\"\n        name: x\n";
        let e = errors(text);
        let at: Vec<(usize, usize)> = e.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(at, vec![(5, 9), (7, 9)], "{e:?}");
        assert!(e[1].message.contains("did you mean `get`?"), "{}", e[1]);
    }

    #[test]
    fn distance_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("chekc", "check"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(
            suggestion("vu", "unknown field `vu`, expected one of vus, rate"),
            Some("vus".to_string())
        );
        assert_eq!(
            suggestion(
                "zzzzzz",
                "unknown field `zzzzzz`, expected one of vus, rate"
            ),
            None
        );
    }
}
