//! `throng merge`: the results files of the instances of one scaled-out run added together
//! exactly. Every series is rebuilt from its dump — counters and rates add, HDR histograms
//! add (no percentile is ever averaged) — into one snapshot, from which the results are built
//! as a single run's are; thresholds are evaluated on the merged data. Per-second series are
//! aligned on the wall clock of each instance's start.
use crate::results::{ClockInfo, InstanceInfo, Results, SeriesDump};
use crate::series::{NamePoint, SecondPoint};
use crate::TimelinePoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use throng_metrics::threshold::{parse_key, Expr};
use throng_metrics::{
    Agg, MetricId, MetricKind, Registry, Snapshot, TagSet, Threshold, ThresholdSet, TrendAgg,
};

/// What a merged results file records about its inputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct MergeInfo {
    /// The instances merged, in input order.
    pub instances: Vec<InstanceInfo>,
    /// Segments of the sequence no input covered (`3/8:1/2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Instances whose run failed (an exit code other than 0 or 99): `id: exit N`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// How far apart any two instances' clocks may have been, ms (from each one's clock
    /// estimate; instances on one host share a clock); `None`: unknown for some instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_alignment_ms: Option<f64>,
    /// The latest any instance started its load after the agreed `--start-at`, ms (by its
    /// own clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_start_skew_ms: Option<f64>,
}

/// How far apart any two of these instances' clocks may have been, ms: for each pair on
/// different hosts, the difference of their measured offsets plus both errors (or both
/// bounds when a clock was not measured); 0 when all ran on one host; `None` when some
/// instance on another host has no usable estimate.
pub fn clock_alignment(instances: &[InstanceInfo]) -> Option<f64> {
    let mut worst: f64 = 0.0;
    for (i, a) in instances.iter().enumerate() {
        for b in &instances[i + 1..] {
            let (ca, cb) = (a.clock.as_ref(), b.clock.as_ref());
            let host = |c: Option<&ClockInfo>| c.and_then(|c| c.host.clone());
            if host(ca).is_some() && host(ca) == host(cb) {
                continue;
            }
            let (ca, cb) = (ca?, cb?);
            let gap = match (ca.offset_ms, cb.offset_ms) {
                (Some(x), Some(y)) => {
                    (x - y).abs() + ca.error_ms.unwrap_or(0.0) + cb.error_ms.unwrap_or(0.0)
                }
                _ => ca.bound_ms()? + cb.bound_ms()?,
            };
            worst = worst.max(gap);
        }
    }
    Some(worst)
}

impl MergeInfo {
    /// Whether any segment is missing or any instance failed.
    pub fn is_partial(&self) -> bool {
        !self.missing.is_empty() || !self.failed.is_empty()
    }

    /// One line: `merged 7 of 8 instances; missing 7/8:1; failed: 3: exit 107`.
    pub fn describe(&self) -> String {
        let expected = self.instances.len() + self.missing.len();
        let mut s = format!(
            "merged {} of {} instance{}",
            self.instances.len(),
            expected,
            if expected == 1 { "" } else { "s" }
        );
        if !self.missing.is_empty() {
            s.push_str(&format!("; missing segments {}", self.missing.join(", ")));
        }
        if !self.failed.is_empty() {
            s.push_str(&format!("; failed: {}", self.failed.join(", ")));
        }
        if self.instances.len() > 1 {
            match self.clock_alignment_ms {
                Some(a) => s.push_str(&format!("; clocks within {a:.1} ms")),
                None => s.push_str(
                    "; clocks not known to agree (an instance is not NTP-synchronised: \
                     give --clock-ref)",
                ),
            }
        }
        if let Some(k) = self.max_start_skew_ms {
            s.push_str(&format!("; started at most {k:.1} ms late"));
        }
        s
    }
}

