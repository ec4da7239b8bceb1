//! `prometheus:` scrape a text exposition endpoint. Counters become the increase since the
//! first scrape (`name`, so `delta` is the before/after difference) and a per-second rate
//! (`name:rate`); gauges are series as they are (`name`); histograms give p50/p95/p99 of
//! the observations in each interval (`name:p95`, in the histogram's unit). Label sets of
//! one family are summed unless a selector names labels: `name{route="/ingest"}`.
use crate::expo::{self, Exposition, FamilyType};
use crate::{http, Monitor, MonitorError, SampleCx, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most series one scrape records when `select` is empty.
const MAX_FAMILIES: usize = 200;

/// A selector: a family name and the labels its samples must carry.
#[derive(Debug, Clone, PartialEq)]
struct Selector {
    family: String,
    labels: Vec<(String, String)>,
    /// The series name (the selector as written, without spaces).
    series: String,
}

fn parse_selector(s: &str) -> Selector {
    let series: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    match series.split_once('{') {
        Some((f, rest)) => {
            let inner = rest.trim_end_matches('}');
            let labels = inner
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                .collect();
            Selector {
                family: f.to_string(),
                labels,
                series: series.clone(),
            }
        }
        None => Selector {
            family: series.clone(),
            labels: Vec::new(),
            series,
        },
    }
}

/// A counter's state between scrapes.
#[derive(Debug, Clone, Copy)]
struct CounterState {
    /// The increase since the first scrape, resets included.
    increase: f64,
    last: f64,
}

/// The Prometheus text monitor.
pub struct PromMonitor {
    url: String,
    select: Vec<Selector>,
    counters: BTreeMap<String, CounterState>,
    buckets: BTreeMap<String, Vec<(f64, f64)>>,
    last_at: Option<Instant>,
    /// Scrapes parsed so far: a counter first seen after the first one was created during
    /// the run, so its whole value is the increase.
    scrapes: u64,
}

impl PromMonitor {
    /// A monitor of `url` keeping the `select`ed families (all when empty).
    pub fn new(url: &str, select: &[String]) -> PromMonitor {
        PromMonitor {
            url: url.to_string(),
            select: select.iter().map(|s| parse_selector(s)).collect(),
            counters: BTreeMap::new(),
            buckets: BTreeMap::new(),
            last_at: None,
            scrapes: 0,
        }
    }

    /// The values of one parsed exposition, `dt` seconds after the previous one.
    pub fn values_of(&mut self, e: &Exposition, dt: Option<f64>) -> Vec<Value> {
        let first_scrape = self.scrapes == 0;
        self.scrapes += 1;
        let selectors = if self.select.is_empty() {
            let mut fams: Vec<String> = e.types.iter().map(|(n, _)| n.clone()).collect();
            for s in &e.samples {
                if !fams.iter().any(|f| belongs(&s.name, f)) {
                    fams.push(s.name.clone());
                }
            }
            fams.truncate(MAX_FAMILIES);
            fams.iter().map(|f| parse_selector(f)).collect()
        } else {
            self.select.clone()
        };
        let mut out = Vec::new();
        for sel in &selectors {
            let ty = family_type(e, &sel.family);
            let matching = e.samples.iter().filter(|s| {
                sel.labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
            });
            match ty {
                FamilyType::Counter => {
                    let names = [sel.family.clone(), format!("{}_total", sel.family)];
                    let mut found = false;
                    let now: f64 = matching
                        .filter(|s| names.contains(&s.name))
                        .inspect(|_| found = true)
                        .map(|s| s.value)
                        .sum();
                    if !found {
                        continue;
                    }
                    let st = self
                        .counters
                        .entry(sel.series.clone())
                        .or_insert(CounterState {
                            increase: 0.0,
                            last: if first_scrape { now } else { 0.0 },
                        });
                    // a counter that went down was reset: count from zero again
                    let step = if now >= st.last { now - st.last } else { now };
                    st.increase += step;
                    st.last = now;
                    out.push(Value::new(sel.series.clone(), st.increase));
                    if let Some(dt) = dt.filter(|d| *d > 0.0) {
                        out.push(Value::new(format!("{}:rate", sel.series), step / dt));
                    }
                }
                FamilyType::Histogram => {
                    let bucket = format!("{}_bucket", sel.family);
                    let mut by_le: BTreeMap<String, (f64, f64)> = BTreeMap::new();
                    for s in matching.filter(|s| s.name == bucket) {
                        let Some(le) = s.labels.iter().find(|(k, _)| k == "le") else {
                            continue;
                        };
                        let bound = match le.1.as_str() {
                            "+Inf" | "Inf" => f64::INFINITY,
                            v => v.parse().unwrap_or(f64::NAN),
                        };
                        if bound.is_nan() {
                            continue;
                        }
                        by_le.entry(le.1.clone()).or_insert((bound, 0.0)).1 += s.value;
                    }
                    let mut now: Vec<(f64, f64)> = by_le.into_values().collect();
                    now.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let prev = self
                        .buckets
                        .insert(sel.series.clone(), now.clone())
                        .or_else(|| {
                            (!first_scrape).then(|| now.iter().map(|b| (b.0, 0.0)).collect())
                        });
                    if let Some(prev) = prev.filter(|p| p.len() == now.len()) {
                        let delta: Vec<(f64, f64)> = now
                            .iter()
                            .zip(&prev)
                            .map(|(n, p)| (n.0, (n.1 - p.1).max(0.0)))
                            .collect();
                        for q in [50.0, 95.0, 99.0] {
                            if let Some(v) = bucket_quantile(&delta, q / 100.0) {
                                out.push(Value::new(format!("{}:p{q}", sel.series), v));
                            }
                        }
                    }
                }
                FamilyType::Summary => {
                    for s in matching.filter(|s| s.name == sel.family) {
                        if let Some((_, q)) = s.labels.iter().find(|(k, _)| k == "quantile") {
                            let q: f64 = q.parse().unwrap_or(f64::NAN);
                            if q.is_finite() {
                                out.push(Value::new(
                                    format!("{}:p{}", sel.series, q * 100.0),
                                    s.value,
                                ));
                            }
                        }
                    }
                }
                FamilyType::Gauge => {
                    let mut found = false;
                    let v: f64 = matching
                        .filter(|s| s.name == sel.family)
                        .inspect(|_| found = true)
                        .map(|s| s.value)
                        .sum();
                    if found {
                        out.push(Value::new(sel.series.clone(), v));
                    }
                }
            }
        }
        out
    }
}

fn belongs(sample: &str, family: &str) -> bool {
    sample == family
        || sample
            .strip_prefix(family)
            .is_some_and(|s| ["_total", "_bucket", "_sum", "_count", "_created"].contains(&s))
}

fn family_type(e: &Exposition, family: &str) -> FamilyType {
    if e.types.iter().any(|(n, _)| n == family) {
        return e.type_of(family);
    }
    // OpenMetrics declares `x` for the `x_total` samples
    match family.strip_suffix("_total") {
        Some(f) if e.type_of(f) == FamilyType::Counter => FamilyType::Counter,
        _ => FamilyType::Gauge,
    }
}

/// The `q` quantile (0–1) of cumulative buckets `(upper bound, count)`, interpolated
/// linearly inside a bucket as PromQL's `histogram_quantile` does; `None` without counts.
pub fn bucket_quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, c) in buckets {
        if c >= rank {
            if le.is_infinite() {
                return Some(prev.0);
            }
            let in_bucket = c - prev.1;
            let frac = if in_bucket > 0.0 {
                (rank - prev.1) / in_bucket
            } else {
                1.0
            };
            return Some(prev.0 + (le - prev.0) * frac);
        }
        prev = (le, c);
    }
    Some(prev.0)
}

