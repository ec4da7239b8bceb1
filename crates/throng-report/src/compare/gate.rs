//! Gates on a change between runs: `throughput<-10%`, `p(95)>+10%`, `error_rate>+0.5pp`,
//! `p(99){name:login}>+50ms`. A gate names when the build fails: it fails when the change
//! from the previous run to the last one satisfies the comparison.
use super::{change, Figures, Scope};
use std::str::FromStr;

/// The figure a gate reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GateStat {
    /// Requests.
    Count,
    /// Requests per second.
    Throughput,
    /// Failed share.
    ErrorRate,
    /// A latency percentile (ms).
    P(f64),
}

impl GateStat {
    /// `p(95)`, `throughput`, ...
    pub fn name(&self) -> String {
        match self {
            GateStat::Count => "count".into(),
            GateStat::Throughput => "throughput".into(),
            GateStat::ErrorRate => "error_rate".into(),
            GateStat::P(q) => format!("p({})", throng_metrics::threshold::fmt_num(*q)),
        }
    }
}

/// How the change is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GateUnit {
    /// Relative change, % of the earlier value.
    Percent,
    /// Percentage points (rates): `(b - a) × 100`.
    Points,
    /// Absolute change in milliseconds (latency only).
    Ms,
    /// Absolute change in the figure's own unit.
    Abs,
}

/// One `--fail-if` gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// As written.
    pub source: String,
    /// The figure.
    pub stat: GateStat,
    /// The row it reads (overall unless `{scenario:x}` or `{name:y}`).
    pub scope: Scope,
    /// `>` (fails when the change is above) or `<`.
    pub above: bool,
    /// The limit, in `unit`.
    pub limit: f64,
    /// The unit of the limit.
    pub unit: GateUnit,
    /// A second limit that must be crossed too (`p(95)>+10%&+5ms`: more than 10 % *and*
    /// more than 5 ms, so a noisy millisecond does not fail the build).
    pub also: Option<(f64, GateUnit)>,
}

/// A `--fail-if` that could not be read; the message shows the grammar.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--fail-if `{0}`: {1} (expected e.g. `throughput<-10%`, `p(95)>+10%`, `error_rate>+0.5pp`, `p(99){{name:login}}>+50ms`)")]
pub struct GateError(String, String);

impl FromStr for Gate {
    type Err = GateError;

    fn from_str(src: &str) -> Result<Gate, GateError> {
        let bad = |why: &str| GateError(src.to_string(), why.to_string());
        let s: String = src.chars().filter(|c| !c.is_whitespace()).collect();
        let at = s.find(['<', '>']).ok_or_else(|| bad("no `<` or `>`"))?;
        let (lhs, rhs) = (&s[..at], &s[at + 1..]);
        let above = s.as_bytes()[at] == b'>';
        let (stat_s, scope) = match lhs.split_once('{') {
            Some((st, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .ok_or_else(|| bad("a `{` without its `}`"))?;
                let (k, v) = inner
                    .split_once(':')
                    .ok_or_else(|| bad("the filter is not `{tag:value}`"))?;
                let scope = match k {
                    "scenario" => Scope::Scenario(v.to_string()),
                    "name" => Scope::Name(v.to_string()),
                    _ => return Err(bad("filter by `scenario` or `name`")),
                };
                (st, scope)
            }
            None => (lhs, Scope::Overall),
        };
        let stat = match stat_s {
            "count" => GateStat::Count,
            "throughput" | "rps" => GateStat::Throughput,
            "error_rate" | "errors" => GateStat::ErrorRate,
            "med" => GateStat::P(50.0),
            p => {
                let q = p
                    .strip_prefix("p(")
                    .and_then(|x| x.strip_suffix(')'))
                    .and_then(|x| x.parse::<f64>().ok())
                    .filter(|q| (0.0..=100.0).contains(q))
                    .ok_or_else(|| {
                        bad(&format!(
                            "unknown figure `{p}` (use throughput, count, error_rate, p(N))"
                        ))
                    })?;
                GateStat::P(q)
            }
        };
        let limit = |part: &str| -> Result<(f64, GateUnit), GateError> {
            let (num, unit) = if let Some(n) = part.strip_suffix('%') {
                (n, GateUnit::Percent)
            } else if let Some(n) = part.strip_suffix("pp") {
                (n, GateUnit::Points)
            } else if let Some(n) = part.strip_suffix("ms") {
                (n, GateUnit::Ms)
            } else {
                (part, GateUnit::Abs)
            };
            if unit == GateUnit::Points && stat != GateStat::ErrorRate {
                return Err(bad("`pp` (percentage points) applies to error_rate"));
            }
            if unit == GateUnit::Ms && !matches!(stat, GateStat::P(_)) {
                return Err(bad("`ms` applies to latency percentiles"));
            }
            let v: f64 = num
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| bad(&format!("`{num}` is not a number")))?;
            Ok((v, unit))
        };
        let (first, second) = match rhs.split_once('&') {
            Some((a, b)) => (a, Some(b)),
            None => (rhs, None),
        };
        let (limit_v, unit) = limit(first)?;
        let also = second.map(limit).transpose()?;
        if also.is_some_and(|(_, u)| u == unit) {
            return Err(bad(
                "the two limits joined by `&` need different units (`+10%&+5ms`)",
            ));
        }
        Ok(Gate {
            source: src.trim().to_string(),
            stat,
            scope,
            above,
            limit: limit_v,
            unit,
            also,
        })
    }
}

