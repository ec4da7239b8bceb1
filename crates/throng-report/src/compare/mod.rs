//! Comparing runs: per request name, per scenario and overall — count, throughput,
//! p50/p95/p99 (from the stored HDR histograms merged exactly, never re-averaged) and error
//! rate — with the change from one run to the next and gates (`--fail-if 'p(95)>+10%'`)
//! that fail a build.
//!
//! Every file is read through [`Results::from_json`], so a results file of another schema
//! version or with altered histograms is refused with its one-line reason.
mod gate;
mod render;

pub use gate::{Gate, GateError, GateResult, GateStat, GateUnit};

use crate::results::{Results, SeriesDump};
use std::collections::BTreeMap;
use throng_metrics::{names, TrendAgg};

/// One run's figures for one scope.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Requests.
    pub count: u64,
    /// Requests per second over the run.
    pub throughput: f64,
    /// Failed share (0..1).
    pub error_rate: f64,
    /// `http_req_duration` of the scope, merged from the stored histograms.
    pub latency: TrendAgg,
}

impl Figures {
    /// A percentile of the latency (ms).
    pub fn p(&self, q: f64) -> f64 {
        self.latency.percentile(q)
    }

    /// The value a gate reads.
    pub fn stat(&self, s: GateStat) -> f64 {
        match s {
            GateStat::Count => self.count as f64,
            GateStat::Throughput => self.throughput,
            GateStat::ErrorRate => self.error_rate,
            GateStat::P(q) => self.p(q),
        }
    }
}

/// What a row covers: everything, one scenario or one request name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// All requests.
    Overall,
    /// One scenario's requests.
    Scenario(String),
    /// Requests with this `name` tag.
    Name(String),
}

impl Scope {
    /// `overall`, `scenario api`, `name login`.
    pub fn label(&self) -> String {
        match self {
            Scope::Overall => "overall".into(),
            Scope::Scenario(s) => format!("scenario {s}"),
            Scope::Name(n) => format!("name {n}"),
        }
    }

    fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        match self {
            Scope::Overall => true,
            Scope::Scenario(s) => tags.get(names::SCENARIO_TAG) == Some(s),
            Scope::Name(n) => tags.get("name") == Some(n),
        }
    }
}

/// One scope across the runs (`None` where a run has no such requests).
#[derive(Debug, Clone)]
pub struct Row {
    /// What it covers.
    pub scope: Scope,
    /// One entry per run, in the order given.
    pub runs: Vec<Option<Figures>>,
}

/// Runs compared, and the gates' verdicts.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// A label per run (its file name).
    pub labels: Vec<String>,
    /// Overall, then each scenario, then each request name.
    pub rows: Vec<Row>,
    /// Every gate, judged on the last run against the one before it.
    pub gates: Vec<GateResult>,
}

/// Why runs could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Fewer than two runs.
    #[error("compare needs at least two results files")]
    TooFew,
    /// A file could not be read or was refused.
    #[error("{file}: {why}")]
    File {
        /// The file.
        file: String,
        /// Why.
        why: String,
    },
    /// A histogram in a file would not decode (after validation: not expected).
    #[error("{file}: {why}")]
    Histogram {
        /// The file.
        file: String,
        /// Why.
        why: String,
    },
}

/// Reads a results file (validated: schema version and histograms); the error names the
/// file.
pub fn read_results(path: &std::path::Path) -> Result<Results, CompareError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CompareError::File {
        file: file.clone(),
        why: e.to_string(),
    })?;
    Results::from_json(&bytes).map_err(|e| CompareError::File {
        file,
        why: e.to_string(),
    })
}

