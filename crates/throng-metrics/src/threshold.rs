//! k6's threshold grammar: `metric{tag:value}` keys and `stat op number` expressions, and
//! their evaluation against a [`Snapshot`].
use crate::agg::Agg;
use crate::sampled::SampledStats;
use crate::snapshot::Snapshot;
use crate::MetricKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What went wrong parsing a threshold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// The expression is not `stat op number`.
    #[error(
        "invalid threshold expression {0:?}: expected `<stat> <op> <number>`, e.g. `p(95)<500`"
    )]
    Syntax(String),
    /// Unknown aggregation method.
    #[error("unknown aggregation method {0:?}: expected one of avg, min, max, med, p(N), count, rate, value")]
    UnknownStat(String),
    /// A percentile outside 0–100.
    #[error("percentile {0} is outside 0..100")]
    Percentile(String),
    /// The stat does not apply to the metric's kind.
    #[error("`{stat}` does not apply to {kind} metric `{metric}` (valid: {valid})")]
    WrongKind {
        /// The stat.
        stat: String,
        /// The metric kind.
        kind: &'static str,
        /// The metric name.
        metric: String,
        /// The valid stats.
        valid: &'static str,
    },
    /// A bad ` over DURATION` window.
    #[error("invalid window in threshold {0:?}: {1}")]
    Window(String, String),
    /// A malformed `metric{tag:value}` key.
    #[error("invalid threshold key {0:?}: expected `metric` or `metric{{tag:value,...}}`")]
    Key(String),
}

/// An aggregation method.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stat {
    /// Mean (trend).
    Avg,
    /// Smallest (trend).
    Min,
    /// Largest (trend).
    Max,
    /// Median (trend).
    Med,
    /// Percentile 0–100 (trend).
    P(f64),
    /// Sum (counter).
    Count,
    /// Per-second rate (counter) or non-zero share (rate).
    Rate,
    /// Latest value (gauge, sampled series).
    Value,
    /// Last value minus first value (sampled series).
    Delta,
    /// Least-squares growth per hour (sampled series: `growth_per_hour<100MB`).
    GrowthPerHour,
}

impl Stat {
    /// Parses `avg`, `p(99.9)`, ...
    pub fn parse(s: &str) -> Result<Stat, ThresholdError> {
        let s = s.trim();
        Ok(match s {
            "avg" => Stat::Avg,
            "min" => Stat::Min,
            "max" => Stat::Max,
            "med" => Stat::Med,
            "count" => Stat::Count,
            "rate" => Stat::Rate,
            "value" => Stat::Value,
            "delta" => Stat::Delta,
            "growth_per_hour" => Stat::GrowthPerHour,
            _ => {
                let inner = s
                    .strip_prefix("p(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| ThresholdError::UnknownStat(s.to_string()))?;
                let p: f64 = inner
                    .trim()
                    .parse()
                    .map_err(|_| ThresholdError::Percentile(inner.to_string()))?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(ThresholdError::Percentile(inner.to_string()));
                }
                Stat::P(p)
            }
        })
    }

    /// Whether `name` is a trend stat as k6's `summaryTrendStats` names them (`avg`,
    /// `min`, `med`, `max`, `count`, `p(N)` with N from 0 to 100).
    pub fn is_trend_stat(name: &str) -> bool {
        matches!(
            Stat::parse(name),
            Ok(Stat::Avg | Stat::Min | Stat::Max | Stat::Med | Stat::Count | Stat::P(_))
        )
    }

    /// The stat as k6 writes it (`p(95)`).
    pub fn name(&self) -> String {
        match self {
            Stat::Avg => "avg".into(),
            Stat::Min => "min".into(),
            Stat::Max => "max".into(),
            Stat::Med => "med".into(),
            Stat::P(p) => format!("p({})", fmt_num(*p)),
            Stat::Count => "count".into(),
            Stat::Rate => "rate".into(),
            Stat::Value => "value".into(),
            Stat::Delta => "delta".into(),
            Stat::GrowthPerHour => "growth_per_hour".into(),
        }
    }

