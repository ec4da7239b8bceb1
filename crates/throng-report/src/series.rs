//! Per-second series, per-phase aggregates and failure kinds, built while the run goes from
//! each once-a-second snapshot's interval. Memory is bounded: the series keep the recent
//! seconds at 1 s and roll older ones up into coarser buckets (see [`crate::rollup`]: at
//! most [`MAX_POINTS`] points per series), phases hold one HDR histogram each, and nothing
//! grows with requests.
use crate::rollup::{Dist, Roll, Tiers};
pub use crate::rollup::{MAX_POINTS, TIERS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use throng_metrics::PhaseProgress;
use throng_metrics::{names, Agg, Snapshot, TagSet, TrendAgg};
use throng_plan::Plan;

fn one() -> f64 {
    1.0
}

fn is_one(v: &f64) -> bool {
    *v == 1.0
}

/// One second of the run (or, for older parts of a long run, a rolled-up bucket of
/// `span_s` seconds): what happened in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecondPoint {
    /// Seconds since the start (end of the interval).
    pub t: f64,
    /// How many seconds the point covers: 1, or the width of a rolled-up bucket (10, 60,
    /// 3600, ...). Counts (`reqs`, `failures`, `rate_limited`, `data_*`) are totals over
    /// the span; divide by it for a per-second rate. Written only when not 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub span_s: f64,
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
    /// The point's latency histogram (HDR V2+DEFLATE, base64, as the results' series dumps;
    /// `""` when it had no requests), kept only by the instances of a scaled-out run so
    /// that `throng merge` computes each merged second's percentiles exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hist: Option<String>,
}

impl Default for SecondPoint {
    fn default() -> Self {
        SecondPoint {
            t: 0.0,
            span_s: 1.0,
            vus: 0,
            reqs: 0,
            failures: 0,
            rate_limited: 0,
            p50: 0.0,
            p90: 0.0,
            p95: 0.0,
            p99: 0.0,
            max: 0.0,
            data_sent: 0.0,
            data_received: 0.0,
            percentiles: Vec::new(),
            total_reqs: 0,
            total_failures: 0,
            total_p50: 0.0,
            total_avg: 0.0,
            total_min: 0.0,
            total_max: 0.0,
            total_avg_size: 0.0,
            hist: None,
        }
    }
}

impl SecondPoint {
    /// Requests per second over the point's span.
    pub fn rps(&self) -> f64 {
        self.reqs as f64 / self.span_s.max(1e-9)
    }

    /// Failures per second over the point's span.
    pub fn fps(&self) -> f64 {
        self.failures as f64 / self.span_s.max(1e-9)
    }

    /// 429 answers per second over the point's span.
    pub fn rate_limited_ps(&self) -> f64 {
        self.rate_limited as f64 / self.span_s.max(1e-9)
    }

    pub(crate) fn latency_from(&mut self, t: Option<&TrendAgg>) {
        let p = |q: f64| t.map(|t| t.percentile(q)).unwrap_or(0.0);
        self.percentiles = locust_percentiles(t);
        self.p50 = p(50.0);
        self.p90 = p(90.0);
        self.p95 = p(95.0);
        self.p99 = p(99.0);
        self.max = t.map(|t| t.max_or_zero()).unwrap_or(0.0);
    }
}

impl Roll for SecondPoint {
    fn absorb(&mut self, l: &Self) {
        self.t = l.t;
        self.span_s += l.span_s;
        self.vus = self.vus.max(l.vus);
        self.reqs += l.reqs;
        self.failures += l.failures;
        self.rate_limited += l.rate_limited;
        self.data_sent += l.data_sent;
        self.data_received += l.data_received;
        self.max = self.max.max(l.max);
        self.total_reqs = l.total_reqs;
        self.total_failures = l.total_failures;
        self.total_p50 = l.total_p50;
        self.total_avg = l.total_avg;
        self.total_min = l.total_min;
        self.total_max = l.total_max;
        self.total_avg_size = l.total_avg_size;
    }
    fn set_latency(&mut self, d: Option<&TrendAgg>) {
        self.latency_from(d);
        if self.hist.is_some() {
            self.hist = Some(encode_second(d));
        }
    }
    fn bound_latency(&mut self, o: &Self) {
        // two buckets merged without their histograms: no exact histogram either
        self.hist = None;
        self.p50 = self.p50.max(o.p50);
        self.p90 = self.p90.max(o.p90);
        self.p95 = self.p95.max(o.p95);
        self.p99 = self.p99.max(o.p99);
        for (a, b) in self.percentiles.iter_mut().zip(&o.percentiles) {
            a.1 = a.1.max(b.1);
        }
    }
}

