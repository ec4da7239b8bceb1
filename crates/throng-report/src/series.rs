//! Per-second series, per-phase aggregates and failure kinds, built while the run goes from
//! each once-a-second snapshot's interval. Memory grows only with seconds (a few numbers
//! each) and phases (one HDR histogram each), never with requests.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use throng_metrics::{Agg, Snapshot, TrendAgg};
use throng_plan::{Executor, Plan};

/// One second of the run: what happened in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SecondPoint {
    /// Seconds since the start (end of the interval).
    pub t: f64,
    /// Active VUs at the end of it.
    pub vus: u64,
    /// Requests finished in it.
    pub reqs: u64,
    /// Failed requests in it.
    pub failures: u64,
    /// 429 answers in it.
    pub rate_limited: u64,
    /// Latency percentiles of its requests (ms).
    pub p50: f64,
    /// p90, ms.
    pub p90: f64,
    /// p95, ms.
    pub p95: f64,
    /// p99, ms.
    pub p99: f64,
    /// Max, ms.
    pub max: f64,
    /// Bytes sent in it.
    pub data_sent: f64,
    /// Bytes received in it.
    pub data_received: f64,
    /// Locust's percentiles of this second's requests: (percentile, ms).
    #[serde(default)]
    pub percentiles: Vec<(f64, f64)>,
    /// Requests so far.
    #[serde(default)]
    pub total_reqs: u64,
    /// Failures so far.
    #[serde(default)]
    pub total_failures: u64,
    /// Median of all requests so far, ms.
    #[serde(default)]
    pub total_p50: f64,
    /// Average of all requests so far, ms.
    #[serde(default)]
    pub total_avg: f64,
    /// Min so far, ms.
    #[serde(default)]
    pub total_min: f64,
    /// Max so far, ms.
    #[serde(default)]
    pub total_max: f64,
    /// Average bytes received per request so far.
    #[serde(default)]
    pub total_avg_size: f64,
}

/// One request name's second.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct NamePoint {
    /// Seconds since the start.
    pub t: f64,
    /// Requests.
    pub reqs: u64,
    /// Failures.
    pub failures: u64,
    /// p95, ms.
    pub p95: f64,
}

/// A phase: a stage of a ramping executor, or a whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PhaseResult {
    /// Scenario.
    pub scenario: String,
    /// `ramp-up 0→50 VUs`, `steady 50 VUs`, `ramp-down 50→0 VUs`, `200 it/s`, ...
    pub name: String,
    /// Start, seconds since the run started.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// VUs (or iterations/s) at the start.
    pub from: f64,
    /// VUs (or iterations/s) at the end.
    pub to: f64,
    /// `VUs` or `it/s`.
    pub unit: String,
    /// Requests finished in the phase.
    pub requests: u64,
    /// Requests per second over the phase.
    pub rps: f64,
    /// Latency (ms), from the phase's own HDR histogram.
    pub avg: f64,
    /// p50, ms.
    pub p50: f64,
    /// p95, ms.
    pub p95: f64,
    /// p99, ms.
    pub p99: f64,
    /// Max, ms.
    pub max: f64,
    /// Failed requests.
    pub failures: u64,
    /// Failed share.
    pub error_rate: f64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 429 share.
    pub rate_limited_share: f64,
}

/// Failures of one kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FailureKind {
    /// `timeout`, `connection refused`, `http 500`, `rate limited (429)`, ...
    pub kind: String,
    /// How many.
    pub count: u64,
    /// First second it was seen.
    pub first_seen_s: f64,
    /// Last second it was seen.
    pub last_seen_s: f64,
    /// The request names it hit.
    pub names: Vec<String>,
}

struct PhaseAcc {
    meta: PhaseResult,
    hist: TrendAgg,
}

/// Builds the per-second series, phases and failure kinds.
pub struct SeriesRecorder {
    seconds: Vec<SecondPoint>,
    by_name: BTreeMap<String, Vec<NamePoint>>,
    by_scenario: BTreeMap<String, Vec<NamePoint>>,
    phases: Vec<PhaseAcc>,
    failures: BTreeMap<String, FailureKind>,
}

fn pct(t: &TrendAgg, p: f64) -> f64 {
    t.percentile(p)
}

/// One phase per stage: (name, start, end, from, to).
fn staged(
    start: f64,
    stages: &[throng_plan::Stage],
    from0: f64,
    unit: &str,
) -> Vec<(String, f64, f64, f64, f64)> {
    let mut out = Vec::new();
    let mut t = start;
    let mut from = from0;
    for st in stages {
        let end = t + st.duration.as_secs_f64();
        let to = st.target;
        let name = if to > from {
            format!("ramp-up {from}→{to} {unit}")
        } else if to < from {
            format!("ramp-down {from}→{to} {unit}")
        } else {
            format!("steady {to} {unit}")
        };
        out.push((name, t, end, from, to));
        t = end;
        from = to;
    }
    out
}

