//! A level matrix (`--matrix api=50,100,200 events=100,500,1000`): every combination of
//! the scenarios' rates runs once, the scenarios together, each judged by the criteria (and
//! the plan's thresholds); the answer is the pass/fail grid.
use super::level::Shape;
use super::{Criterion, LimitError, LoadModel, MAX_DROPPED_SHARE};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use throng_plan::Plan;
use tokio_util::sync::CancellationToken;

/// One axis: a scenario and its levels (`api=50,100,200`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The scenario.
    pub scenario: String,
    /// Its levels, in the order given.
    pub levels: Vec<f64>,
}

impl std::str::FromStr for Axis {
    type Err = String;

    fn from_str(s: &str) -> Result<Axis, String> {
        let bad = || format!("--matrix `{s}`: expected SCENARIO=L1,L2,..., e.g. api=50,100,200");
        let (name, list) = s.split_once('=').ok_or_else(bad)?;
        let levels: Vec<f64> = list
            .split(',')
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| *x > 0.0 && x.is_finite())
            })
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        if name.trim().is_empty() || levels.is_empty() {
            return Err(bad());
        }
        Ok(Axis {
            scenario: name.trim().to_string(),
            levels,
        })
    }
}

/// One combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The level of each axis, in axis order.
    pub loads: Vec<f64>,
    /// Every criterion held.
    pub ok: bool,
    /// What failed: `http_req_duration{scenario:api} p(95)<500 (observed 812)`.
    pub failed: Vec<String>,
    /// Requests of the run.
    pub requests: u64,
}

/// The grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    /// The axes.
    pub axes: Vec<Axis>,
    /// `it/s` or `VUs`.
    pub unit: String,
    /// Every combination, the first axis slowest.
    pub cells: Vec<Cell>,
    /// Stopped by Ctrl-C (the cells not run are missing).
    pub interrupted: bool,
}

/// Every combination of the axes' levels, the first axis varying slowest.
pub fn combinations(axes: &[Axis]) -> Vec<Vec<f64>> {
    axes.iter().fold(vec![Vec::new()], |acc, a| {
        acc.iter()
            .flat_map(|prefix| {
                a.levels.iter().map(move |l| {
                    let mut v = prefix.clone();
                    v.push(*l);
                    v
                })
            })
            .collect()
    })
}

/// Runs every combination.
pub async fn run_matrix(
    plan: &Plan,
    plan_file: &str,
    axes: &[Axis],
    shape: Shape<'_>,
    interrupt: CancellationToken,
    progress: &mut dyn FnMut(&Cell),
) -> Result<MatrixReport, LimitError> {
    for a in axes {
        if !plan.scenarios.iter().any(|s| s.name == a.scenario) {
            return Err(LimitError::Invalid(format!(
                "--matrix `{}`: the plan has no such scenario",
                a.scenario
            )));
        }
    }
    let mut cells = Vec::new();
    for loads in combinations(axes) {
        if interrupt.is_cancelled() {
            break;
        }
        let named: Vec<(String, f64)> = axes
            .iter()
            .zip(&loads)
            .map(|(a, l)| (a.scenario.clone(), *l))
            .collect();
        let p = shape.apply(plan, &named);
        let out = super::level::run(p, plan_file, &interrupt)
            .await
            .map_err(|source| LimitError::Run {
                load: loads.iter().sum(),
                source,
            })?;
        let r = &out.results;
        let mut failed: Vec<String> = r
            .thresholds
            .iter()
            .filter(|t| !t.ok)
            .map(|t| {
                format!(
                    "{} {} (observed {})",
                    t.metric,
                    t.expression,
                    throng_metrics::threshold::fmt_num((t.observed * 1000.0).round() / 1000.0)
                )
            })
            .collect();
        if shape.model == LoadModel::ArrivalRate {
            for sc in &r.scenarios {
                let rate = named
                    .iter()
                    .find(|(n, _)| *n == sc.name)
                    .map(|x| x.1)
                    .unwrap_or(0.0);
                let offered = rate * shape.hold.as_secs_f64();
                if offered > 0.0 && sc.dropped as f64 / offered > MAX_DROPPED_SHARE {
                    failed.push(format!(
                        "{}: {} of {offered:.0} arrivals dropped (no free VU)",
                        sc.name, sc.dropped
                    ));
                }
            }
        }
        if r.run.interrupted {
            failed.push("interrupted".into());
        }
        let cell = Cell {
            loads,
            ok: failed.is_empty(),
            failed,
            requests: r
                .value(throng_metrics::names::HTTP_REQS, "count")
                .unwrap_or(0.0) as u64,
        };
        progress(&cell);
        cells.push(cell);
    }
    Ok(MatrixReport {
        axes: axes.to_vec(),
        unit: shape.model.unit().into(),
        cells,
        interrupted: interrupt.is_cancelled(),
    })
}