/// A second's latency histogram as [`SecondPoint::hist`] holds it.
pub(crate) fn encode_second(t: Option<&TrendAgg>) -> String {
    t.filter(|t| t.count > 0)
        .and_then(|t| crate::validate::encode_hdr(&t.hist))
        .unwrap_or_default()
}

/// One request name's (or scenario's) second, or a rolled-up bucket of `span_s` seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamePoint {
    /// Seconds since the start.
    pub t: f64,
    /// Seconds covered (1, or a rolled-up bucket's width); written only when not 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub span_s: f64,
    /// Requests.
    pub reqs: u64,
    /// Failures.
    pub failures: u64,
    /// p95, ms.
    pub p95: f64,
    /// Locust's percentiles of the point's requests: (percentile, ms) (request names only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percentiles: Vec<(f64, f64)>,
    /// Running totals up to the point's end (request names only; Locust's full history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<NameTotals>,
}

/// A request name's figures from the start of the run to the end of a point.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NameTotals {
    /// Requests so far.
    pub reqs: u64,
    /// Failures so far.
    pub failures: u64,
    /// Median so far, ms.
    pub p50: f64,
    /// Average so far, ms.
    pub avg: f64,
    /// Fastest so far, ms.
    pub min: f64,
    /// Slowest so far, ms.
    pub max: f64,
    /// Average response size so far, bytes.
    pub avg_size: f64,
}

impl Default for NamePoint {
    fn default() -> Self {
        NamePoint {
            t: 0.0,
            span_s: 1.0,
            reqs: 0,
            failures: 0,
            p95: 0.0,
            percentiles: Vec::new(),
            totals: None,
        }
    }
}

impl Roll for NamePoint {
    fn absorb(&mut self, l: &Self) {
        self.t = l.t;
        self.span_s += l.span_s;
        self.reqs += l.reqs;
        self.failures += l.failures;
        self.totals = l.totals.clone();
    }
    fn set_latency(&mut self, d: Option<&TrendAgg>) {
        self.p95 = d.map(|t| t.percentile(95.0)).unwrap_or(0.0);
        if !self.percentiles.is_empty() {
            self.percentiles = locust_percentiles(d);
        }
    }
    fn bound_latency(&mut self, o: &Self) {
        self.p95 = self.p95.max(o.p95);
        for (a, b) in self.percentiles.iter_mut().zip(&o.percentiles) {
            a.1 = a.1.max(b.1);
        }
    }
}

/// Locust's percentiles of a distribution: (percentile, ms), zeros when it is empty.
fn locust_percentiles(t: Option<&TrendAgg>) -> Vec<(f64, f64)> {
    crate::results::LOCUST_PERCENTILES
        .iter()
        .map(|q| (*q, t.map(|t| t.percentile(*q)).unwrap_or(0.0)))
        .collect()
}

impl Roll for crate::results::TimelinePoint {
    fn absorb(&mut self, l: &Self) {
        // cumulative figures: the bucket ends where its last second ends
        *self = l.clone();
    }
    fn set_latency(&mut self, _: Option<&TrendAgg>) {}
    fn bound_latency(&mut self, _: &Self) {}
}