/// Why files cannot be merged. Every message is one line that names the files at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no results files to merge")]
    Empty,
    /// Written by different throng versions.
    #[error("{a} was written by throng {va} and {b} by throng {vb}: merge results of one version")]
    Version {
        /// First file.
        a: String,
        /// Its version.
        va: String,
        /// The other file.
        b: String,
        /// Its version.
        vb: String,
    },
    /// Different plans (or load flags).
    #[error("{a} and {b} ran different plans ({what}): merge the instances of one run")]
    Plan {
        /// First file.
        a: String,
        /// The other file.
        b: String,
        /// What differs.
        what: String,
    },
    /// Different runs of the same plan.
    #[error("{a} is from run {ra} and {b} from run {rb}: merge the instances of one run")]
    Run {
        /// First file.
        a: String,
        /// Its run id.
        ra: String,
        /// The other file.
        b: String,
        /// Its run id.
        rb: String,
    },
    /// The same segment twice.
    #[error("{a} and {b} both ran segment {segment}: each segment may be merged once")]
    Duplicate {
        /// First file.
        a: String,
        /// The other file.
        b: String,
        /// The segment.
        segment: String,
    },
    /// A series that cannot be read (its histogram).
    #[error("{file}: series {series}: {problem}")]
    Series {
        /// The file.
        file: String,
        /// The series.
        series: String,
        /// What is wrong.
        problem: String,
    },
    /// A threshold of the inputs that no longer parses.
    #[error("{file}: threshold `{key}: {expression}`: {problem}")]
    Threshold {
        /// The file.
        file: String,
        /// The metric key.
        key: String,
        /// The expression.
        expression: String,
        /// What is wrong.
        problem: String,
    },
}

/// The merged results and what went into them.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The results of the whole run (its `merge` field lists the inputs).
    pub results: Results,
    /// What was merged, missing or failed.
    pub info: MergeInfo,
}

/// A series dump as an aggregate of its metric's kind.
fn agg_of(kind: MetricKind, s: &SeriesDump) -> Result<Agg, String> {
    Ok(match kind {
        MetricKind::Counter => Agg::Counter { sum: s.value },
        MetricKind::Gauge => Agg::Gauge {
            value: s.value,
            min: s.min.unwrap_or(s.value),
            max: s.max.unwrap_or(s.value),
        },
        MetricKind::Rate => Agg::Rate {
            trues: s.value as u64,
            total: s.extra.unwrap_or(s.value) as u64,
        },
        MetricKind::Trend => {
            // the stored histogram, as `throng compare` reads it, added to an empty trend
            // so the merged one grows as a recording one does
            let mut t = TrendAgg::new();
            t.merge(&crate::compare::trend_of(s)?);
            Agg::Trend(Box::new(t))
        }
    })
}

/// Adds `b` into `a`; gauges add too (the VUs of all instances), unlike within one run.
fn add(a: &mut Agg, b: &Agg) {
    match (a, b) {
        (
            Agg::Gauge { value, min, max },
            Agg::Gauge {
                value: v2,
                min: m2,
                max: x2,
            },
        ) => {
            *value += v2;
            *min += m2;
            *max += x2;
        }
        (a, b) => a.merge(b),
    }
}

fn series_name(s: &SeriesDump) -> String {
    let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("{}{{{}}}", s.metric, tags.join(","))
}

