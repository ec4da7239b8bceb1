//! Tag sets resolved at load (per request and check) and cached per VU (per status).
use crate::step::{Failure, Outcome};
use std::collections::HashMap;
use std::time::Duration;
use throng_metrics::{MetricId, MetricKind, Registry, TagSet, TagSetId, ValueType};
use throng_plan::{Body, Repeat, Request, Step, Template};

/// A flow step with everything resolved.
pub(crate) enum FStep {
    /// Index into the request table.
    Request(usize),
    Sleep(Duration, Duration),
    Group {
        steps: Vec<FStep>,
        tags: TagSetId,
    },
    /// Runs `step` when `cond` renders truthy.
    If {
        cond: Template,
        step: Box<FStep>,
    },
    /// Picks one branch by weight: `cumulative[i]` is the sum of weights up to branch `i`.
    Choose {
        cumulative: Vec<f64>,
        branches: Vec<Vec<FStep>>,
    },
    Repeat(Box<FRepeat>),
    /// Index into the table of protocol steps.
    Proto(usize),
    /// `sql:` steps in one transaction.
    Transaction(Box<crate::proto::FTransaction>),
}

/// A `repeat:` loop with its metrics resolved.
pub(crate) struct FRepeat {
    pub spec: Repeat,
    pub steps: Vec<FStep>,
    /// Where the loop's elapsed time goes, with its tags.
    pub trend: Option<(MetricId, TagSetId)>,
    /// The `checks` tag set of the loop's `until` verdict.
    pub check_tags: TagSetId,
}

/// A request with its static tags.
pub(crate) struct ReqInfo {
    pub req: Request,
    /// The request's method, parsed once when the plan is prepared.
    pub method: http::Method,
    pub base: TagSet,
    /// Tag set of each check's `checks` samples.
    pub check_tags: Vec<TagSetId>,
    pub index: u32,
    /// Every template of the request is plain text (its URL, query, headers and body): it
    /// renders the same every time, so a VU that rendered it last need not again.
    pub fixed: bool,
    /// For a poll (`until:`): the tags of its `checks` verdict and its trend metric.
    pub poll: Option<PollInfo>,
    /// Where each of the request's `add:` values goes (parallel to `req.add`).
    pub adds: Vec<(MetricId, TagSetId)>,
}

/// Whether every template of `r` is plain text (see [`ReqInfo::fixed`]).
fn is_fixed(r: &Request) -> bool {
    let all = |ts: &[(String, Template)]| ts.iter().all(|(_, t)| t.is_static());
    r.url.is_static()
        && all(&r.query)
        && all(&r.headers)
        && match &r.body {
            None => true,
            Some(Body::Text(t)) => t.is_static(),
            Some(Body::Form(fields)) => all(fields),
        }
}

/// The resolved metrics of a request's poll.
pub(crate) struct PollInfo {
    pub check_tags: TagSetId,
    pub trend: Option<(MetricId, TagSetId)>,
}

/// The steps of a flow, with every request in one table.
pub(crate) struct Prepared {
    pub steps: Vec<FStep>,
    /// Steps run once per VU before its first iteration.
    pub init: Vec<FStep>,
    pub reqs: Vec<ReqInfo>,
    /// Steps of other protocols (`ws:`, `grpc:`).
    pub protos: Vec<crate::proto::ProtoInfo>,
}

/// Builds the step trees (`steps`, `init`) and the request table of a flow whose samples
/// carry `common` tags.
pub(crate) fn prepare(
    steps: &[Step],
    init: &[Step],
    common: &[(String, String)],
    reg: &Registry,
) -> Prepared {
    let mut w = Walker {
        common,
        reg,
        reqs: Vec::new(),
        protos: Vec::new(),
    };
    let steps = w.walk(steps, "");
    let init = w.walk(init, "");
    Prepared {
        steps,
        init,
        reqs: w.reqs,
        protos: w.protos,
    }
}