/// Thins a once-a-second timeline of running totals with the same tiers as the series
/// (recent seconds kept, older ones one point per bucket), so a results file does not grow
/// with the run's length. Runs under 15 minutes keep every point.
pub fn thin_timeline(
    points: Vec<crate::results::TimelinePoint>,
) -> Vec<crate::results::TimelinePoint> {
    let mut tiers: Tiers<crate::results::TimelinePoint> = Tiers::default();
    let mut scratch = TrendAgg::new();
    let none = Dist::default();
    for p in points {
        let sec = (p.t - 0.5).max(0.0).floor() as u64;
        tiers.push(sec, p, &none, &mut scratch);
    }
    tiers.stitched()
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
    /// When the first one was recorded: seconds since the start, to the millisecond.
    pub first_seen_s: f64,
    /// When the last one was recorded: seconds since the start, to the millisecond.
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
    seconds: Tiers<SecondPoint>,
    by_name: BTreeMap<String, Tiers<NamePoint>>,
    by_scenario: BTreeMap<String, Tiers<NamePoint>>,
    timeline: Tiers<crate::results::TimelinePoint>,
    phases: Vec<PhaseAcc>,
    failures: BTreeMap<String, FailureKind>,
    /// The run's start on the registry's clock (seconds), from the snapshots' times.
    start_on_clock: Option<f64>,
    scratch: TrendAgg,
    /// Whether each second keeps its latency histogram ([`SecondPoint::hist`]).
    second_hists: bool,
}

/// What a failed request's tags say went wrong: its `error` tag, `rate limited (429)`, or
/// `http <status>` (`http 0` when it got no answer).
pub(crate) fn failure_kind(tags: &TagSet) -> String {
    match (tags.get("error"), tags.get("status").unwrap_or("0")) {
        (Some(err), _) => err.to_string(),
        (None, "429") => "rate limited (429)".to_string(),
        (None, s) => format!("http {s}"),
    }
}

/// Everything the recorder built.
pub struct SeriesOutput {
    /// Per second (rolled up where old; see [`SecondPoint::span_s`]).
    pub seconds: Vec<SecondPoint>,
    /// Per request name, per second (rolled up where old).
    pub by_name: BTreeMap<String, Vec<NamePoint>>,
    /// Per scenario, per second (rolled up where old).
    pub by_scenario: BTreeMap<String, Vec<NamePoint>>,
    /// Cumulative counts at the end of each second (thinned where old: one point per
    /// bucket), the shape of [`crate::Results::timeline`].
    pub timeline: Vec<crate::results::TimelinePoint>,
    /// Phases.
    pub phases: Vec<PhaseResult>,
    /// Failure kinds, most frequent first.
    pub failures: Vec<FailureKind>,
}

/// The phases of a plan (time windows per scenario), as its executors define them.
fn plan_phases(plan: &Plan) -> Vec<PhaseResult> {
    plan.scenarios
        .iter()
        .flat_map(|sc| {
            sc.executor
                .phases(sc.start_time)
                .into_iter()
                .map(|p| PhaseResult {
                    scenario: sc.name.clone(),
                    name: p.name,
                    start_s: p.start_s,
                    end_s: p.end_s,
                    from: p.from,
                    to: p.to,
                    unit: p.unit.into(),
                    ..Default::default()
                })
        })
        .collect()
}

impl SeriesRecorder {
    /// A recorder for `plan`'s scenarios and stages.
    pub fn new(plan: &Plan) -> SeriesRecorder {
        SeriesRecorder {
            seconds: Tiers::default(),
            by_name: BTreeMap::new(),
            by_scenario: BTreeMap::new(),
            timeline: Tiers::default(),
            start_on_clock: None,
            scratch: TrendAgg::new(),
            phases: plan_phases(plan)
                .into_iter()
                .map(|meta| PhaseAcc {
                    meta,
                    hist: TrendAgg::new(),
                })
                .collect(),
            failures: BTreeMap::new(),
            second_hists: false,
        }
    }

    /// Keeps each second's latency histogram in the results (the instances of a
    /// scaled-out run do, so their merge has exact per-second percentiles).
    pub fn keep_second_histograms(&mut self) {
        self.second_hists = true;
    }

