//! The final results of a run: every metric and sub-metric, thresholds with verdicts,
//! checks, per-scenario figures, the per-second timeline and each series' HDR histogram.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use throng_metrics::threshold::{Stat, Verdict};
use throng_metrics::{names, Agg, MetricKind, Snapshot, ThresholdSet, ValueType};

/// One scenario's outcome, filled in by the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioOutcome {
    /// Scenario name.
    pub name: String,
    /// k6 executor name.
    pub executor: String,
    /// k6-style description (`10 looping VUs for 30s (gracefulStop: 30s)`).
    pub description: String,
    /// Most VUs it may use.
    pub max_vus: u64,
    /// Iterations that ran to their end.
    pub completed: u64,
    /// Iterations cut off by a stop.
    pub interrupted: u64,
    /// Iterations never started.
    pub dropped: u64,
    /// Iterations that could not run (data used up).
    pub failed: u64,
}

/// Facts about the run that are not metrics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    /// Plan name.
    pub plan: String,
    /// The plan file.
    pub plan_file: String,
    /// base_url, if any.
    pub target: Option<String>,
    /// Start, RFC 3339.
    pub started_at: String,
    /// Wall time, ms.
    pub duration_ms: f64,
    /// Stopped by Ctrl-C / SIGTERM.
    pub interrupted: bool,
    /// The threshold that aborted the run (abortOnFail), if any.
    pub aborted_by: Option<String>,
    /// The run's exit code.
    pub exit_code: i32,
    /// The command line (secrets redacted).
    #[serde(default)]
    pub command: Option<String>,
}

/// Which instance of a scaled-out run wrote a results file (`--segment`, `--local-segments`,
/// Kubernetes): what `throng merge` checks before adding files together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct InstanceInfo {
    /// This instance (`THRONG_INSTANCE_ID`, or the segment's index).
    pub instance_id: String,
    /// The run all instances share (`THRONG_RUN_ID`, or derived from `--start-at`).
    pub run_id: String,
    /// The execution segment, `FROM:TO` (`1/8:1/4`).
    pub segment: String,
    /// The segment sequence, `0,1/8,…,1`.
    pub sequence: String,
    /// The throng version that ran it.
    pub throng_version: String,
    /// A digest of the plan and the load flags: instances of one run share it.
    pub plan_digest: String,
    /// The agreed start (`--start-at`), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// How far this instance's actual start was from `start_at` by its own clock, ms
    /// (positive: late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_skew_ms: Option<f64>,
    /// How far this instance's clock was from true time when it started (the kernel's
    /// NTP state, or a measurement against `--clock-ref`): wall-clock alignment across
    /// instances is no better than two instances' offsets and errors together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockInfo>,
    /// Wall-clock start of the load, ms since the Unix epoch (for aligning seconds).
    pub started_at_unix_ms: i64,
}

/// An estimate of a machine's clock against true time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ClockInfo {
    /// Where the estimate comes from: `kernel` (its NTP discipline state) or
    /// `sntp HOST:PORT` (measured against that NTP server).
    pub source: String,
    /// Whether the kernel says the clock is synchronised (NTP running and locked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronised: Option<bool>,
    /// How far this clock is ahead of the reference, ms (negative: behind); measured
    /// sources only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_ms: Option<f64>,
    /// The estimate's error, ms: the kernel's estimated error, or half the round trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<f64>,
    /// The kernel's maximum error, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_ms: Option<f64>,
    /// The round trip of the best exchange with the reference, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip_ms: Option<f64>,
    /// The machine the clock belongs to (instances on one host share it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Why the clock could not be estimated (or the reference not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ClockInfo {
    /// The widest this clock may be from true time, ms: |offset| + error for a
    /// measurement, the kernel's maximum error when synchronised; `None`: unknown.
    pub fn bound_ms(&self) -> Option<f64> {
        match (self.offset_ms, self.error_ms, self.synchronised) {
            (Some(o), e, _) => Some(o.abs() + e.unwrap_or(0.0)),
            (None, _, Some(true)) => self.max_error_ms.or(self.error_ms),
            _ => None,
        }
    }
}