struct Walker<'a> {
    common: &'a [(String, String)],
    reg: &'a Registry,
    reqs: Vec<ReqInfo>,
    protos: Vec<crate::proto::ProtoInfo>,
}

impl Walker<'_> {
    fn tags(&self, extra: &[(&str, &str)]) -> TagSetId {
        let mut t: Vec<(String, String)> = self.common.to_vec();
        t.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.reg.intern(TagSet::new(t))
    }

    fn trend(&self, name: &Option<String>, extra: &[(&str, &str)]) -> Option<(MetricId, TagSetId)> {
        let name = name.as_deref()?;
        let id = self
            .reg
            .metric(name)
            .map(|m| m.0)
            .or_else(|| self.reg.define(name, MetricKind::Trend, ValueType::Time))?;
        Some((id, self.tags(extra)))
    }

    fn walk(&mut self, steps: &[Step], group: &str) -> Vec<FStep> {
        steps.iter().map(|s| self.step(s, group)).collect()
    }

    fn step(&mut self, s: &Step, group: &str) -> FStep {
        match s {
            Step::Request(r) => {
                // a secret written into a URL (`?api_key=…`) never becomes a tag value
                let name = throng_metrics::redact::url(&r.name).into_owned();
                let mut base: Vec<(String, String)> = self.common.to_vec();
                base.push(("group".into(), r.group.clone()));
                base.push(("name".into(), name.clone()));
                base.push(("url".into(), name.clone()));
                base.push(("method".into(), r.method.clone()));
                base.extend(r.tags.iter().cloned());
                let check_tags = r
                    .checks
                    .iter()
                    .map(|c| self.tags(&[("group", &r.group), ("check", &c.name), ("name", &name)]))
                    .collect();
                let poll = r.poll.as_ref().map(|p| PollInfo {
                    check_tags: self.tags(&[
                        ("group", &r.group),
                        ("check", &p.label),
                        ("name", &name),
                    ]),
                    trend: self.trend(&p.trend, &[("group", &r.group), ("name", &name)]),
                });
                let adds =
                    r.add
                        .iter()
                        .filter_map(|a| {
                            let id = self.reg.metric(&a.metric).map(|m| m.0).or_else(|| {
                                self.reg.define(&a.metric, a.kind, ValueType::Default)
                            })?;
                            Some((id, self.tags(&[("group", &r.group)])))
                        })
                        .collect();
                let index = self.reqs.len() as u32;
                self.reqs.push(ReqInfo {
                    adds,
                    method: http::Method::from_bytes(r.method.as_bytes())
                        .unwrap_or(http::Method::GET),
                    req: (**r).clone(),
                    base: TagSet::new(base),
                    check_tags,
                    index,
                    fixed: is_fixed(r),
                    poll,
                });
                FStep::Request(index as usize)
            }
            Step::Sleep { min, max } => FStep::Sleep(*min, *max),
            Step::Transaction { source, steps } => {
                let steps = self.walk(steps, group);
                FStep::Transaction(Box::new(crate::proto::FTransaction::new(
                    *source,
                    steps,
                    self.common,
                    group,
                    self.reg,
                )))
            }
            Step::Proto(p) => {
                let index = self.protos.len() as u32;
                let info = crate::proto::ProtoInfo::new(p, self.common, self.reg, index);
                self.protos.push(info);
                FStep::Proto(index as usize)
            }
            Step::Group { path, steps, .. } => FStep::Group {
                steps: self.walk(steps, path),
                tags: self.tags(&[("group", path)]),
            },
            Step::If { cond, step, .. } => FStep::If {
                cond: cond.clone(),
                step: Box::new(self.step(step, group)),
            },
            Step::Choose { branches } => {
                let mut sum = 0.0;
                let cumulative = branches
                    .iter()
                    .map(|b| {
                        sum += b.weight;
                        sum
                    })
                    .collect();
                FStep::Choose {
                    cumulative,
                    branches: branches
                        .iter()
                        .map(|b| self.walk(&b.steps, group))
                        .collect(),
                }
            }
            Step::Repeat(r) => FStep::Repeat(Box::new(FRepeat {
                steps: self.walk(&r.steps, group),
                trend: self.trend(&r.trend, &[("group", group)]),
                check_tags: self.tags(&[("group", group), ("check", &r.label)]),
                spec: (**r).clone(),
            })),
        }
    }
}