    /// Takes one collection: `t` seconds since the start, `vus` active now.
    pub fn tick(&mut self, snap: &Snapshot, t: f64, vus: u64) {
        // the run's start on the registry's clock: the snapshot was taken just before `t`
        // was read, so each estimate is early by that gap; the latest estimate is the best
        let start = snap.elapsed().as_secs_f64() - t;
        self.start_on_clock = Some(self.start_on_clock.map_or(start, |s| s.max(start)));
        // the second this interval belongs to, by its middle (as phases are)
        let sec = (t - 0.5).max(0.0).floor() as u64;
        let t_r = (t * 10.0).round() / 10.0;
        let b = snap.builtin();
        let count = |m, f: &[(String, String)]| snap.count_interval(m, f);
        let s429 = [("status".to_string(), "429".to_string())];
        let dur = snap.aggregate_interval(b.http_req_duration, &[]);
        let tr = dur.as_ref().and_then(Agg::trend);
        let all = snap.aggregate(b.http_req_duration, &[]);
        let all_t = all.as_ref().and_then(Agg::trend);
        let total = |m| snap.count(m, &[]);
        let total_reqs = total(b.http_reqs);
        let mut point = SecondPoint {
            total_reqs: total_reqs as u64,
            total_failures: total(b.http_req_failed) as u64,
            total_p50: all_t.map(|t| t.percentile(50.0)).unwrap_or(0.0),
            total_avg: all_t.map(|t| t.avg()).unwrap_or(0.0),
            total_min: all_t.map(|t| t.min_or_zero()).unwrap_or(0.0),
            total_max: all_t.map(|t| t.max_or_zero()).unwrap_or(0.0),
            total_avg_size: if total_reqs > 0.0 {
                total(b.data_received) / total_reqs
            } else {
                0.0
            },
            t: t_r,
            vus,
            reqs: count(b.http_reqs, &[]) as u64,
            failures: count(b.http_req_failed, &[]) as u64,
            rate_limited: count(b.http_reqs, &s429) as u64,
            data_sent: count(b.data_sent, &[]),
            data_received: count(b.data_received, &[]),
            ..Default::default()
        };
        point.latency_from(tr);
        if self.second_hists {
            point.hist = Some(encode_second(tr));
        }
        self.seconds
            .push(sec, point, &Dist::of(tr), &mut self.scratch);
        self.timeline.push(
            sec,
            crate::results::TimelinePoint {
                t: t_r,
                vus,
                http_reqs: total_reqs as u64,
                http_req_failed: total(b.http_req_failed) as u64,
                iterations: total(b.iterations) as u64,
            },
            &Dist::default(),
            &mut self.scratch,
        );
        // per request name, failures by kind, phases: one pass over the interval's series
        let reqs_id = b.http_reqs;
        let mid = t - 0.5;
        let on_clock = |d: std::time::Duration| -> Option<f64> {
            let s = d.as_secs_f64() - self.start_on_clock?;
            Some((s.max(0.0) * 1000.0).round() / 1000.0)
        };
        let mut names: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (k, agg) in snap.interval_series().filter(|(k, _)| k.metric == reqs_id) {
            let tags = snap.tags(k.tags);
            let n = agg.count() as u64;
            let name = tags.get("name").unwrap_or("").to_string();
            let failed = tags.get("expected_response") == Some("false");
            let e = names.entry(name.clone()).or_default();
            e.0 += n;
            if failed {
                e.1 += n;
                let kind = failure_kind(tags);
                // the real times of the first and last failure of this series (the metrics
                // layer keeps them for failure series); the report time if unknown
                let (first, last) = snap
                    .first_last(k)
                    .and_then(|(f, l)| Some((on_clock(f)?, on_clock(l)?)))
                    .unwrap_or((t, t));
                let f = self
                    .failures
                    .entry(kind.clone())
                    .or_insert_with(|| FailureKind {
                        kind,
                        first_seen_s: first,
                        last_seen_s: last,
                        ..Default::default()
                    });
                f.count += n;
                f.first_seen_s = f.first_seen_s.min(first);
                f.last_seen_s = f.last_seen_s.max(last);
                if !f.names.contains(&name) {
                    f.names.push(name.clone());
                }
            }
        }
        for (name, (reqs, failures)) in names {
            let f = [("name".to_string(), name.clone())];
            let d = snap.aggregate_interval(b.http_req_duration, &f);
            let tr = d.as_ref().and_then(Agg::trend);
            let so_far = snap.aggregate(b.http_req_duration, &f);
            let so_far = so_far.as_ref().and_then(Agg::trend);
            let total_reqs = snap.count(b.http_reqs, &f);
            let totals = NameTotals {
                reqs: total_reqs as u64,
                failures: snap.count(b.http_req_failed, &f) as u64,
                p50: so_far.map(|t| t.percentile(50.0)).unwrap_or(0.0),
                avg: so_far.map(|t| t.avg()).unwrap_or(0.0),
                min: so_far.map(|t| t.min_or_zero()).unwrap_or(0.0),
                max: so_far.map(|t| t.max_or_zero()).unwrap_or(0.0),
                avg_size: if total_reqs > 0.0 {
                    snap.count(b.data_received, &f) / total_reqs
                } else {
                    0.0
                },
            };
            self.by_name.entry(name).or_default().push(
                sec,
                NamePoint {
                    t: t_r,
                    reqs,
                    failures,
                    p95: tr.map(|t| t.percentile(95.0)).unwrap_or(0.0),
                    percentiles: locust_percentiles(tr),
                    totals: Some(totals),
                    ..Default::default()
                },
                &Dist::of(tr),
                &mut self.scratch,
            );
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
            let f = [(names::SCENARIO_TAG.to_string(), sc.clone())];
            let reqs = count(b.http_reqs, &f) as u64;
            if reqs == 0 {
                continue;
            }
            let failed_here = count(b.http_req_failed, &f) as u64;
            let d = snap.aggregate_interval(b.http_req_duration, &f);
            let tr = d.as_ref().and_then(Agg::trend);
            self.by_scenario.entry(sc.clone()).or_default().push(
                sec,
                NamePoint {
                    t: t_r,
                    reqs,
                    failures: failed_here,
                    p95: tr.map(|t| t.percentile(95.0)).unwrap_or(0.0),
                    ..Default::default()
                },
                &Dist::of(tr),
                &mut self.scratch,
            );
            let ph = &mut self.phases[i];
            ph.meta.requests += reqs;
            ph.meta.failures += failed_here;
            let f429 = [f[0].clone(), s429[0].clone()];
            ph.meta.rate_limited += count(b.http_reqs, &f429) as u64;
            if let Some(tr) = tr {
                ph.hist.merge(tr);
            }
        }
    }