impl MatrixReport {
    fn mark(&self, loads: &[f64]) -> &'static str {
        match self.cells.iter().find(|c| c.loads == loads) {
            Some(c) if c.ok => "✅",
            Some(_) => "❌",
            None => "—",
        }
    }

    /// The lowest combination passed.
    pub fn any_ok(&self) -> bool {
        self.cells.first().is_some_and(|c| c.ok)
    }

    /// The pass/fail grid: rows are the first axis, columns the second (one column with a
    /// single axis; further axes are listed per cell below the grid).
    pub fn text(&self) -> String {
        let mut o = String::new();
        let Some(rows) = self.axes.first() else {
            return o;
        };
        let cols = self.axes.get(1);
        let label =
            |a: &Axis, v: f64| format!("{}={}", a.scenario, throng_metrics::threshold::fmt_num(v));
        let _ = write!(o, "{:>16}", format!("({})", self.unit));
        match cols {
            Some(c) => c.levels.iter().for_each(|v| {
                let _ = write!(o, " {:>14}", label(c, *v));
            }),
            None => {
                let _ = write!(o, " {:>14}", "verdict");
            }
        }
        o.push('\n');
        for r in &rows.levels {
            let _ = write!(o, "{:>16}", label(rows, *r));
            match cols {
                Some(c) => c.levels.iter().for_each(|v| {
                    let _ = write!(o, " {:>13}", self.mark(&[*r, *v]));
                }),
                None => {
                    let _ = write!(o, " {:>13}", self.mark(&[*r]));
                }
            }
            o.push('\n');
        }
        if self.axes.len() <= 2 {
            for c in self.cells.iter().filter(|c| !c.ok) {
                let at: Vec<String> = self
                    .axes
                    .iter()
                    .zip(&c.loads)
                    .map(|(a, v)| label(a, *v))
                    .collect();
                let _ = writeln!(o, "  ❌ {}: {}", at.join(" "), c.failed.join("; "));
            }
        }
        o
    }
}

/// Criteria from `--until`, or the defaults when none and the plan has no thresholds.
pub fn criteria_or_default(until: &[Criterion], plan: &Plan) -> Vec<Criterion> {
    if until.is_empty() && plan.thresholds.items.is_empty() {
        ["p(95)<500", "rate<0.01"]
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    } else {
        until.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_and_their_combinations() {
        let a: Axis = "api=50,100,200".parse().expect("axis");
        assert_eq!(a.levels, [50.0, 100.0, 200.0]);
        let b: Axis = "events=100,500".parse().expect("axis");
        assert_eq!(
            combinations(&[a, b]),
            [
                vec![50.0, 100.0],
                vec![50.0, 500.0],
                vec![100.0, 100.0],
                vec![100.0, 500.0],
                vec![200.0, 100.0],
                vec![200.0, 500.0]
            ]
        );
        for bad in ["api", "api=", "=1,2", "api=1,x", "api=0"] {
            assert!(bad.parse::<Axis>().is_err(), "{bad}");
        }
    }
}
