//! Plans built in code (`throng quick`): every value is tagged with where it came from (a
//! command-line flag), so a compile error names that flag instead of a line of YAML nobody
//! wrote.
use crate::error::PlanError;
use crate::raw::S;
use serde_saphyr::{Location, Spanned};
use std::path::PathBuf;

/// Where the values of a plan built in code came from. Values are tagged with
/// [`Origins::tag`]; [`crate::compile_raw`] reports an error about a value as
/// `ORIGIN: message` (e.g. `-d: unknown name ...`).
///
/// Origin `i` is kept as line `i + 2` of the value's location; line 1 (and unknown
/// locations) stand for the plan as a whole.
#[derive(Debug, Clone)]
pub struct Origins {
    plan: String,
    labels: Vec<String>,
}

impl Origins {
    /// Origins of a plan named `plan` (what whole-plan errors are reported against).
    pub fn new(plan: impl Into<String>) -> Self {
        Origins {
            plan: plan.into(),
            labels: Vec::new(),
        }
    }

    /// The plan's name, as given to [`Origins::new`].
    pub fn plan(&self) -> &str {
        &self.plan
    }

    /// `value`, tagged as coming from `origin` (e.g. `-d`, `--ramp 0:10s,200:1m`).
    pub fn tag<T>(&mut self, origin: &str, value: T) -> S<T> {
        let i = match self.labels.iter().position(|l| l == origin) {
            Some(i) => i,
            None => {
                self.labels.push(origin.to_string());
                self.labels.len() - 1
            }
        };
        let at = location(i + 2);
        Spanned::new(value, at, at)
    }

    /// `e` (found at a tagged location) as an error about its origin.
    pub(crate) fn relabel(&self, e: PlanError) -> PlanError {
        let label = e
            .line
            .checked_sub(2)
            .and_then(|i| self.labels.get(i))
            .unwrap_or(&self.plan);
        PlanError {
            file: PathBuf::from(label),
            line: 0,
            column: 0,
            message: e.message,
            snippet: None,
        }
    }
}

/// A location on `line`, column 1. serde-saphyr makes locations only while parsing; its
/// `Deserialize` implementation is the public way to make one.
fn location(line: usize) -> Location {
    serde_json::from_value(serde_json::json!({ "line": line, "column": 1 }))
        .unwrap_or(Location::UNKNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_back_to_their_origin() {
        let mut o = Origins::new("quick");
        let a = o.tag("-d", "x".to_string());
        let b = o.tag("-H", 1u64);
        let a2 = o.tag("-d", 2u64);
        assert_eq!(a.referenced.line(), a2.referenced.line());
        assert_ne!(a.referenced.line(), b.referenced.line());
        let err = |line: u64| PlanError {
            file: "x".into(),
            line: line as usize,
            column: 1,
            message: "bad".into(),
            snippet: None,
        };
        assert_eq!(o.relabel(err(b.referenced.line())).to_string(), "-H: bad");
        assert_eq!(o.relabel(err(1)).to_string(), "quick: bad");
        assert_eq!(o.relabel(err(0)).to_string(), "quick: bad");
    }
}
