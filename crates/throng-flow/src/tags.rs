//! Tag sets resolved at load (per request and check) and cached per VU (per status).
use crate::step::{Failure, Outcome};
use std::collections::HashMap;
use std::time::Duration;
use throng_metrics::{Registry, TagSet, TagSetId};
use throng_plan::{Plan, Request, Step};

/// A flow step with everything resolved.
pub(crate) enum FStep {
    /// Index into the request table.
    Request(usize),
    Sleep(Duration, Duration),
    Group {
        steps: Vec<FStep>,
        tags: TagSetId,
    },
}

/// A request with its static tags.
pub(crate) struct ReqInfo {
    pub req: Request,
    pub base: TagSet,
    /// Tag set of each check's `checks` samples.
    pub check_tags: Vec<TagSetId>,
    pub index: u32,
}

fn common_tags(plan: &Plan, scenario: usize) -> Vec<(String, String)> {
    let sc = &plan.scenarios[scenario];
    throng_metrics::scenario_tags(&plan.http.tags, &sc.tags, &sc.name)
}

/// Builds the step tree and the request table of a scenario.
pub(crate) fn prepare(plan: &Plan, scenario: usize, reg: &Registry) -> (Vec<FStep>, Vec<ReqInfo>) {
    let common = common_tags(plan, scenario);
    let mut reqs = Vec::new();
    let steps = walk(&plan.scenarios[scenario].flow, &common, reg, &mut reqs);
    (steps, reqs)
}

fn walk(
    steps: &[Step],
    common: &[(String, String)],
    reg: &Registry,
    reqs: &mut Vec<ReqInfo>,
) -> Vec<FStep> {
    steps
        .iter()
        .map(|s| match s {
            Step::Request(r) => {
                // a secret written into a URL (`?api_key=…`) never becomes a tag value
                let name = throng_metrics::redact::url(&r.name).into_owned();
                let mut base: Vec<(String, String)> = common.to_vec();
                base.push(("group".into(), r.group.clone()));
                base.push(("name".into(), name.clone()));
                base.push(("url".into(), name.clone()));
                base.push(("method".into(), r.method.clone()));
                base.extend(r.tags.iter().cloned());
                let check_tags = r
                    .checks
                    .iter()
                    .map(|c| {
                        let mut t: Vec<(String, String)> = common.to_vec();
                        t.push(("group".into(), r.group.clone()));
                        t.push(("check".into(), c.name.clone()));
                        t.push(("name".into(), name.clone()));
                        reg.intern(TagSet::new(t))
                    })
                    .collect();
                let index = reqs.len() as u32;
                reqs.push(ReqInfo {
                    req: (**r).clone(),
                    base: TagSet::new(base),
                    check_tags,
                    index,
                });
                FStep::Request(index as usize)
            }
            Step::Sleep { min, max } => FStep::Sleep(*min, *max),
            Step::Group { path, steps, .. } => {
                let mut t: Vec<(String, String)> = common.to_vec();
                t.push(("group".into(), path.clone()));
                FStep::Group {
                    steps: walk(steps, common, reg, reqs),
                    tags: reg.intern(TagSet::new(t)),
                }
            }
        })
        .collect()
}

/// Per-VU cache: (request, status, failure) → tag set id. Interning happens once per
/// distinct combination; afterwards a lookup allocates nothing.
#[derive(Default)]
pub(crate) struct TagCache {
    map: HashMap<(u32, u16, Option<Failure>), TagSetId>,
}

impl TagCache {
    /// The tag set of one outcome of request `ri`, of any step kind.
    pub fn get(&mut self, reg: &Registry, ri: &ReqInfo, outcome: &impl Outcome) -> TagSetId {
        let (status, failure) = (outcome.status(), outcome.failure());
        *self
            .map
            .entry((ri.index, status, failure))
            .or_insert_with(|| {
                let expected = crate::record::expected_status(status);
                let mut t = ri
                    .base
                    .with("status", &status.to_string())
                    .with("expected_response", if expected { "true" } else { "false" });
                if let Some(f) = failure {
                    t = t
                        .with("error_code", &f.code.to_string())
                        .with("error", f.name);
                }
                reg.intern(t)
            })
    }
}