fn figures(r: &Results, scope: &Scope) -> Result<Option<Figures>, String> {
    let matching = |metric: &str| -> Vec<&SeriesDump> {
        r.series
            .iter()
            .filter(|s| s.metric == metric && scope.matches(&s.tags))
            .collect()
    };
    let reqs = matching(names::HTTP_REQS);
    if reqs.is_empty() {
        return Ok(None);
    }
    let count = reqs.iter().map(|s| s.value).sum::<f64>() as u64;
    let (mut fails, mut total) = (0.0, 0.0);
    for s in matching(names::HTTP_REQ_FAILED) {
        fails += s.value;
        total += s.extra.unwrap_or(0.0);
    }
    let mut latency = TrendAgg::new();
    for s in matching(names::HTTP_REQ_DURATION) {
        latency.merge(&trend_of(s)?);
    }
    let secs = r.run.duration_ms / 1000.0;
    Ok(Some(Figures {
        count,
        throughput: if secs > 0.0 { count as f64 / secs } else { 0.0 },
        error_rate: if total > 0.0 { fails / total } else { 0.0 },
        latency,
    }))
}

/// A stored trend series as a [`TrendAgg`] (its histogram decoded, its exact count, sum,
/// min and max kept).
pub fn trend_of(s: &SeriesDump) -> Result<TrendAgg, String> {
    let mut t = TrendAgg::new();
    let Some(b64) = &s.hdr else {
        return Ok(t);
    };
    let hist = crate::validate::decode_hdr(b64)?;
    t.count = hist.len();
    t.hist = hist;
    t.sum = s.extra.unwrap_or(0.0);
    if t.count > 0 {
        t.min = s.min.unwrap_or(0.0);
        t.max = s.max.unwrap_or(0.0);
    }
    Ok(t)
}

impl Comparison {
    /// Compares runs (at least two, oldest first) and judges `gates` on the last against
    /// the one before it.
    pub fn new(runs: &[(String, Results)], gates: &[Gate]) -> Result<Comparison, CompareError> {
        if runs.len() < 2 {
            return Err(CompareError::TooFew);
        }
        let mut scopes = vec![Scope::Overall];
        let mut extra: Vec<Scope> = Vec::new();
        for (_, r) in runs {
            for s in r.series.iter().filter(|s| s.metric == names::HTTP_REQS) {
                if let Some(sc) = s.tags.get(names::SCENARIO_TAG) {
                    extra.push(Scope::Scenario(sc.clone()));
                }
                if let Some(n) = s.tags.get("name") {
                    extra.push(Scope::Name(n.clone()));
                }
            }
        }
        extra.sort();
        extra.dedup();
        scopes.extend(extra);
        let mut rows = Vec::new();
        for scope in scopes {
            let mut figs = Vec::new();
            for (label, r) in runs {
                figs.push(figures(r, &scope).map_err(|why| CompareError::Histogram {
                    file: label.clone(),
                    why,
                })?);
            }
            rows.push(Row { scope, runs: figs });
        }
        let n = runs.len();
        let gates = gates
            .iter()
            .map(|g| {
                let row = rows.iter().find(|r| r.scope == g.scope);
                let pair = row.map(|r| (r.runs[n - 2].as_ref(), r.runs[n - 1].as_ref()));
                g.judge(pair.and_then(|(a, b)| a.zip(b)))
            })
            .collect();
        Ok(Comparison {
            labels: runs.iter().map(|(l, _)| l.clone()).collect(),
            rows,
            gates,
        })
    }

    /// Every gate passed (or there were none).
    pub fn ok(&self) -> bool {
        self.gates.iter().all(|g| g.ok)
    }

    /// The terminal table.
    pub fn text(&self) -> String {
        render::text(self)
    }

    /// The Markdown document.
    pub fn markdown(&self) -> String {
        render::markdown(self)
    }

    /// The HTML page (tables and the overlaid latency distributions).
    pub fn html(&self) -> String {
        render::html(self)
    }

    /// JUnit XML: one test case per gate.
    pub fn junit(&self) -> String {
        render::junit(self)
    }
}

/// The change from `a` to `b`: absolute and relative (%; `None` from zero).
pub fn change(a: f64, b: f64) -> (f64, Option<f64>) {
    let d = b - a;
    let pct = if a != 0.0 {
        Some(d / a * 100.0)
    } else if d == 0.0 {
        Some(0.0)
    } else {
        None
    };
    (d, pct)
}