/// Checks that the inputs are instances of one run: one throng version, one plan, one run
/// id, each segment once. Returns the segments of the sequence no input covers.
fn check_inputs(inputs: &[(String, Results)]) -> Result<Vec<String>, MergeError> {
    let (f0, r0) = inputs.first().ok_or(MergeError::Empty)?;
    for (f, r) in &inputs[1..] {
        match (&r0.instance, &r.instance) {
            (Some(a), Some(b)) => {
                if a.throng_version != b.throng_version {
                    return Err(MergeError::Version {
                        a: f0.clone(),
                        va: a.throng_version.clone(),
                        b: f.clone(),
                        vb: b.throng_version.clone(),
                    });
                }
                if a.plan_digest != b.plan_digest {
                    return Err(MergeError::Plan {
                        a: f0.clone(),
                        b: f.clone(),
                        what: format!(
                            "plan digest {} vs {}: the plan file or its load flags differ",
                            a.plan_digest, b.plan_digest
                        ),
                    });
                }
                if a.run_id != b.run_id {
                    return Err(MergeError::Run {
                        a: f0.clone(),
                        ra: a.run_id.clone(),
                        b: f.clone(),
                        rb: b.run_id.clone(),
                    });
                }
                if a.sequence != b.sequence {
                    return Err(MergeError::Plan {
                        a: f0.clone(),
                        b: f.clone(),
                        what: format!("segment sequences {} and {}", a.sequence, b.sequence),
                    });
                }
            }
            (None, None) if r0.run.plan != r.run.plan => {
                return Err(MergeError::Plan {
                    a: f0.clone(),
                    b: f.clone(),
                    what: format!("`{}` and `{}`", r0.run.plan, r.run.plan),
                })
            }
            (None, None) => {}
            _ => {
                return Err(MergeError::Plan {
                    a: f0.clone(),
                    b: f.clone(),
                    what: "one is a segment of a scaled-out run, the other a whole run".into(),
                })
            }
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (f, r) in inputs {
        if let Some(i) = &r.instance {
            if let Some(prev) = seen.insert(&i.segment, f) {
                return Err(MergeError::Duplicate {
                    a: prev.to_string(),
                    b: f.clone(),
                    segment: i.segment.clone(),
                });
            }
        }
    }
    let Some(inst) = &r0.instance else {
        return Ok(Vec::new());
    };
    let points: Vec<&str> = inst.sequence.split(',').collect();
    Ok(points
        .windows(2)
        .map(|w| format!("{}:{}", w[0], w[1]))
        .filter(|s| !seen.contains_key(s.as_str()))
        .collect())
}

/// Merges the results files of one run's instances (`(file name, results)`), checking they
/// belong together; missing segments and failed instances are listed, not refused (the
/// caller decides whether a partial merge is acceptable).
pub fn merge(inputs: &[(String, Results)]) -> Result<Merged, MergeError> {
    let missing = check_inputs(inputs)?;
    let (_, first) = inputs.first().ok_or(MergeError::Empty)?;
    // metric definitions: the built-ins, then every metric any input defined
    let reg = Registry::new();
    for (_, r) in inputs {
        for m in r.metrics.iter().filter(|m| m.filter.is_empty()) {
            reg.define(&m.metric, m.kind, m.contains);
        }
    }
    let defs = reg.collect().metrics().to_vec();
    let kind_of = |name: &str| -> Option<(MetricId, MetricKind)> {
        defs.iter()
            .position(|d| d.name == name)
            .map(|i| (MetricId(i as u32), defs[i].kind))
    };
    let mut series = Vec::new();
    for (f, r) in inputs {
        for s in &r.series {
            let Some((id, kind)) = kind_of(&s.metric) else {
                return Err(MergeError::Series {
                    file: f.clone(),
                    series: series_name(s),
                    problem: "its metric is not among the file's metrics".into(),
                });
            };
            let agg = agg_of(kind, s).map_err(|problem| MergeError::Series {
                file: f.clone(),
                series: series_name(s),
                problem,
            })?;
            series.push((id, TagSet::new(s.tags.clone()), agg));
        }
    }
    // one aggregate per series, gauges added across instances
    let mut by_key: Vec<(MetricId, TagSet, Agg)> = Vec::new();
    let mut index: std::collections::HashMap<(MetricId, TagSet), usize> = Default::default();
    for (id, tags, agg) in series {
        match index.get(&(id, tags.clone())) {
            Some(i) => add(&mut by_key[*i].2, &agg),
            None => {
                index.insert((id, tags.clone()), by_key.len());
                by_key.push((id, tags, agg));
            }
        }
    }
    // the wall-clock span of all instances
    let starts: Vec<i64> = inputs.iter().map(|(_, r)| start_ms(r)).collect();
    let t0 = starts.iter().copied().min().unwrap_or(0);
    let end = inputs
        .iter()
        .zip(&starts)
        .map(|((_, r), s)| *s as f64 + r.run.duration_ms)
        .fold(t0 as f64, f64::max);
    let elapsed = Duration::from_secs_f64(((end - t0 as f64) / 1000.0).max(0.0));
    let snap = Snapshot::assemble(defs.clone(), by_key, elapsed);
    let mut thresholds = ThresholdSet::default();
    for t in &first.thresholds {
        let bad = |problem: String| MergeError::Threshold {
            file: inputs[0].0.clone(),
            key: t.metric.clone(),
            expression: t.expression.clone(),
            problem,
        };
        let (metric, filter) = parse_key(&t.metric).map_err(|e| bad(e.to_string()))?;
        thresholds.items.push(Threshold {
            key: t.metric.clone(),
            metric,
            filter,
            expr: Expr::parse(&t.expression).map_err(|e| bad(e.to_string()))?,
            abort_on_fail: t.abort_on_fail,
            delay_abort_eval: Duration::ZERO,
        });
    }
    let verdicts = thresholds.evaluate(&snap, elapsed);
    let failed: Vec<String> = inputs
        .iter()
        .filter(|(_, r)| ![0, 99].contains(&r.run.exit_code))
        .map(|(f, r)| {
            let id = r
                .instance
                .as_ref()
                .map(|i| i.instance_id.clone())
                .unwrap_or_else(|| f.clone());
            format!("{id}: exit {}", r.run.exit_code)
        })
        .collect();
    let mut run = first.run.clone();
    run.started_at = jiff::Timestamp::from_millisecond(t0)
        .map(|t| t.to_string())
        .unwrap_or(run.started_at);
    run.duration_ms = elapsed.as_secs_f64() * 1000.0;
    run.interrupted = inputs.iter().any(|(_, r)| r.run.interrupted);
    run.aborted_by = inputs.iter().find_map(|(_, r)| r.run.aborted_by.clone());
    run.exit_code = if verdicts.iter().all(|v| v.ok) { 0 } else { 99 };
    run.command = None;
    let scenarios = merge_scenarios(inputs);
    let offsets: Vec<f64> = starts
        .iter()
        .map(|s| ((s - t0) as f64 / 1000.0).round())
        .collect();
    let timeline = merge_timeline(inputs, &offsets);
    let mut results = Results::build(&snap, &thresholds, &verdicts, run, scenarios, timeline);
    // every instance ran the same plan: the first one's trend stats
    if let Some((_, first)) = inputs.first() {
        results.set_trend_stats(&snap, &first.trend_stats);
    }
    results.seconds = merge_seconds(inputs.iter().map(|(_, r)| &r.seconds), &offsets);
    for (pick, out) in [
        (0usize, &mut results.by_name),
        (1usize, &mut results.by_scenario),
    ] {
        let mut names: Vec<&String> = inputs
            .iter()
            .flat_map(|(_, r)| {
                if pick == 0 {
                    &r.by_name
                } else {
                    &r.by_scenario
                }
                .keys()
            })
            .collect();
        names.sort();
        names.dedup();
        for n in names {
            let per = inputs.iter().map(|(_, r)| {
                if pick == 0 {
                    &r.by_name
                } else {
                    &r.by_scenario
                }
                .get(n)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            });
            out.insert(n.clone(), merge_name_points(per, &offsets));
        }
    }
    results.phases = merge_phases(inputs);
    results.failures = merge_failures(inputs, &offsets);
    results.generator = merge_generators(inputs);
    let instances: Vec<InstanceInfo> = inputs
        .iter()
        .filter_map(|(_, r)| r.instance.clone())
        .collect();
    let info = MergeInfo {
        clock_alignment_ms: clock_alignment(&instances),
        max_start_skew_ms: instances
            .iter()
            .filter_map(|i| i.start_skew_ms)
            .reduce(f64::max),
        instances,
        missing,
        failed,
    };
    results.merge = Some(info.clone());
    Ok(Merged { results, info })
}

/// Wall-clock start of a results file's load, ms since the epoch.
fn start_ms(r: &Results) -> i64 {
    r.instance
        .as_ref()
        .map(|i| i.started_at_unix_ms)
        .or_else(|| {
            r.run
                .started_at
                .parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_millisecond())
        })
        .unwrap_or(0)
}

fn merge_scenarios(inputs: &[(String, Results)]) -> Vec<crate::ScenarioOutcome> {
    let mut out: Vec<crate::ScenarioOutcome> = Vec::new();
    for (_, r) in inputs {
        for s in &r.scenarios {
            match out.iter_mut().find(|o| o.name == s.name) {
                Some(o) => {
                    o.max_vus += s.max_vus;
                    o.completed += s.completed;
                    o.interrupted += s.interrupted;
                    o.dropped += s.dropped;
                    o.failed += s.failed;
                }
                None => out.push(s.clone()),
            }
        }
    }
    out
}

/// Running totals: at each instant, the sum of every instance's latest total.
fn merge_timeline(inputs: &[(String, Results)], offsets: &[f64]) -> Vec<TimelinePoint> {
    let mut times: Vec<f64> = inputs
        .iter()
        .zip(offsets)
        .flat_map(|((_, r), o)| r.timeline.iter().map(move |p| p.t + o))
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    times
        .into_iter()
        .map(|t| {
            let mut p = TimelinePoint {
                t,
                ..TimelinePoint::default()
            };
            for ((_, r), o) in inputs.iter().zip(offsets) {
                if let Some(q) = r.timeline.iter().rev().find(|q| q.t + o <= t + 1e-6) {
                    p.vus += q.vus;
                    p.http_reqs += q.http_reqs;
                    p.http_req_failed += q.http_req_failed;
                    p.iterations += q.iterations;
                }
            }
            p
        })
        .collect()
}

fn max_pairs(a: &mut Vec<(f64, f64)>, b: &[(f64, f64)]) {
    for (q, v) in b {
        match a.iter_mut().find(|(k, _)| (k - q).abs() < 1e-9) {
            Some((_, w)) => *w = w.max(*v),
            None => a.push((*q, *v)),
        }
    }
}

/// Per-second points on one wall-clock axis: counts add; a second's percentiles come from
/// the sum of the instances' histograms of that second when every instance kept them
/// (exact), else they are the highest instance's (an upper bound).
fn merge_seconds<'a>(
    all: impl Iterator<Item = &'a Vec<SecondPoint>>,
    offsets: &[f64],
) -> Vec<SecondPoint> {
    let mut out: Vec<SecondPoint> = Vec::new();
    // each merged point's summed histogram; `None` once an instance's point has none
    let mut hists: Vec<Option<TrendAgg>> = Vec::new();
    for (points, o) in all.zip(offsets) {
        for p in points {
            let t = p.t + o;
            let i = match out.iter().position(|q| (q.t - t).abs() < 1e-6) {
                Some(i) => i,
                None => {
                    out.push(SecondPoint {
                        t,
                        span_s: p.span_s,
                        ..SecondPoint::default()
                    });
                    hists.push(Some(TrendAgg::new()));
                    out.len() - 1
                }
            };
            hists[i] = hists[i].take().and_then(|mut h| {
                let enc = p.hist.as_deref()?;
                if !enc.is_empty() {
                    h.hist.add(crate::validate::decode_hdr(enc).ok()?).ok()?;
                }
                Some(h)
            });
            let q = &mut out[i];
            q.vus += p.vus;
            q.reqs += p.reqs;
            q.failures += p.failures;
            q.rate_limited += p.rate_limited;
            q.data_sent += p.data_sent;
            q.data_received += p.data_received;
            q.p50 = q.p50.max(p.p50);
            q.p90 = q.p90.max(p.p90);
            q.p95 = q.p95.max(p.p95);
            q.p99 = q.p99.max(p.p99);
            q.max = q.max.max(p.max);
            max_pairs(&mut q.percentiles, &p.percentiles);
            q.total_p50 = q.total_p50.max(p.total_p50);
            q.total_max = q.total_max.max(p.total_max);
            q.total_min = if q.total_reqs == 0 {
                p.total_min
            } else {
                q.total_min.min(p.total_min)
            };
        }
    }
    for (q, h) in out.iter_mut().zip(hists) {
        let Some(mut h) = h else { continue };
        // the percentiles of the summed histogram, clamped to the exact maximum as one
        // process's are (the mean is not shown per second)
        h.count = h.hist.len();
        h.min = 0.0;
        h.max = q.max;
        let t = (h.count > 0).then_some(&h);
        q.latency_from(t);
        q.hist = Some(crate::series::encode_second(t));
    }
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    let (mut reqs, mut failures) = (0, 0);
    for q in &mut out {
        reqs += q.reqs;
        failures += q.failures;
        q.total_reqs = reqs;
        q.total_failures = failures;
    }
    out
}