/// Everything the recorder built.
pub struct SeriesOutput {
    /// Per second.
    pub seconds: Vec<SecondPoint>,
    /// Per request name, per second.
    pub by_name: BTreeMap<String, Vec<NamePoint>>,
    /// Per scenario, per second.
    pub by_scenario: BTreeMap<String, Vec<NamePoint>>,
    /// Phases.
    pub phases: Vec<PhaseResult>,
    /// Failure kinds, most frequent first.
    pub failures: Vec<FailureKind>,
}

/// The phases of a plan (time windows per scenario).
fn plan_phases(plan: &Plan) -> Vec<PhaseResult> {
    let mut out = Vec::new();
    for sc in &plan.scenarios {
        let start = sc.start_time.as_secs_f64();
        let mut push = |name: String, s: f64, e: f64, from: f64, to: f64, unit: &str| {
            out.push(PhaseResult {
                scenario: sc.name.clone(),
                name,
                start_s: s,
                end_s: e,
                from,
                to,
                unit: unit.into(),
                ..Default::default()
            })
        };
        match &sc.executor {
            Executor::RampingVus {
                start_vus, stages, ..
            } => {
                for (n, s, e, f, t) in staged(start, stages, *start_vus as f64, "VUs") {
                    push(n, s, e, f, t, "VUs");
                }
            }
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => {
                let per_s = 1.0 / time_unit.as_secs_f64();
                let st: Vec<throng_plan::Stage> = stages
                    .iter()
                    .map(|s| throng_plan::Stage {
                        duration: s.duration,
                        target: s.target * per_s,
                    })
                    .collect();
                for (n, s, e, f, t) in staged(start, &st, start_rate * per_s, "it/s") {
                    push(n, s, e, f, t, "it/s");
                }
            }
            Executor::ConstantArrivalRate {
                rate, time_unit, ..
            } => {
                let r = rate / time_unit.as_secs_f64();
                push(
                    format!("{r} it/s"),
                    start,
                    start + sc.executor.duration().as_secs_f64(),
                    r,
                    r,
                    "it/s",
                )
            }
            e => {
                let v = e.max_vus() as f64;
                push(
                    format!("{} {v} VUs", e.name()),
                    start,
                    start + sc.executor.duration().as_secs_f64(),
                    v,
                    v,
                    "VUs",
                )
            }
        }
    }
    out
}

impl SeriesRecorder {
    /// A recorder for `plan`'s scenarios and stages.
    pub fn new(plan: &Plan) -> SeriesRecorder {
        SeriesRecorder {
            seconds: Vec::new(),
            by_name: BTreeMap::new(),
            by_scenario: BTreeMap::new(),
            phases: plan_phases(plan)
                .into_iter()
                .map(|meta| PhaseAcc {
                    meta,
                    hist: TrendAgg::new(),
                })
                .collect(),
            failures: BTreeMap::new(),
        }
    }