impl Monitor for PromMonitor {
    fn sample(&mut self, _cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let r = http::get(&self.url, Duration::from_secs(5))?;
        if r.status != 200 {
            return Err(MonitorError(format!("{}: status {}", self.url, r.status)));
        }
        let text = String::from_utf8_lossy(&r.body);
        let e = expo::parse(&text).map_err(|e| MonitorError(format!("{}: {e}", self.url)))?;
        let now = Instant::now();
        let dt = self.last_at.map(|l| (now - l).as_secs_f64());
        self.last_at = Some(now);
        Ok(self.values_of(&e, dt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &[Value], s: &str) -> Option<f64> {
        v.iter().find(|x| x.series == s).map(|x| x.value)
    }

    #[test]
    fn counters_gauges_histograms() {
        let mut m = PromMonitor::new("http://x/metrics", &[]);
        let e1 = expo::parse("# TYPE r_total counter\nr_total{s=\"200\"} 10\nr_total{s=\"500\"} 5\n# TYPE q gauge\nq 7\n# TYPE d histogram\nd_bucket{le=\"0.1\"} 0\nd_bucket{le=\"1\"} 0\nd_bucket{le=\"+Inf\"} 0\n").expect("p");
        let v = m.values_of(&e1, None);
        assert_eq!(get(&v, "r_total"), Some(0.0));
        assert_eq!(get(&v, "q"), Some(7.0));
        let e2 = expo::parse("# TYPE r_total counter\nr_total{s=\"200\"} 30\nr_total{s=\"500\"} 5\n# TYPE q gauge\nq 9\n# TYPE d histogram\nd_bucket{le=\"0.1\"} 50\nd_bucket{le=\"1\"} 100\nd_bucket{le=\"+Inf\"} 100\n").expect("p");
        let v = m.values_of(&e2, Some(2.0));
        assert_eq!(get(&v, "r_total"), Some(20.0));
        assert_eq!(get(&v, "r_total:rate"), Some(10.0));
        assert_eq!(get(&v, "d:p50"), Some(0.1));
        assert!((get(&v, "d:p95").unwrap_or(0.0) - 0.91).abs() < 1e-9);
        // a counter that appears after the first scrape was created during the run
        let e3 = expo::parse("# TYPE r_total counter\nr_total{s=\"200\"} 30\nr_total{s=\"500\"} 5\nlate_total 4\n# TYPE late_total counter\n").expect("p");
        assert_eq!(get(&m.values_of(&e3, Some(1.0)), "late_total"), Some(4.0));
        let mut sel = PromMonitor::new("http://x/metrics", &["r_total{s=\"500\"}".into()]);
        assert_eq!(
            sel.values_of(&e2, None),
            vec![Value::new("r_total{s=\"500\"}", 0.0)]
        );
    }

    #[test]
    fn quantiles() {
        assert_eq!(
            bucket_quantile(&[(1.0, 0.0), (f64::INFINITY, 0.0)], 0.5),
            None
        );
        assert_eq!(bucket_quantile(&[(1.0, 10.0), (2.0, 20.0)], 0.5), Some(1.0));
        assert_eq!(
            bucket_quantile(&[(1.0, 10.0), (2.0, 20.0)], 0.75),
            Some(1.5)
        );
        assert_eq!(
            bucket_quantile(&[(1.0, 10.0), (f64::INFINITY, 20.0)], 0.99),
            Some(1.0)
        );
    }
}