fn merge_name_points<'a>(
    all: impl Iterator<Item = &'a [NamePoint]>,
    offsets: &[f64],
) -> Vec<NamePoint> {
    let mut out: Vec<NamePoint> = Vec::new();
    for (points, o) in all.zip(offsets) {
        for p in points {
            let t = p.t + o;
            match out.iter_mut().find(|q| (q.t - t).abs() < 1e-6) {
                Some(q) => {
                    q.reqs += p.reqs;
                    q.failures += p.failures;
                    max_pairs(&mut q.percentiles, &p.percentiles);
                    q.totals = None;
                }
                None => out.push(NamePoint {
                    t,
                    totals: None,
                    ..p.clone()
                }),
            }
        }
    }
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    out
}

fn merge_phases(inputs: &[(String, Results)]) -> Vec<crate::series::PhaseResult> {
    let mut out: Vec<crate::series::PhaseResult> = Vec::new();
    for (_, r) in inputs {
        for p in &r.phases {
            match out
                .iter_mut()
                .find(|q| q.scenario == p.scenario && q.start_s == p.start_s)
            {
                Some(q) => {
                    let n = q.requests + p.requests;
                    if n > 0 {
                        q.avg = (q.avg * q.requests as f64 + p.avg * p.requests as f64) / n as f64;
                    }
                    q.requests = n;
                    q.rps += p.rps;
                    q.failures += p.failures;
                    q.max = q.max.max(p.max);
                    if p.unit == "VUs" {
                        q.from += p.from;
                        q.to += p.to;
                    }
                }
                None => out.push(p.clone()),
            }
        }
    }
    out
}