    /// Takes one collection: `t` seconds since the start, `vus` active now.
    pub fn tick(&mut self, snap: &Snapshot, t: f64, vus: u64) {
        let count = |m: &str, f: &[(String, String)]| {
            snap.aggregate_interval(m, f)
                .map(|a| a.count())
                .unwrap_or(0.0)
        };
        let s429 = [("status".to_string(), "429".to_string())];
        let dur = snap.aggregate_interval("http_req_duration", &[]);
        let tr = dur.as_ref().and_then(Agg::trend);
        let all = snap.aggregate("http_req_duration", &[]);
        let all_t = all.as_ref().and_then(Agg::trend);
        let total = |m: &str| snap.aggregate(m, &[]).map(|a| a.count()).unwrap_or(0.0);
        let total_reqs = total("http_reqs");
        self.seconds.push(SecondPoint {
            percentiles: crate::results::LOCUST_PERCENTILES
                .iter()
                .map(|q| (*q, tr.map(|t| pct(t, *q)).unwrap_or(0.0)))
                .collect(),
            total_reqs: total_reqs as u64,
            total_failures: total("http_req_failed") as u64,
            total_p50: all_t.map(|t| pct(t, 50.0)).unwrap_or(0.0),
            total_avg: all_t.map(|t| t.avg()).unwrap_or(0.0),
            total_min: all_t.map(|t| t.min_or_zero()).unwrap_or(0.0),
            total_max: all_t.map(|t| t.max_or_zero()).unwrap_or(0.0),
            total_avg_size: if total_reqs > 0.0 {
                total("data_received") / total_reqs
            } else {
                0.0
            },
            t: (t * 10.0).round() / 10.0,
            vus,
            reqs: count("http_reqs", &[]) as u64,
            failures: count("http_req_failed", &[]) as u64,
            rate_limited: count("http_reqs", &s429) as u64,
            p50: tr.map(|t| pct(t, 50.0)).unwrap_or(0.0),
            p90: tr.map(|t| pct(t, 90.0)).unwrap_or(0.0),
            p95: tr.map(|t| pct(t, 95.0)).unwrap_or(0.0),
            p99: tr.map(|t| pct(t, 99.0)).unwrap_or(0.0),
            max: tr.map(|t| t.max_or_zero()).unwrap_or(0.0),
            data_sent: count("data_sent", &[]),
            data_received: count("data_received", &[]),
        });
        // per request name, failures by kind, phases: one pass over the interval's series
        let Some((reqs_id, _)) = snap.metric("http_reqs") else {
            return;
        };
        let mid = t - 0.5;
        let mut names: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (k, agg) in snap.interval_series().filter(|(k, _)| k.metric == reqs_id) {
            let tags = snap.tags(k.tags);
            let n = agg.count() as u64;
            let name = tags.get("name").unwrap_or("").to_string();
            let status = tags.get("status").unwrap_or("0");
            let failed = tags.get("expected_response") == Some("false");
            let e = names.entry(name.clone()).or_default();
            e.0 += n;
            if failed {
                e.1 += n;
                let kind = match (tags.get("error"), status) {
                    (Some(err), _) => err.to_string(),
                    (None, "429") => "rate limited (429)".to_string(),
                    (None, s) => format!("http {s}"),
                };
                let f = self
                    .failures
                    .entry(kind.clone())
                    .or_insert_with(|| FailureKind {
                        kind,
                        first_seen_s: t,
                        ..Default::default()
                    });
                f.count += n;
                f.last_seen_s = t;
                if !f.names.contains(&name) {
                    f.names.push(name.clone());
                }
            }
        }
        for (name, (reqs, failures)) in names {
            let f = [("name".to_string(), name.clone())];
            let p95 = snap
                .aggregate_interval("http_req_duration", &f)
                .and_then(|a| a.trend().map(|t| pct(t, 95.0)))
                .unwrap_or(0.0);
            self.by_name.entry(name).or_default().push(NamePoint {
                t: (t * 10.0).round() / 10.0,
                reqs,
                failures,
                p95,
            });
        }
        // each scenario's interval goes to its phase at the middle of the interval (the last
        // phase takes the graceful stop too), so phase counts add up to the total exactly
        let scenarios: Vec<String> = {
            let mut v: Vec<String> = self
                .phases
                .iter()
                .map(|p| p.meta.scenario.clone())
                .collect();
            v.dedup();
            v
        };
        for sc in scenarios {
            let idx: Vec<usize> = (0..self.phases.len())
                .filter(|i| self.phases[*i].meta.scenario == sc)
                .collect();
            let pick = idx
                .iter()
                .copied()
                .find(|i| mid < self.phases[*i].meta.end_s)
                .or(idx.last().copied());
            let Some(i) = pick else { continue };
            let f = [("scenario".to_string(), sc.clone())];
            let reqs = count("http_reqs", &f) as u64;
            if reqs == 0 {
                continue;
            }
            let failed_here = count("http_req_failed", &f) as u64;
            self.by_scenario
                .entry(sc.clone())
                .or_default()
                .push(NamePoint {
                    t: (t * 10.0).round() / 10.0,
                    reqs,
                    failures: failed_here,
                    p95: snap
                        .aggregate_interval("http_req_duration", &f)
                        .and_then(|a| a.trend().map(|t| pct(t, 95.0)))
                        .unwrap_or(0.0),
                });
            let ph = &mut self.phases[i];
            ph.meta.requests += reqs;
            ph.meta.failures += count("http_req_failed", &f) as u64;
            let f429 = [f[0].clone(), s429[0].clone()];
            ph.meta.rate_limited += count("http_reqs", &f429) as u64;
            if let Some(Agg::Trend(tr)) = snap.aggregate_interval("http_req_duration", &f) {
                ph.hist.merge(&tr);
            }
        }
    }

    /// The per-second series.
    pub fn seconds(&self) -> &[SecondPoint] {
        &self.seconds
    }

    /// Phases so far: (scenario, phase, requests, p95 ms).
    pub fn phase_progress(&self) -> Vec<(String, String, u64, f64)> {
        self.phases
            .iter()
            .map(|p| {
                (
                    p.meta.scenario.clone(),
                    p.meta.name.clone(),
                    p.meta.requests,
                    p.hist.percentile(95.0),
                )
            })
            .collect()
    }

    /// Finishes the phases and failure kinds.
    pub fn finish(self) -> SeriesOutput {
        let phases = self
            .phases
            .into_iter()
            .map(|p| {
                let mut m = p.meta;
                let secs = (m.end_s - m.start_s).max(1e-9);
                m.rps = m.requests as f64 / secs;
                m.avg = p.hist.avg();
                m.p50 = p.hist.percentile(50.0);
                m.p95 = p.hist.percentile(95.0);
                m.p99 = p.hist.percentile(99.0);
                m.max = p.hist.max_or_zero();
                if m.requests > 0 {
                    m.error_rate = m.failures as f64 / m.requests as f64;
                    m.rate_limited_share = m.rate_limited as f64 / m.requests as f64;
                }
                m
            })
            .collect();
        let mut failures: Vec<FailureKind> = self.failures.into_values().collect();
        failures.sort_by_key(|f| std::cmp::Reverse(f.count));
        SeriesOutput {
            seconds: self.seconds,
            by_name: self.by_name,
            by_scenario: self.by_scenario,
            phases,
            failures,
        }
    }
}
