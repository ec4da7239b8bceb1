//! Interned tag sets: a sorted list of `(key, value)` pairs known by a small id.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// The id of an interned [`TagSet`] within one registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TagSetId(pub u32);

/// A sorted set of tags. Keys are unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TagSet(Vec<(String, String)>);

impl TagSet {
    pub(crate) const fn from_sorted(v: Vec<(String, String)>) -> Self {
        TagSet(v)
    }

    /// Builds a tag set from pairs; later duplicates of a key win.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut v: Vec<(String, String)> = Vec::new();
        for (k, val) in pairs {
            let k = k.into();
            let val = val.into();
            if let Some(slot) = v.iter_mut().find(|(ek, _)| *ek == k) {
                slot.1 = val;
            } else {
                v.push((k, val));
            }
        }
        v.sort();
        TagSet(v)
    }

    /// The value of a tag, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether every `(key, value)` in `filter` is in this set.
    pub fn matches(&self, filter: &[(String, String)]) -> bool {
        filter.iter().all(|(k, v)| self.get(k) == Some(v.as_str()))
    }

    /// The pairs, sorted by key.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Whether samples with these tags are failures whose first and last times the
    /// registry keeps (k6's `expected_response:false`, or an `error` tag).
    pub fn marks_failure(&self) -> bool {
        self.get("expected_response") == Some("false") || self.get("error").is_some()
    }

    /// A copy with one more tag (replacing the key if present).
    pub fn with(&self, key: &str, value: &str) -> TagSet {
        TagSet::new(
            self.0
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain(std::iter::once((key, value))),
        )
    }
}

/// The tags every sample of a scenario carries: the plan's tags, then the scenario's own
/// (which win), then `scenario:<name>`.
pub fn scenario_tags(
    plan_tags: &[(String, String)],
    scenario_tags: &[(String, String)],
    scenario: &str,
) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = plan_tags.to_vec();
    t.extend(scenario_tags.iter().cloned());
    t.push((crate::names::SCENARIO_TAG.into(), scenario.to_string()));
    t
}

/// Assigns ids to tag sets; lookups by id are cheap and lock-free for holders of an `Arc`.
#[derive(Default)]
pub(crate) struct Interner {
    pub(crate) sets: Vec<Arc<TagSet>>,
    by_set: HashMap<Arc<TagSet>, TagSetId>,
}

impl Interner {
    pub(crate) fn intern(&mut self, set: TagSet) -> TagSetId {
        if let Some(id) = self.by_set.get(&set) {
            return *id;
        }
        let id = TagSetId(self.sets.len() as u32);
        let set = Arc::new(set);
        self.sets.push(set.clone());
        self.by_set.insert(set, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_deduplicated() {
        let t = TagSet::new([("b", "1"), ("a", "2"), ("b", "3")]);
        assert_eq!(
            t.pairs(),
            &[("a".into(), "2".into()), ("b".into(), "3".into())]
        );
        assert!(t.matches(&[("b".into(), "3".into())]));
        assert!(!t.matches(&[("b".into(), "1".into())]));
    }

    #[test]
    fn interner_reuses_ids() {
        let mut i = Interner::default();
        let a = i.intern(TagSet::new([("x", "1")]));
        let b = i.intern(TagSet::new([("x", "1")]));
        let c = i.intern(TagSet::new([("x", "2")]));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