/// Per-VU cache: (request, status, failure, proto) → tag set id. Interning happens once per
/// distinct combination; afterwards a lookup allocates nothing and hashes nothing: each
/// request keeps its few outcomes in a short list, most recent first (a request mostly
/// answers as it did last time), and only a request with many distinct outcomes spills
/// into a map.
#[derive(Default)]
#[repr(C)]
pub(crate) struct TagCache {
    /// The last lookup (request index, outcome, tag set), held in the VU itself: a flow of
    /// one request answered alike asks the same every time, and with a thousand VUs the
    /// lists below are two cache misses away.
    last: Option<(u32, OutcomeKey, TagSetId)>,
    /// By request index: its outcomes seen so far (at most [`SHORT`]).
    recent: Vec<Vec<(OutcomeKey, TagSetId)>>,
    /// Outcomes past the first [`SHORT`] of a request.
    map: HashMap<(u32, OutcomeKey), TagSetId>,
}

/// How many outcomes of one request are kept in its short list.
const SHORT: usize = 8;

/// What of an outcome its tags depend on: status, failure, protocol.
#[derive(Clone, Copy, Debug, Eq)]
struct OutcomeKey {
    status: u16,
    failure: Option<Failure>,
    proto: &'static str,
}

impl PartialEq for OutcomeKey {
    #[inline]
    fn eq(&self, o: &Self) -> bool {
        // the protocol names are the same few statics: their address settles it mostly
        self.status == o.status
            && self.failure == o.failure
            && (std::ptr::eq(self.proto, o.proto) || self.proto == o.proto)
    }
}

impl std::hash::Hash for OutcomeKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.status, self.failure, self.proto).hash(h)
    }
}

impl TagCache {
    /// The tag set of one outcome of request `ri`, of any step kind.
    #[inline]
    pub fn get(&mut self, reg: &Registry, ri: &ReqInfo, outcome: &impl Outcome) -> TagSetId {
        let key = OutcomeKey {
            status: outcome.status(),
            failure: outcome.failure(),
            proto: outcome.proto(),
        };
        if let Some((i, k, id)) = self.last {
            if i == ri.index && k == key {
                return id;
            }
        }
        let id = match self.recent.get(ri.index as usize).and_then(|l| l.first()) {
            Some((k, id)) if *k == key => *id,
            _ => self.lookup(reg, ri, key),
        };
        self.last = Some((ri.index, key, id));
        id
    }

    /// [`TagCache::get`] past the most recent outcome.
    fn lookup(&mut self, reg: &Registry, ri: &ReqInfo, key: OutcomeKey) -> TagSetId {
        let i = ri.index as usize;
        if self.recent.len() <= i {
            self.recent.resize_with(i + 1, Vec::new);
        }
        let list = &mut self.recent[i];
        if let Some(pos) = list.iter().position(|(k, _)| *k == key) {
            // most recent first
            list[..=pos].rotate_right(1);
            return list[0].1;
        }
        if list.len() >= SHORT {
            return *self
                .map
                .entry((ri.index, key))
                .or_insert_with(|| intern(reg, ri, key));
        }
        let id = intern(reg, ri, key);
        list.insert(0, (key, id));
        id
    }
}