/// A metric or sub-metric with its k6 values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricResult {
    /// `http_req_duration` or `http_req_duration{name:ingest}`.
    pub name: String,
    /// The metric name without the filter.
    pub metric: String,
    /// `counter`, `gauge`, `rate` or `trend`.
    #[serde(rename = "type")]
    pub kind: MetricKind,
    /// `default`, `time` or `data`.
    pub contains: ValueType,
    /// Tag filter of a sub-metric.
    pub filter: Vec<(String, String)>,
    /// k6's values: trend avg/min/med/max/p(90)/p(95)/p(99); counter count/rate; rate
    /// rate/passes/fails; gauge value/min/max.
    pub values: BTreeMap<String, f64>,
}

/// A threshold and its verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThresholdResult {
    /// The key (`http_req_duration{name:ingest}`).
    pub metric: String,
    /// The expression (`p(95)<600`).
    pub expression: String,
    /// The stat it reads (`p(95)`).
    pub stat: String,
    /// Passed.
    pub ok: bool,
    /// Observed value of the stat.
    pub observed: f64,
    /// abortOnFail was set.
    pub abort_on_fail: bool,
}

/// A check's tallies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckResult {
    /// The check name.
    pub name: String,
    /// Its group path (empty at top level).
    pub group: String,
    /// Passes.
    pub passes: u64,
    /// Fails.
    pub fails: u64,
}

/// One second of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TimelinePoint {
    /// Seconds since the start.
    pub t: f64,
    /// Active VUs.
    pub vus: u64,
    /// Requests so far.
    pub http_reqs: u64,
    /// Failed requests so far.
    pub http_req_failed: u64,
    /// Iterations so far.
    pub iterations: u64,
}

/// One raw series, for merging results exactly later.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesDump {
    /// Metric name.
    pub metric: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Counter sum / gauge value / rate trues / trend count.
    pub value: f64,
    /// Rate total samples; trend sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<f64>,
    /// Trend min and max (exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Trend or gauge max.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Trend: HDR histogram, V2 + DEFLATE, base64 (values in µs for time metrics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hdr: Option<String>,
}

/// How the load generator itself fared, so nobody blames the target for its limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GeneratorInfo {
    /// CPU cores available to throng.
    pub cores: usize,
    /// Average CPU use over the run, % of all cores.
    pub cpu_avg_pct: Option<f64>,
    /// Highest 1-second CPU use, % of all cores.
    pub cpu_peak_pct: Option<f64>,
    /// CPU seconds used (user + system).
    pub cpu_seconds: Option<f64>,
    /// Peak resident memory, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// p99 of how late the scheduler dispatched arrivals (CPU or timer starvation), ms.
    pub schedule_lag_p99_ms: Option<f64>,
    /// Iterations never started.
    pub dropped_iterations: u64,
    /// Whether the generator, not the target, limited the run.
    pub bottleneck: bool,
    /// Why (empty when it kept up).
    pub reasons: Vec<String>,
}

impl GeneratorInfo {
    /// Fills in the verdict: CPU above 90% on average, arrivals late by more than 10 ms at
    /// p99, or dropped iterations (no free VU) mean the generator limited the run.
    pub fn judge(mut self) -> GeneratorInfo {
        self.reasons.clear();
        if let Some(c) = self.cpu_avg_pct.filter(|c| *c > 90.0) {
            self.reasons.push(format!(
                "throng used {c:.0}% of its {} CPU cores",
                self.cores
            ));
        }
        if let Some(l) = self.schedule_lag_p99_ms.filter(|l| *l > 10.0) {
            self.reasons.push(format!(
                "arrivals were dispatched {l:.1}ms late at p99 (the generator could not keep its schedule)"
            ));
        }
        if self.dropped_iterations > 0 {
            self.reasons.push(format!(
                "{} iterations were dropped because no VU was free in time (raise maxVUs; with when_busy: queue, arrivals still queued when the duration ends are dropped)",
                self.dropped_iterations
            ));
        }
        self.bottleneck = !self.reasons.is_empty();
        self
    }
}