    /// Whether the stat applies to a metric kind; `Err` lists the valid ones.
    pub fn check_kind(&self, kind: MetricKind) -> Result<(), &'static str> {
        let ok = match kind {
            MetricKind::Counter => matches!(self, Stat::Count | Stat::Rate),
            MetricKind::Gauge => matches!(self, Stat::Value),
            MetricKind::Rate => matches!(self, Stat::Rate),
            MetricKind::Trend => matches!(
                self,
                Stat::Avg | Stat::Min | Stat::Max | Stat::Med | Stat::P(_)
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(match kind {
                MetricKind::Counter => "count, rate",
                MetricKind::Gauge => "value",
                MetricKind::Rate => "rate",
                MetricKind::Trend => "avg, min, max, med, p(N)",
            })
        }
    }

    /// Whether the stat applies to a sampled (monitor) series; `Err` lists the valid ones.
    pub fn check_sampled(&self) -> Result<(), &'static str> {
        match self {
            Stat::Value | Stat::Min | Stat::Max | Stat::Avg | Stat::Delta | Stat::GrowthPerHour => {
                Ok(())
            }
            _ => Err("value, min, max, avg, delta, growth_per_hour"),
        }
    }

    /// The stat's value over a sampled series.
    pub fn of_sampled(&self, s: &SampledStats) -> f64 {
        match self {
            Stat::Min => s.min,
            Stat::Max => s.max,
            Stat::Avg => s.avg(),
            Stat::Delta => s.delta(),
            Stat::GrowthPerHour => s.growth_per_hour(),
            _ => s.last.1,
        }
    }

    /// The stat's value in an aggregate; `elapsed` turns counters into per-second rates.
    pub fn of(&self, agg: &Agg, elapsed: Duration) -> f64 {
        match (self, agg) {
            (Stat::Count, Agg::Counter { sum }) => *sum,
            (Stat::Rate, Agg::Counter { sum }) => {
                let s = elapsed.as_secs_f64();
                if s > 0.0 {
                    sum / s
                } else {
                    0.0
                }
            }
            (Stat::Rate, Agg::Rate { trues, total }) => {
                if *total == 0 {
                    0.0
                } else {
                    *trues as f64 / *total as f64
                }
            }
            (Stat::Value, Agg::Gauge { value, .. }) => *value,
            (Stat::Avg, Agg::Trend(t)) => t.avg(),
            (Stat::Min, Agg::Trend(t)) => t.min_or_zero(),
            (Stat::Max, Agg::Trend(t)) => t.max_or_zero(),
            (Stat::Med, Agg::Trend(t)) => t.percentile(50.0),
            (Stat::P(p), Agg::Trend(t)) => t.percentile(*p),
            _ => 0.0,
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==` or `===`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// A parsed expression such as `p(95)<600`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// The aggregation method.
    pub stat: Stat,
    /// The comparison.
    pub op: Op,
    /// The bound.
    pub value: f64,
    /// The source text, as written.
    pub source: String,
    /// `… over 1m`: judged per window of this length from the run's start (alert-style: it
    /// fails if any full window breaks it) instead of over the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

impl Expr {
    /// Parses `stat op number` (whitespace allowed around the operator), optionally
    /// followed by ` over DURATION` (`rate<0.05 over 1m`).
    pub fn parse(src: &str) -> Result<Expr, ThresholdError> {
        let (s, window) = match src.trim().rsplit_once(" over ") {
            Some((e, w)) => {
                let d = crate::duration::parse_duration(w)
                    .map_err(|e| ThresholdError::Window(src.to_string(), e))?;
                if d < Duration::from_secs(1) {
                    return Err(ThresholdError::Window(
                        src.to_string(),
                        "a window is at least 1s".into(),
                    ));
                }
                (e.trim(), Some(d))
            }
            None => (src.trim(), None),
        };
        // the stat ends where the operator begins (after any closing paren)
        let stat_end = s
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| ThresholdError::Syntax(src.to_string()))?;
        let stat = Stat::parse(&s[..stat_end])?;
        let rest = &s[stat_end..];
        let (op, n) = [
            ("===", Op::Eq),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find(|(t, _)| rest.starts_with(t))
        .map(|(t, op)| (*op, t.len()))
        .ok_or_else(|| ThresholdError::Syntax(src.to_string()))?;
        let value =
            parse_bound(rest[n..].trim()).ok_or_else(|| ThresholdError::Syntax(src.to_string()))?;
        if !value.is_finite() {
            return Err(ThresholdError::Syntax(src.to_string()));
        }
        Ok(Expr {
            stat,
            op,
            value,
            source: src.to_string(),
            window,
        })
    }

    /// Whether an observed value passes.
    pub fn passes(&self, observed: f64) -> bool {
        self.op.apply(observed, self.value)
    }
}

/// A bound: a number, optionally with a unit for monitor series: `%` (nothing changes),
/// `KB`, `MB`, `GB` (×1024ⁿ bytes).
fn parse_bound(s: &str) -> Option<f64> {
    let (num, mul) = [
        ("KB", 1024.0),
        ("MB", 1024.0 * 1024.0),
        ("GB", 1024.0 * 1024.0 * 1024.0),
        ("%", 1.0),
    ]
    .iter()
    .find_map(|(u, m)| s.strip_suffix(u).map(|n| (n.trim(), *m)))
    .unwrap_or((s, 1.0));
    num.parse::<f64>().ok().map(|v| v * mul)
}

/// Whether a threshold key names a sampled series (`monitor:...`) rather than a metric.
pub fn is_sampled(metric: &str) -> bool {
    metric.starts_with("monitor:")
}

/// Splits `metric{tag:value,tag2:value2}` into the metric name and its tag filter.
/// Each tag is split at its first `:`, as k6 does (`group:::name` → `group` = `::name`).
pub fn parse_key(key: &str) -> Result<(String, Vec<(String, String)>), ThresholdError> {
    let key_t = key.trim();
    let Some(open) = key_t.find('{') else {
        if key_t.is_empty() || key_t.contains('}') {
            return Err(ThresholdError::Key(key.to_string()));
        }
        return Ok((key_t.to_string(), Vec::new()));
    };
    let name = key_t[..open].trim();
    let inner = key_t[open + 1..]
        .strip_suffix('}')
        .ok_or_else(|| ThresholdError::Key(key.to_string()))?;
    if name.is_empty() || inner.trim().is_empty() {
        return Err(ThresholdError::Key(key.to_string()));
    }
    let mut filter = Vec::new();
    for part in inner.split(',') {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| ThresholdError::Key(key.to_string()))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(ThresholdError::Key(key.to_string()));
        }
        filter.push((k.to_string(), v.trim().to_string()));
    }
    Ok((name.to_string(), filter))
}

/// One threshold: an expression on a (sub-)metric, with k6's abort options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The key as written (`http_req_duration{name:ingest}`).
    pub key: String,
    /// The metric name.
    pub metric: String,
    /// The tag filter of a sub-metric (empty for the whole metric).
    pub filter: Vec<(String, String)>,
    /// The expression.
    pub expr: Expr,
    /// Stop the whole test as soon as this fails.
    pub abort_on_fail: bool,
    /// Don't abort before this much of the test has run.
    pub delay_abort_eval: Duration,
}

/// The outcome of one threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Passed (so far).
    pub ok: bool,
    /// The observed value of the stat.
    pub observed: f64,
}

/// All thresholds of a run.
#[derive(Clone, Debug, Default)]
pub struct ThresholdSet {
    /// The thresholds, in plan order.
    pub items: Vec<Threshold>,
}

impl ThresholdSet {
    /// Evaluates every threshold. A metric without samples counts as zero, as in k6.
    pub fn evaluate(&self, snap: &Snapshot, elapsed: Duration) -> Vec<Verdict> {
        self.items
            .iter()
            .map(|t| {
                let observed = if is_sampled(&t.metric) {
                    snap.sampled(&t.metric)
                        .map(|s| t.expr.stat.of_sampled(s))
                        .unwrap_or(0.0)
                } else {
                    match snap.aggregate_load(&t.metric, &t.filter) {
                        Some(agg) => t.expr.stat.of(&agg, elapsed),
                        None => 0.0,
                    }
                };
                Verdict {
                    ok: t.expr.passes(observed),
                    observed,
                }
            })
            .collect()
    }

    /// The first threshold that failed with `abortOnFail` and whose delay has passed.
    pub fn abort_reason(&self, verdicts: &[Verdict], elapsed: Duration) -> Option<&Threshold> {
        self.items
            .iter()
            .zip(verdicts)
            .find(|(t, v)| t.abort_on_fail && !v.ok && elapsed >= t.delay_abort_eval)
            .map(|(t, _)| t)
    }
}

/// Formats a number without a trailing `.0` (`95`, `99.9`).
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_windows() {
        let e = Expr::parse("rate<0.05 over 1m").expect("parse");
        assert_eq!(
            (e.stat, e.op, e.value, e.window),
            (Stat::Rate, Op::Lt, 0.05, Some(Duration::from_secs(60)))
        );
        assert_eq!(e.source, "rate<0.05 over 1m");
        assert_eq!(
            Expr::parse("p(95) < 600 over 30s").expect("parse").window,
            Some(Duration::from_secs(30))
        );
        assert_eq!(Expr::parse("p(95)<600").expect("parse").window, None);
        for bad in [
            "rate<0.05 over",
            "rate<0.05 over soon",
            "rate<0.05 over 500ms",
        ] {
            assert!(
                matches!(
                    Expr::parse(bad),
                    Err(ThresholdError::Window(..)) | Err(ThresholdError::Syntax(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn parses_k6_expressions() {
        let e = Expr::parse("p(99.9) <= 300").expect("parse");
        assert_eq!(e.stat, Stat::P(99.9));
        assert_eq!(e.op, Op::Le);
        assert_eq!(e.value, 300.0);
        for (src, stat, op) in [
            ("avg<200", Stat::Avg, Op::Lt),
            ("med>=1", Stat::Med, Op::Ge),
            ("rate<0.01", Stat::Rate, Op::Lt),
            ("count===5", Stat::Count, Op::Eq),
            ("value!=3", Stat::Value, Op::Ne),
            ("max > 2", Stat::Max, Op::Gt),
            ("min==0", Stat::Min, Op::Eq),
        ] {
            let e = Expr::parse(src).expect(src);
            assert_eq!((e.stat, e.op), (stat, op), "{src}");
        }
    }

    #[test]
    fn rejects_bad_expressions() {
        for bad in [
            "", "p95<1", "p(101)<1", "p(-1)<1", "avg", "avg<", "avg<abc", "foo<1", "avg~1",
            "p(x)<1",
        ] {
            assert!(Expr::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn parses_keys_with_filters() {
        assert_eq!(
            parse_key("http_req_duration{name:ingest, status:200}").expect("key"),
            (
                "http_req_duration".to_string(),
                vec![
                    ("name".to_string(), "ingest".to_string()),
                    ("status".to_string(), "200".to_string())
                ]
            )
        );
        assert_eq!(
            parse_key("group_duration{group:::a}").expect("key").1,
            vec![("group".to_string(), "::a".to_string())]
        );
        assert!(parse_key("x{").is_err());
        assert!(parse_key("x{a}").is_err());
        assert!(parse_key("{a:b}").is_err());
    }

    #[test]
    fn monitor_stats_and_units() {
        let e = Expr::parse("growth_per_hour<100MB").expect("parse");
        assert_eq!(e.stat, Stat::GrowthPerHour);
        assert_eq!(e.value, 100.0 * 1024.0 * 1024.0);
        assert_eq!(Expr::parse("max<80%").expect("parse").value, 80.0);
        assert_eq!(Expr::parse("delta==0").expect("parse").stat, Stat::Delta);
        assert!(Stat::P(95.0).check_sampled().is_err());
        let reg = crate::Registry::new();
        for (t, v) in [(0.0, 10.0), (1.0, 90.0), (2.0, 20.0)] {
            reg.record_sampled("monitor:api.cpu", t, v);
        }
        let set = ThresholdSet {
            items: ["max<80", "avg<50", "delta==10"]
                .iter()
                .map(|e| Threshold {
                    key: "monitor:api.cpu".into(),
                    metric: "monitor:api.cpu".into(),
                    filter: vec![],
                    expr: Expr::parse(e).expect("parse"),
                    abort_on_fail: false,
                    delay_abort_eval: Duration::ZERO,
                })
                .collect(),
        };
        let v = set.evaluate(&reg.collect(), Duration::from_secs(2));
        assert_eq!(
            v.iter().map(|v| (v.ok, v.observed)).collect::<Vec<_>>(),
            vec![(false, 90.0), (true, 40.0), (true, 10.0)]
        );
    }

    #[test]
    fn stat_kind_compatibility() {
        assert!(Stat::P(95.0).check_kind(MetricKind::Trend).is_ok());
        assert!(Stat::P(95.0).check_kind(MetricKind::Rate).is_err());
        assert!(Stat::Rate.check_kind(MetricKind::Counter).is_ok());
        assert!(Stat::Value.check_kind(MetricKind::Gauge).is_ok());
    }
}