/// A gate's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    /// The gate as written.
    pub gate: String,
    /// The row it read.
    pub scope: String,
    /// The earlier run's figure (`None`: the row is missing).
    pub before: Option<f64>,
    /// The last run's figure.
    pub after: Option<f64>,
    /// The change in the gate's unit (`None`: not measurable, e.g. % of zero).
    pub change: Option<f64>,
    /// The unit's suffix (`%`, `pp`, `ms`, ``).
    pub unit: &'static str,
    /// Passed.
    pub ok: bool,
}

impl Gate {
    /// Judges the change from `pair.0` to `pair.1`; a missing row fails the gate.
    pub fn judge(&self, pair: Option<(&Figures, &Figures)>) -> GateResult {
        let unit = match self.unit {
            GateUnit::Percent => "%",
            GateUnit::Points => "pp",
            GateUnit::Ms => "ms",
            GateUnit::Abs => "",
        };
        let Some((a, b)) = pair else {
            return GateResult {
                gate: self.source.clone(),
                scope: self.scope.label(),
                before: None,
                after: None,
                change: None,
                unit,
                ok: false,
            };
        };
        let (x, y) = (a.stat(self.stat), b.stat(self.stat));
        let (d, pct) = change(x, y);
        let in_unit = |unit: GateUnit| match unit {
            GateUnit::Percent => pct.or(Some(if d > 0.0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            })),
            GateUnit::Points => Some(d * 100.0),
            GateUnit::Ms | GateUnit::Abs => Some(d),
        };
        let crossed = |unit: GateUnit, limit: f64| {
            in_unit(unit).is_some_and(|c| if self.above { c > limit } else { c < limit })
        };
        let c = in_unit(self.unit);
        let failed = crossed(self.unit, self.limit)
            && self.also.is_none_or(|(limit, unit)| crossed(unit, limit));
        GateResult {
            gate: self.source.clone(),
            scope: self.scope.label(),
            before: Some(x),
            after: Some(y),
            change: c,
            unit,
            ok: !failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_limit_must_be_crossed_too() {
        let g: Gate = "p(95)>+10%&+5ms".parse().expect("gate");
        assert_eq!(g.also, Some((5.0, GateUnit::Ms)));
        // every request took `ms`: p95 is `ms` (within the histogram's precision)
        let fig = |ms: f64| {
            let mut latency = throng_metrics::TrendAgg::default();
            for _ in 0..100 {
                latency.record(ms);
            }
            Figures {
                count: 100,
                throughput: 10.0,
                error_rate: 0.0,
                latency,
            }
        };
        // +10.1 % but only +1.3 ms: noise, passes
        assert!(g.judge(Some((&fig(13.14), &fig(14.47)))).ok);
        // +50 ms and +380 %: fails
        assert!(!g.judge(Some((&fig(13.14), &fig(63.14)))).ok);
        // +6 ms of 100 ms is only +6 %: passes
        assert!(g.judge(Some((&fig(100.0), &fig(106.0)))).ok);
        assert!("p(95)>+10%&+5%".parse::<Gate>().is_err());
        assert!("throughput<-10%&-5ms".parse::<Gate>().is_err());
    }

    #[test]
    fn gates_read_as_written() {
        let g: Gate = "throughput<-10%".parse().expect("gate");
        assert_eq!(
            (g.stat, g.above, g.limit, g.unit, g.scope),
            (
                GateStat::Throughput,
                false,
                -10.0,
                GateUnit::Percent,
                Scope::Overall
            )
        );
        let g: Gate = "p(95) > +10%".parse().expect("gate");
        assert_eq!((g.stat, g.above, g.limit), (GateStat::P(95.0), true, 10.0));
        let g: Gate = "error_rate>+0.5pp".parse().expect("gate");
        assert_eq!((g.unit, g.limit), (GateUnit::Points, 0.5));
        let g: Gate = "p(99){name:login}>+50ms".parse().expect("gate");
        assert_eq!(
            (g.unit, g.scope),
            (GateUnit::Ms, Scope::Name("login".into()))
        );
        for bad in [
            "throughput",
            "latency>+1%",
            "p(95)>+1pp",
            "throughput>+5ms",
            "p(95){url:x}>1%",
            "p(95)>x%",
            "p(101)>1%",
        ] {
            assert!(bad.parse::<Gate>().is_err(), "{bad}");
        }
        assert_eq!(
            "latency>+1%".parse::<Gate>().expect_err("bad").to_string(),
            "--fail-if `latency>+1%`: unknown figure `latency` (use throughput, count, error_rate, p(N)) (expected e.g. `throughput<-10%`, `p(95)>+10%`, `error_rate>+0.5pp`, `p(99){name:login}>+50ms`)"
        );
    }

    fn figs(count: u64, throughput: f64, error_rate: f64, lat: &[f64]) -> Figures {
        let mut latency = throng_metrics::TrendAgg::new();
        for v in lat {
            latency.record(*v);
        }
        Figures {
            count,
            throughput,
            error_rate,
            latency,
        }
    }

    #[test]
    fn gates_judge_the_change() {
        let a = figs(100, 50.0, 0.01, &[10.0; 20]);
        let b = figs(100, 44.0, 0.02, &[16.0; 20]);
        let judge = |s: &str| s.parse::<Gate>().expect("gate").judge(Some((&a, &b)));
        let t = judge("throughput<-10%");
        assert_eq!((t.ok, t.change), (false, Some(-12.0)));
        assert!(judge("throughput<-15%").ok);
        let p = judge("p(95)>+50%");
        assert!(!p.ok, "{p:?}");
        assert!(judge("p(95)>+70%").ok);
        assert!(!judge("error_rate>+0.5pp").ok);
        assert!(judge("error_rate>+1.5pp").ok);
        assert!(!judge("p(95)>+5ms").ok);
        // a row missing in a run fails its gate
        assert!(!"p(95)>1%".parse::<Gate>().expect("gate").judge(None).ok);
    }
}