/// Interns the tag set of outcome `key` of request `ri`.
fn intern(reg: &Registry, ri: &ReqInfo, key: OutcomeKey) -> TagSetId {
    let OutcomeKey {
        status,
        failure,
        proto,
    } = key;
    let expected = ri.req.expected.contains(status);
    let mut t = ri
        .base
        .with("status", &status.to_string())
        .with("expected_response", if expected { "true" } else { "false" });
    if !proto.is_empty() {
        t = t.with("proto", proto);
    }
    if let Some(f) = failure {
        t = t
            .with("error_code", &f.code.to_string())
            .with("error", f.name);
    }
    reg.intern(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// An outcome as a test gives it.
    struct Seen(u16, Option<Failure>, &'static str);

    impl Outcome for Seen {
        fn status(&self) -> u16 {
            self.0
        }
        fn failure(&self) -> Option<Failure> {
            self.1
        }
        fn proto(&self) -> &'static str {
            self.2
        }
    }

    fn prepared(reg: &Registry) -> Prepared {
        let yaml = "name: t\nbase_url: http://127.0.0.1:1\nscenarios:\n  s:\n    \
                    executor: shared-iterations\n    iterations: 1\n    flow:\n      \
                    - get: /a\n      - get: /b\n";
        let plan = throng_plan::load_str(yaml, Path::new("t.yaml"), &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let sc = &plan.scenarios[0];
        prepare(
            &sc.flow,
            &sc.vu_init,
            &[("scenario".into(), "s".into())],
            reg,
        )
    }

    /// The tag set as interned without any cache.
    fn uncached(reg: &Registry, ri: &ReqInfo, o: &Seen) -> TagSetId {
        intern(
            reg,
            ri,
            OutcomeKey {
                status: o.0,
                failure: o.1,
                proto: o.2,
            },
        )
    }

    #[test]
    fn the_cache_answers_as_interning_does_for_many_mixed_outcomes() {
        let reg = Registry::new();
        let p = prepared(&reg);
        let refused = Failure {
            code: 1212,
            name: "connection refused",
        };
        // a String's bytes: equal to "HTTP/1.1" but at another address
        let proto: &'static str = String::from("HTTP/1.1").leak();
        let mut outcomes = vec![
            Seen(200, None, "HTTP/1.1"),
            Seen(200, None, proto),
            Seen(200, None, "HTTP/2.0"),
            Seen(404, None, "HTTP/1.1"),
            Seen(0, Some(refused), ""),
            Seen(503, None, "HTTP/1.1"),
        ];
        // more distinct outcomes than a request's short list holds
        outcomes.extend((0..12).map(|i| Seen(500 + i, None, "HTTP/1.1")));
        let mut cache = TagCache::default();
        let mut seed = 7u64;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let ri = &p.reqs[(seed >> 40) as usize % 2];
            // mostly the same outcome again, as a real run
            let o = if seed >> 60 == 0 {
                &outcomes[(seed >> 33) as usize % outcomes.len()]
            } else {
                &outcomes[ri.index as usize]
            };
            let id = cache.get(&reg, ri, o);
            assert_eq!(id, uncached(&reg, ri, o));
            let tags = reg.tags(id);
            assert_eq!(tags.get("status"), Some(o.0.to_string().as_str()));
            assert_eq!(tags.get("name"), Some(ri.req.name.as_str()));
        }
        assert!(cache.recent.iter().all(|l| l.len() <= SHORT));
        // same status, same tags: the leaked copy of "HTTP/1.1" shares the static's set
        let a = cache.get(&reg, &p.reqs[0], &outcomes[0]);
        assert_eq!(cache.get(&reg, &p.reqs[0], &outcomes[1]), a);
        assert_ne!(cache.get(&reg, &p.reqs[0], &outcomes[2]), a);
        assert_ne!(cache.get(&reg, &p.reqs[1], &outcomes[0]), a);
        let t = reg.tags(cache.get(&reg, &p.reqs[0], &outcomes[4]));
        assert_eq!(
            (
                t.get("error"),
                t.get("error_code"),
                t.get("expected_response")
            ),
            (Some("connection refused"), Some("1212"), Some("false"))
        );
    }
}
