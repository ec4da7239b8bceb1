//! `--until` criteria: k6 threshold expressions a level must meet. `p(95)<500` reads the
//! scenario's `http_req_duration`, `rate<0.01` its `http_req_failed`; any other metric is
//! named before the expression: `checks rate>0.99`, `http_req_duration{name:login} p(99)<800`.
use throng_metrics::names;
use throng_metrics::threshold::{parse_key, Expr, Stat, Threshold};

/// A criterion that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--until `{0}`: {1}")]
pub struct CriterionError(pub String, pub String);

/// A criterion as written, before it is bound to a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// As written.
    pub source: String,
    /// The metric.
    pub metric: String,
    /// Its tag filter (without the scenario, added per search).
    pub filter: Vec<(String, String)>,
    /// The expression.
    pub expr: Expr,
}

impl std::str::FromStr for Criterion {
    type Err = CriterionError;

    fn from_str(src: &str) -> Result<Criterion, CriterionError> {
        let bad = |why: String| CriterionError(src.to_string(), why);
        let t = src.trim();
        // a leading word that is not a stat and holds no operator names the metric
        let (key, expr) = match t.split_once(char::is_whitespace) {
            Some((k, e)) if !k.contains(['<', '>', '=', '!']) && Stat::parse(k).is_err() => {
                (Some(k), e)
            }
            _ => (None, t),
        };
        let expr = Expr::parse(expr).map_err(|e| bad(e.to_string()))?;
        let (metric, filter) = match key {
            Some(k) => parse_key(k).map_err(|e| bad(e.to_string()))?,
            None => {
                let m = match expr.stat {
                    Stat::Rate => names::HTTP_REQ_FAILED,
                    Stat::Count => names::HTTP_REQS,
                    _ => names::HTTP_REQ_DURATION,
                };
                (m.to_string(), Vec::new())
            }
        };
        Ok(Criterion {
            source: t.to_string(),
            metric,
            filter,
            expr,
        })
    }
}

impl Criterion {
    /// The threshold judging `scenario`'s samples.
    pub fn threshold(&self, scenario: &str) -> Threshold {
        let mut filter = self.filter.clone();
        if !filter.iter().any(|(k, _)| k == names::SCENARIO_TAG) {
            filter.push((names::SCENARIO_TAG.to_string(), scenario.to_string()));
        }
        let key = format!(
            "{}{{{}}}",
            self.metric,
            filter
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        Threshold {
            key,
            metric: self.metric.clone(),
            filter,
            expr: self.expr.clone(),
            abort_on_fail: false,
            delay_abort_eval: std::time::Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_pick_their_metric() {
        let c: Criterion = "p(95)<500".parse().expect("criterion");
        assert_eq!(c.metric, "http_req_duration");
        let t = c.threshold("api");
        assert_eq!(t.key, "http_req_duration{scenario:api}");
        let c: Criterion = "rate<0.01".parse().expect("criterion");
        assert_eq!(c.metric, "http_req_failed");
        let c: Criterion = "checks rate>0.99".parse().expect("criterion");
        assert_eq!(
            (c.metric.as_str(), c.expr.source.as_str()),
            ("checks", "rate>0.99")
        );
        let c: Criterion = "http_req_duration{name:login} p(99) < 800"
            .parse()
            .expect("criterion");
        assert_eq!(c.filter, vec![("name".to_string(), "login".to_string())]);
        assert_eq!(
            c.threshold("s").key,
            "http_req_duration{name:login,scenario:s}"
        );
        assert!("p(95)<".parse::<Criterion>().is_err());
        assert!("fast".parse::<Criterion>().is_err());
    }
}