/// Locust-style figures of one request name (or `Aggregated`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RequestStats {
    /// Method (empty for the aggregate row).
    pub method: String,
    /// The `name` tag, or `Aggregated`.
    pub name: String,
    /// Requests.
    pub count: u64,
    /// Failed requests.
    pub failures: u64,
    /// Average, ms.
    pub avg: f64,
    /// Min, ms.
    pub min: f64,
    /// Max, ms.
    pub max: f64,
    /// Average bytes received per request (headers included).
    pub avg_size: f64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Failures per second over the run.
    pub fps: f64,
    /// Percentiles 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100 (ms).
    pub percentiles: Vec<(f64, f64)>,
}

/// The percentiles Locust reports.
pub const LOCUST_PERCENTILES: [f64; 11] = [
    50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0,
];

impl RequestStats {
    /// A percentile of the row (ms).
    pub fn p(&self, q: f64) -> f64 {
        self.percentiles
            .iter()
            .find(|(k, _)| (*k - q).abs() < 1e-9)
            .map(|x| x.1)
            .unwrap_or(0.0)
    }
}

/// Failed requests of one (method, name, error), a row of Locust's failures.csv. Written
/// in a results file as the array `[method, name, error, occurrences]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(
    from = "(String, String, String, u64)",
    into = "(String, String, String, u64)"
)]
pub struct FailureRow {
    /// The request's method.
    pub method: String,
    /// The request's `name` tag.
    pub name: String,
    /// The failure kind (`timeout`, `http 500`, `rate limited (429)`, ...).
    pub error: String,
    /// How many.
    pub occurrences: u64,
}

/// Responses with status 429 (rate limited) by scenario and request, whether or not the
/// plan counts them as failures (`expected_statuses`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RateLimitedRow {
    /// The scenario.
    pub scenario: String,
    /// The request's method.
    pub method: String,
    /// The request's `name` tag.
    pub name: String,
    /// How many 429s.
    pub count: u64,
}

impl From<(String, String, String, u64)> for FailureRow {
    fn from((method, name, error, occurrences): (String, String, String, u64)) -> Self {
        FailureRow {
            method,
            name,
            error,
            occurrences,
        }
    }
}

impl From<FailureRow> for (String, String, String, u64) {
    fn from(r: FailureRow) -> Self {
        (r.method, r.name, r.error, r.occurrences)
    }
}