    /// The recent per-second series (the last 15 minutes at least; older seconds are
    /// rolled up and come out of [`SeriesRecorder::finish`]).
    pub fn seconds(&self) -> &[SecondPoint] {
        self.seconds.recent()
    }

    /// Points held in memory now, over every series (bounded: at most [`MAX_POINTS`] per
    /// series).
    pub fn points_held(&self) -> usize {
        self.seconds.held()
            + self.timeline.held()
            + self
                .by_name
                .values()
                .chain(self.by_scenario.values())
                .map(Tiers::held)
                .sum::<usize>()
    }

    /// Phases so far.
    pub fn phase_progress(&self) -> Vec<PhaseProgress> {
        self.phases
            .iter()
            .map(|p| PhaseProgress {
                scenario: p.meta.scenario.clone(),
                phase: p.meta.name.clone(),
                requests: p.meta.requests,
                p95_ms: p.hist.percentile(95.0),
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
            seconds: self.seconds.stitched(),
            by_name: self
                .by_name
                .iter()
                .map(|(k, v)| (k.clone(), v.stitched()))
                .collect(),
            by_scenario: self
                .by_scenario
                .iter()
                .map(|(k, v)| (k.clone(), v.stitched()))
                .collect(),
            timeline: self.timeline.stitched(),
            phases,
            failures,
        }
    }
}