fn merge_failures(
    inputs: &[(String, Results)],
    offsets: &[f64],
) -> Vec<crate::series::FailureKind> {
    let mut out: Vec<crate::series::FailureKind> = Vec::new();
    for ((_, r), o) in inputs.iter().zip(offsets) {
        for f in &r.failures {
            let (first, last) = (f.first_seen_s + o, f.last_seen_s + o);
            match out.iter_mut().find(|q| q.kind == f.kind) {
                Some(q) => {
                    q.count += f.count;
                    q.first_seen_s = q.first_seen_s.min(first);
                    q.last_seen_s = q.last_seen_s.max(last);
                    for n in &f.names {
                        if !q.names.contains(n) {
                            q.names.push(n.clone());
                        }
                    }
                }
                None => out.push(crate::series::FailureKind {
                    first_seen_s: first,
                    last_seen_s: last,
                    ..f.clone()
                }),
            }
        }
    }
    out
}

/// The generators together: cores and CPU seconds add, the worst figures win, and any
/// instance that limited its share is named.
fn merge_generators(inputs: &[(String, Results)]) -> Option<crate::GeneratorInfo> {
    let mut g = crate::GeneratorInfo::default();
    let mut any = false;
    for (f, r) in inputs {
        let Some(x) = &r.generator else { continue };
        any = true;
        g.cores += x.cores;
        g.cpu_seconds = sum_opt(g.cpu_seconds, x.cpu_seconds);
        g.cpu_avg_pct = max_opt(g.cpu_avg_pct, x.cpu_avg_pct);
        g.cpu_peak_pct = max_opt(g.cpu_peak_pct, x.cpu_peak_pct);
        g.peak_rss_bytes = g.peak_rss_bytes.max(x.peak_rss_bytes);
        g.schedule_lag_p99_ms = max_opt(g.schedule_lag_p99_ms, x.schedule_lag_p99_ms);
        g.dropped_iterations += x.dropped_iterations;
        let id = r
            .instance
            .as_ref()
            .map(|i| format!("instance {}", i.instance_id))
            .unwrap_or_else(|| f.clone());
        g.reasons
            .extend(x.reasons.iter().map(|reason| format!("{id}: {reason}")));
    }
    g.bottleneck = !g.reasons.is_empty();
    any.then_some(g)
}