fn request_stats(snap: &Snapshot, elapsed_s: f64) -> Vec<RequestStats> {
    let b = snap.builtin();
    let mut keys: Vec<(String, String)> = Vec::new();
    for (k, _) in snap.series().filter(|(k, _)| k.metric == b.http_reqs) {
        let t = snap.tags(k.tags);
        let key = (
            t.get("method").unwrap_or("").to_string(),
            t.get("name").unwrap_or("").to_string(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort();
    let row = |method: &str, name: &str, filter: &[(String, String)]| {
        let count = snap.count(b.http_reqs, filter);
        let failures = snap.count(b.http_req_failed, filter);
        let received = snap.count(b.data_received, filter);
        let d = snap.aggregate(b.http_req_duration, filter);
        let t = d.as_ref().and_then(Agg::trend);
        RequestStats {
            method: method.to_string(),
            name: name.to_string(),
            count: count as u64,
            failures: failures as u64,
            avg: t.map(|t| t.avg()).unwrap_or(0.0),
            min: t.map(|t| t.min_or_zero()).unwrap_or(0.0),
            max: t.map(|t| t.max_or_zero()).unwrap_or(0.0),
            avg_size: if count > 0.0 { received / count } else { 0.0 },
            rps: if elapsed_s > 0.0 {
                count / elapsed_s
            } else {
                0.0
            },
            fps: if elapsed_s > 0.0 {
                failures / elapsed_s
            } else {
                0.0
            },
            percentiles: LOCUST_PERCENTILES
                .iter()
                .map(|q| (*q, t.map(|t| t.percentile(*q)).unwrap_or(0.0)))
                .collect(),
        }
    };
    let mut out: Vec<RequestStats> = keys
        .iter()
        .map(|(m, n)| {
            row(
                m,
                n,
                &[("method".into(), m.clone()), ("name".into(), n.clone())],
            )
        })
        .collect();
    if !out.is_empty() {
        out.push(row("", "Aggregated", &[]));
    }
    out
}

/// One bar of the latency distribution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistogramBin {
    /// Upper edge, ms.
    pub up_to_ms: f64,
    /// Requests at or below it (and above the previous edge).
    pub count: u64,
}

/// Everything a report needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// Schema version of this file ([`crate::RESULTS_VERSION`]); reading a file of another
    /// version fails.
    #[serde(deserialize_with = "crate::validate::version")]
    pub version: u32,
    /// Run facts.
    pub run: RunInfo,
    /// The instance of a scaled-out run that wrote this file (absent for a single run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<InstanceInfo>,
    /// For a file written by `throng merge`: the instances merged, missing and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<crate::merge::MergeInfo>,
    /// Scenarios.
    pub scenarios: Vec<ScenarioOutcome>,
    /// Metrics, then sub-metrics.
    pub metrics: Vec<MetricResult>,
    /// Thresholds in plan order.
    pub thresholds: Vec<ThresholdResult>,
    /// Checks.
    pub checks: Vec<CheckResult>,
    /// Running totals at the end of each second (where the run is old, one point per
    /// roll-up bucket: see [`crate::series::TIERS`]).
    pub timeline: Vec<TimelinePoint>,
    /// Requests by status code (`0` = no response).
    #[serde(default)]
    pub status_codes: BTreeMap<String, u64>,
    /// Failures by error kind (`timeout`, `connection refused`, ...).
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    /// `http_req_duration` in equal-width bins from min to max (from the HDR histogram).
    #[serde(default)]
    pub latency_histogram: Vec<HistogramBin>,
    /// The generator's own figures and verdict.
    #[serde(default)]
    pub generator: Option<GeneratorInfo>,
    /// What happened in each second of the run.
    #[serde(default)]
    pub seconds: Vec<crate::series::SecondPoint>,
    /// Per request name, each second.
    #[serde(default)]
    pub by_name: BTreeMap<String, Vec<crate::series::NamePoint>>,
    /// Per scenario, each second.
    #[serde(default)]
    pub by_scenario: BTreeMap<String, Vec<crate::series::NamePoint>>,
    /// Each stage of each ramping executor (or each whole scenario) as a phase.
    #[serde(default)]
    pub phases: Vec<crate::series::PhaseResult>,
    /// Failures by kind, with first and last time seen and the request names they hit.
    #[serde(default)]
    pub failures: Vec<crate::series::FailureKind>,
    /// Per request name (method + name), Locust's columns, plus an `Aggregated` row.
    #[serde(default)]
    pub requests: Vec<RequestStats>,
    /// Failed requests by (method, name, error), for Locust's failures.csv.
    #[serde(default)]
    pub failure_rows: Vec<FailureRow>,
    /// 429 responses by scenario and request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limited: Vec<RateLimitedRow>,
    /// The plan's timeline actions (and teardown), as they happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<throng_metrics::ActionRecord>,
    /// The monitors of the system under test: each series on the run's time axis, errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitors: Option<throng_metrics::monitor::MonitorResults>,
    /// SLO results, in plan order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<throng_metrics::monitor::SloResult>,
    /// SQL, gRPC, WebSocket and Redis figures (gRPC calls by method and status, SQL errors
    /// by SQLSTATE), when the run has such steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<crate::protocols::ProtocolStats>,
    /// The stats shown of each trend (k6's `summaryTrendStats`, the plan's
    /// `summary_trend_stats:`); empty: k6's defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend_stats: Vec<String>,
    /// Raw series with histograms (checked when read: each histogram must decode and agree
    /// with its series' count, min, max and sum).
    #[serde(deserialize_with = "crate::validate::series")]
    pub series: Vec<SeriesDump>,
}

/// The k6 values of an aggregate.
pub(crate) fn values_of(agg: &Agg, elapsed_s: f64) -> BTreeMap<String, f64> {
    let mut v = BTreeMap::new();
    match agg {
        Agg::Counter { sum } => {
            v.insert("count".into(), *sum);
            v.insert(
                "rate".into(),
                if elapsed_s > 0.0 {
                    sum / elapsed_s
                } else {
                    0.0
                },
            );
        }
        Agg::Gauge { value, min, max } => {
            v.insert("value".into(), *value);
            v.insert("min".into(), if min.is_finite() { *min } else { 0.0 });
            v.insert("max".into(), if max.is_finite() { *max } else { 0.0 });
        }
        Agg::Rate { trues, total } => {
            v.insert(
                "rate".into(),
                if *total == 0 {
                    0.0
                } else {
                    *trues as f64 / *total as f64
                },
            );
            v.insert("passes".into(), *trues as f64);
            v.insert("fails".into(), (*total - *trues) as f64);
        }
        Agg::Trend(t) => {
            v.insert("avg".into(), t.avg());
            v.insert("min".into(), t.min_or_zero());
            v.insert("med".into(), t.percentile(50.0));
            v.insert("max".into(), t.max_or_zero());
            v.insert("p(90)".into(), t.percentile(90.0));
            v.insert("p(95)".into(), t.percentile(95.0));
            v.insert("p(99)".into(), t.percentile(99.0));
            v.insert("count".into(), t.count as f64);
        }
    }
    v
}

fn empty_agg(kind: MetricKind) -> Agg {
    Agg::new(kind)
}

impl Results {
    /// Builds the results from the final snapshot.
    pub fn build(
        snap: &Snapshot,
        thresholds: &ThresholdSet,
        verdicts: &[Verdict],
        run: RunInfo,
        scenarios: Vec<ScenarioOutcome>,
        timeline: Vec<TimelinePoint>,
    ) -> Results {
        let elapsed_s = run.duration_ms / 1000.0;
        let b = snap.builtin();
        let mut metrics = Vec::new();
        for (i, def) in snap.metrics().iter().enumerate() {
            let id = throng_metrics::MetricId(i as u32);
            let agg = snap.aggregate(id, &[]);
            // metrics without samples are left out, except the core ones k6 always shows
            let always = [b.vus, b.vus_max, b.iterations].contains(&id);
            let agg = match agg {
                Some(a) => a,
                None if always => empty_agg(def.kind),
                None => continue,
            };
            metrics.push(MetricResult {
                name: def.name.clone(),
                metric: def.name.clone(),
                kind: def.kind,
                contains: def.contains,
                filter: Vec::new(),
                values: values_of(&agg, elapsed_s),
            });
        }
        // sub-metrics: k6's default expected_response one, plus every threshold key
        let mut subs: Vec<(String, Vec<(String, String)>)> = Vec::new();
        if snap.aggregate(b.http_req_duration, &[]).is_some() {
            subs.push((
                names::HTTP_REQ_DURATION.into(),
                vec![("expected_response".into(), "true".into())],
            ));
        }
        for t in &thresholds.items {
            if !t.filter.is_empty() && !subs.iter().any(|(m, f)| *m == t.metric && *f == t.filter) {
                subs.push((t.metric.clone(), t.filter.clone()));
            }
        }
        for (metric, filter) in subs {
            let Some((_, def)) = snap.metric(&metric) else {
                continue;
            };
            let agg = snap
                .aggregate(&metric, &filter)
                .unwrap_or_else(|| empty_agg(def.kind));
            let name = format!(
                "{metric}{{{}}}",
                filter
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let mut values = values_of(&agg, elapsed_s);
            // a threshold may ask for a percentile we don't list by default
            for t in thresholds
                .items
                .iter()
                .filter(|t| t.metric == metric && t.filter == filter)
            {
                if let Stat::P(p) = t.expr.stat {
                    values.insert(t.expr.stat.name(), t.expr.stat.of(&agg, Duration::ZERO));
                    let _ = p;
                }
            }
            metrics.push(MetricResult {
                name,
                metric,
                kind: def.kind,
                contains: def.contains,
                filter,
                values,
            });
        }
        // whole-metric thresholds on other percentiles
        for t in thresholds.items.iter().filter(|t| t.filter.is_empty()) {
            if let Stat::P(_) = t.expr.stat {
                if let (Some(m), Some(agg)) = (
                    metrics.iter_mut().find(|m| m.name == t.metric),
                    snap.aggregate(&t.metric, &[]),
                ) {
                    m.values
                        .insert(t.expr.stat.name(), t.expr.stat.of(&agg, Duration::ZERO));
                }
            }
        }
        let thresholds_out = thresholds
            .items
            .iter()
            .zip(verdicts)
            .map(|(t, v)| ThresholdResult {
                metric: t.key.clone(),
                expression: t.expr.source.clone(),
                stat: t.expr.stat.name(),
                ok: v.ok,
                observed: v.observed,
                abort_on_fail: t.abort_on_fail,
            })
            .collect();
        let mut checks: Vec<CheckResult> = Vec::new();
        for (k, agg) in snap.series() {
            if k.metric != b.checks {
                continue;
            }
            let tags = snap.tags(k.tags);
            let name = tags.get("check").unwrap_or("").to_string();
            let group = tags.get("group").unwrap_or("").to_string();
            let (p, f) = match agg {
                Agg::Rate { trues, total } => (*trues, total - trues),
                _ => (0, 0),
            };
            match checks
                .iter_mut()
                .find(|c| c.name == name && c.group == group)
            {
                Some(c) => {
                    c.passes += p;
                    c.fails += f;
                }
                None => checks.push(CheckResult {
                    name,
                    group,
                    passes: p,
                    fails: f,
                }),
            }
        }
        let series = dump_series(snap);
        let mut status_codes = BTreeMap::new();
        let mut errors = BTreeMap::new();
        for (k, agg) in snap.series().filter(|(k, _)| k.metric == b.http_reqs) {
            let tags = snap.tags(k.tags);
            let n = agg.count() as u64;
            if let Some(st) = tags.get("status") {
                *status_codes.entry(st.to_string()).or_insert(0) += n;
            }
            if let Some(e) = tags.get("error") {
                *errors.entry(e.to_string()).or_insert(0) += n;
            }
        }
        let latency_histogram = snap
            .aggregate(b.http_req_duration, &[])
            .and_then(|a| a.trend().map(|t| histogram_bins(t, 10)))
            .unwrap_or_default();
        let requests = request_stats(snap, elapsed_s);
        let mut failure_rows: Vec<FailureRow> = Vec::new();
        for (k, agg) in snap.series().filter(|(k, _)| k.metric == b.http_reqs) {
            let t = snap.tags(k.tags);
            if t.get("expected_response") != Some("false") {
                continue;
            }
            let row = FailureRow {
                method: t.get("method").unwrap_or("").to_string(),
                name: t.get("name").unwrap_or("").to_string(),
                error: crate::series::failure_kind(t),
                occurrences: 0,
            };
            let n = agg.count() as u64;
            match failure_rows
                .iter_mut()
                .find(|r| r.method == row.method && r.name == row.name && r.error == row.error)
            {
                Some(r) => r.occurrences += n,
                None => failure_rows.push(FailureRow {
                    occurrences: n,
                    ..row
                }),
            }
        }
        let mut rate_limited: Vec<RateLimitedRow> = Vec::new();
        for (k, agg) in snap.series().filter(|(k, _)| k.metric == b.http_reqs) {
            let t = snap.tags(k.tags);
            if t.get("status") != Some("429") {
                continue;
            }
            let (scenario, method, name) = (
                t.get(throng_metrics::names::SCENARIO_TAG).unwrap_or(""),
                t.get("method").unwrap_or(""),
                t.get("name").unwrap_or(""),
            );
            let n = agg.count() as u64;
            match rate_limited
                .iter_mut()
                .find(|r| r.scenario == scenario && r.method == method && r.name == name)
            {
                Some(r) => r.count += n,
                None => rate_limited.push(RateLimitedRow {
                    scenario: scenario.to_string(),
                    method: method.to_string(),
                    name: name.to_string(),
                    count: n,
                }),
            }
        }
        Results {
            requests,
            failure_rows,
            rate_limited,
            actions: Vec::new(),
            generator: None,
            seconds: Vec::new(),
            by_name: BTreeMap::new(),
            by_scenario: BTreeMap::new(),
            phases: Vec::new(),
            failures: Vec::new(),
            status_codes,
            errors,
            latency_histogram,
            version: crate::RESULTS_VERSION,
            run,
            instance: None,
            merge: None,
            scenarios,
            metrics,
            thresholds: thresholds_out,
            checks,
            timeline: crate::series::thin_timeline(timeline),
            series,
            monitors: None,
            slos: Vec::new(),
            protocols: crate::protocols::ProtocolStats::from_snapshot(snap),
            trend_stats: Vec::new(),
        }
    }

    /// Shows `stats` of each trend (k6's `summaryTrendStats`; none: k6's defaults), adding
    /// to every trend and trend sub-metric the percentiles it does not hold yet
    /// (`p(99.9)`), read from `snap`'s histograms.
    pub fn set_trend_stats(&mut self, snap: &Snapshot, stats: &[String]) {
        self.trend_stats = stats.to_vec();
        let wanted: Vec<(&String, f64)> = stats
            .iter()
            .filter_map(|s| match Stat::parse(s) {
                Ok(Stat::P(p)) => Some((s, p)),
                _ => None,
            })
            .collect();
        for m in self
            .metrics
            .iter_mut()
            .filter(|m| m.kind == MetricKind::Trend)
        {
            if wanted
                .iter()
                .all(|(k, _)| m.values.contains_key(k.as_str()))
            {
                continue;
            }
            if let Some(Agg::Trend(t)) = snap.aggregate(m.metric.as_str(), &m.filter) {
                for (k, p) in &wanted {
                    m.values
                        .entry((*k).clone())
                        .or_insert_with(|| t.percentile(*p));
                }
            }
        }
    }

    /// The stats shown of each trend: the run's, else k6's defaults.
    pub fn shown_trend_stats(&self) -> Vec<&str> {
        if self.trend_stats.is_empty() {
            crate::k6json::TREND_STATS.to_vec()
        } else {
            self.trend_stats.iter().map(String::as_str).collect()
        }
    }

    /// Reads a results file's bytes: the version must be [`crate::RESULTS_VERSION`] and every
    /// histogram must decode and agree with its series. The error is one line that names
    /// the problem (truncated, not JSON, the version, or the field and series at fault).
    pub fn from_json(bytes: &[u8]) -> Result<Results, crate::ResultsFileError> {
        crate::validate::peek_version(bytes)?;
        serde_json::from_slice(bytes)
            .map_err(|e| crate::ResultsFileError::from_json_error(e, bytes))
    }

    /// A metric or sub-metric by its full name.
    pub fn metric(&self, name: &str) -> Option<&MetricResult> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The metrics the plan defined (`metrics:`, loop trends), without sub-metrics.
    pub fn custom_metrics(&self) -> impl Iterator<Item = &MetricResult> {
        self.metrics
            .iter()
            .filter(|m| m.filter.is_empty() && throng_metrics::Builtin::lookup(&m.metric).is_none())
    }

    /// A value of a metric (`(names::HTTP_REQS, "count")`), if present.
    pub fn value(&self, name: &str, key: &str) -> Option<f64> {
        self.metric(name).and_then(|m| m.values.get(key).copied())
    }

    /// Whether every threshold passed.
    pub fn thresholds_ok(&self) -> bool {
        self.thresholds.iter().all(|t| t.ok)
    }
}

/// `bins` equal-width bins from the trend's min to its max.
fn histogram_bins(t: &throng_metrics::TrendAgg, bins: usize) -> Vec<HistogramBin> {
    if t.count == 0 || bins == 0 {
        return Vec::new();
    }
    let (lo, hi) = (t.min, t.max);
    let width = ((hi - lo) / bins as f64).max(1e-9);
    let mut out: Vec<HistogramBin> = (1..=bins)
        .map(|i| HistogramBin {
            up_to_ms: lo + width * i as f64,
            count: 0,
        })
        .collect();
    for v in t.hist.iter_recorded() {
        let ms = v.value_iterated_to() as f64 / throng_metrics::TREND_SCALE;
        let i = (((ms - lo) / width).ceil() as usize).clamp(1, bins) - 1;
        out[i].count += v.count_at_value();
    }
    out
}

fn dump_series(snap: &Snapshot) -> Vec<SeriesDump> {
    let mut out = Vec::new();
    for (k, agg) in snap.series() {
        let Some(def) = snap.metrics().get(k.metric.0 as usize) else {
            continue;
        };
        let tags: BTreeMap<String, String> = snap.tags(k.tags).pairs().iter().cloned().collect();
        let mut d = SeriesDump {
            metric: def.name.clone(),
            tags,
            value: 0.0,
            extra: None,
            min: None,
            max: None,
            hdr: None,
        };
        match agg {
            Agg::Counter { sum } => d.value = *sum,
            Agg::Gauge { value, min, max } => {
                d.value = *value;
                d.min = min.is_finite().then_some(*min);
                d.max = max.is_finite().then_some(*max);
            }
            Agg::Rate { trues, total } => {
                d.value = *trues as f64;
                d.extra = Some(*total as f64);
            }
            Agg::Trend(t) => {
                d.value = t.count as f64;
                d.extra = Some(t.sum);
                d.min = Some(t.min_or_zero());
                d.max = Some(t.max_or_zero());
                d.hdr = crate::validate::encode_hdr(&t.hist);
            }
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::FailureRow;
    use crate::series::PhaseProgress;

    #[test]
    fn named_rows_keep_their_array_shape() {
        let row = FailureRow {
            method: "GET".into(),
            name: "/a".into(),
            error: "http 500".into(),
            occurrences: 3,
        };
        let json = serde_json::to_string(&row).expect("encode");
        assert_eq!(json, r#"["GET","/a","http 500",3]"#);
        assert_eq!(
            serde_json::from_str::<FailureRow>(&json).expect("decode"),
            row
        );
        let p = PhaseProgress {
            scenario: "s".into(),
            phase: "steady 5 VUs".into(),
            requests: 7,
            p95_ms: 1.5,
        };
        let json = serde_json::to_string(&p).expect("encode");
        assert_eq!(json, r#"["s","steady 5 VUs",7,1.5]"#);
        assert_eq!(
            serde_json::from_str::<PhaseProgress>(&json).expect("decode"),
            p
        );
    }
}