fn sum_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(host: &str, clock: ClockInfo) -> InstanceInfo {
        InstanceInfo {
            clock: Some(ClockInfo {
                host: Some(host.into()),
                ..clock
            }),
            ..InstanceInfo::default()
        }
    }

    fn measured(offset: f64, error: f64) -> ClockInfo {
        ClockInfo {
            source: "sntp ntp:123".into(),
            offset_ms: Some(offset),
            error_ms: Some(error),
            ..ClockInfo::default()
        }
    }

    fn kernel(synchronised: bool, max_error: f64) -> ClockInfo {
        ClockInfo {
            source: "kernel".into(),
            synchronised: Some(synchronised),
            max_error_ms: synchronised.then_some(max_error),
            error_ms: synchronised.then_some(max_error / 2.0),
            ..ClockInfo::default()
        }
    }

    /// A one-second point of `samples` (ms) at `t`, with its histogram.
    fn second(t: f64, samples: &[f64]) -> SecondPoint {
        let mut h = TrendAgg::new();
        for v in samples {
            h.record(*v);
        }
        let mut p = SecondPoint {
            t,
            reqs: samples.len() as u64,
            ..SecondPoint::default()
        };
        p.latency_from(Some(&h));
        p.hist = Some(crate::series::encode_second(Some(&h)));
        p
    }

    #[test]
    fn merged_seconds_have_the_percentiles_of_all_their_samples() {
        // two instances' samples in second 1 and 2 (none of the second in second 2)
        let a1: Vec<f64> = (1..=90).map(|i| i as f64 * 1.5).collect();
        let b1: Vec<f64> = (1..=10).map(|i| 200.0 + i as f64 * 37.0).collect();
        let a2: Vec<f64> = vec![3.0, 4.0, 5.0];
        let a = vec![second(1.0, &a1), second(2.0, &a2)];
        let mut b2 = second(2.0, &[]);
        b2.reqs = 0;
        let b = vec![second(1.0, &b1), b2];
        let merged = merge_seconds([&a, &b].into_iter(), &[0.0, 0.0]);
        let one = |samples: Vec<f64>| second(0.0, &samples);
        let all1 = one(a1.iter().chain(&b1).copied().collect());
        let all2 = one(a2.clone());
        for (m, o) in merged.iter().zip([&all1, &all2]) {
            assert_eq!(m.reqs, o.reqs);
            assert_eq!(
                (m.p50, m.p90, m.p95, m.p99, m.max),
                (o.p50, o.p90, o.p95, o.p99, o.max),
                "second {}",
                m.t
            );
            assert_eq!(m.percentiles, o.percentiles);
            assert_eq!(
                m.hist, o.hist,
                "the merged histogram is the one of all samples"
            );
        }
        // the upper bound (the larger instance's p50) would have been wrong
        assert!(merged[0].p50 < b[0].p50);
        // without an instance's histogram: the upper bound, and no histogram
        let mut c = b.clone();
        c[0].hist = None;
        let bound = merge_seconds([&a, &c].into_iter(), &[0.0, 0.0]);
        assert_eq!(bound[0].p50, a[0].p50.max(c[0].p50));
        assert_eq!(bound[0].hist, None);
    }

    #[test]
    fn clock_alignment_is_the_widest_pair() {
        // measured against one reference: the offsets' difference plus both errors
        let a = [
            inst("a", measured(10.0, 1.0)),
            inst("b", measured(-5.0, 1.0)),
            inst("c", measured(2.0, 0.5)),
        ];
        assert_eq!(clock_alignment(&a), Some(17.0));
        // one host shares one clock, whatever its state
        let same = [inst("h", kernel(false, 0.0)), inst("h", kernel(false, 0.0))];
        assert_eq!(clock_alignment(&same), Some(0.0));
        // synchronised kernels: both maximum errors
        let k = [inst("a", kernel(true, 8.0)), inst("b", kernel(true, 4.0))];
        assert_eq!(clock_alignment(&k), Some(12.0));
        // an unsynchronised clock on another host: unknown
        let u = [inst("a", kernel(true, 8.0)), inst("b", kernel(false, 0.0))];
        assert_eq!(clock_alignment(&u), None);
        // and so without any estimate
        let none = [InstanceInfo::default(), InstanceInfo::default()];
        assert_eq!(clock_alignment(&none), None);
        let info = MergeInfo {
            instances: u.to_vec(),
            ..MergeInfo::default()
        };
        assert!(
            info.describe().contains("clocks not known to agree"),
            "{}",
            info.describe()
        );
    }
}
