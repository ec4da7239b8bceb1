//! Locust's model: scenarios with `weight:` share the `locust:` users. The users are split
//! over the weighted scenarios as Locust's dispatcher splits them over user classes (a
//! smooth weighted round-robin: the k-th user spawned goes to the class whose running credit
//! is highest), and spawned at `spawn_rate` users a second. Each weighted scenario becomes a
//! `ramping-vus` executor: from 0 to its users over the spawn time, then held for the rest of
//! `run_time`. Pacing (`wait:`) is the scenario's own.
use super::options::{expand, number};
use super::{lc, Cx};
use crate::limits::check_vus;
use crate::model::{Executor, LocustPool, Stage};
use crate::raw::RawPlan;
use std::collections::BTreeMap;
use std::time::Duration;

/// How `users` split over classes of these `weights` (Locust's weighted round-robin order of
/// spawning, so every prefix of the spawn order is split by weight too): the class of each
/// user in spawn order.
pub fn spawn_order(weights: &[f64], users: u64) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    let mut credit = vec![0.0; weights.len()];
    let mut order = Vec::with_capacity(users.min(1 << 20) as usize);
    for _ in 0..users {
        for (c, w) in credit.iter_mut().zip(weights) {
            *c += w;
        }
        let mut best = 0;
        for i in 1..credit.len() {
            if credit[i] > credit[best] + 1e-9 {
                best = i;
            }
        }
        credit[best] -= total;
        order.push(best);
    }
    order
}

/// The executor of every weighted scenario by name, and the pool they share; an empty map
/// (errors given) when the plan has none or its `locust:` block does not fit.
pub(super) fn weighted_executors(
    cx: &mut Cx<'_>,
    raw: &RawPlan,
) -> (BTreeMap<String, Executor>, Option<LocustPool>) {
    let out = BTreeMap::new();
    let mut names = Vec::new();
    let mut weights = Vec::new();
    for (name, s) in &raw.scenarios {
        let Some(w) = &s.value.weight else { continue };
        if !(w.value.is_finite() && w.value > 0.0) {
            cx.err(
                w,
                format!("weight must be a number above 0 (got {})", w.value),
            );
            continue;
        }
        if let Some(e) = &s.value.executor {
            cx.err(
                e,
                format!("scenario `{name}` has a `weight:`: its users come from `locust:`, so it takes no `executor:`"),
            );
            continue;
        }
        names.push(name.clone());
        weights.push(w.value);
    }
    let any_weight = raw.scenarios.values().any(|s| s.value.weight.is_some());
    let Some(l) = &raw.locust else {
        if any_weight {
            cx.err_at(
                (1, 1),
                "scenarios with `weight:` need a `locust:` block (`locust: { users: 10, spawn_rate: 2, run_time: 1m }`)",
            );
        }
        return (out, None);
    };
    if !any_weight {
        cx.err(
            l,
            "`locust:` has no scenario to fill: give scenarios a `weight:` (and no `executor:`)",
        );
        return (out, None);
    }
    let l = &l.value;
    let users = number(cx, &l.users, "users");
    let rate = number(cx, &l.spawn_rate, "spawn_rate");
    let run_time = expand(cx, &l.run_time, "run_time").and_then(|d| cx.dur(&d, "run_time"));
    let (Some(users), Some(rate), Some(run_time)) = (users, rate, run_time) else {
        return (out, None);
    };
    if !(users >= 1.0 && users.fract() == 0.0) {
        cx.err(&l.users, "users must be a whole number, 1 or more");
        return (out, None);
    }
    if let Err(e) = check_vus("users", users as u64, cx.open_files) {
        cx.err(&l.users, e);
        return (out, None);
    }
    if !(rate.is_finite() && rate > 0.0) {
        cx.err(&l.spawn_rate, "spawn_rate must be a number above 0");
        return (out, None);
    }
    if run_time.is_zero() {
        cx.err(&l.run_time, "run_time must be longer than 0s");
        return (out, None);
    }
    if names.is_empty() {
        return (out, None);
    }
    let pool = LocustPool {
        users: users as u64,
        spawn_rate: rate,
        run_time,
        weights: names.into_iter().zip(weights).collect(),
    };
    (pool_executors(&pool), Some(pool))
}

/// Each weighted scenario's executor: its share of the users (by Locust's spawn order) as
/// `ramping-vus` from 0 over the spawn time, held for the rest of `run_time`.
pub(crate) fn pool_executors(pool: &LocustPool) -> BTreeMap<String, Executor> {
    let weights: Vec<f64> = pool.weights.iter().map(|(_, w)| *w).collect();
    let mut per = vec![0u64; weights.len()];
    for c in spawn_order(&weights, pool.users) {
        per[c] += 1;
    }
    let run_time = pool.run_time;
    // the whole pool is spawned by `users / rate`; a class's users are spread evenly over
    // that time by the round-robin order, so its ramp spans all of it
    let spawn = Duration::from_secs_f64(pool.users as f64 / pool.spawn_rate);
    let mut out = BTreeMap::new();
    for ((name, _), n) in pool.weights.iter().zip(per) {
        let mut stages = Vec::new();
        if spawn >= run_time {
            let reached = n as f64 * run_time.as_secs_f64() / spawn.as_secs_f64();
            stages.push(Stage {
                duration: run_time,
                target: reached,
            });
        } else {
            stages.push(Stage {
                duration: spawn,
                target: n as f64,
            });
            stages.push(Stage {
                duration: run_time - spawn,
                target: n as f64,
            });
        }
        out.insert(
            name.clone(),
            Executor::RampingVus {
                start_vus: 0,
                stages,
                // Locust stops users at once by default (--stop-timeout 0)
                graceful_ramp_down: Duration::ZERO,
            },
        );
    }
    out
}

/// The scenario's pacing from `wait:` or `wait_constant_throughput:` (at most one).
pub(super) fn pacing(
    cx: &mut Cx<'_>,
    r: &crate::raw::RawScenario,
    exec: Option<&Executor>,
) -> throng_engine::Pacing {
    use throng_engine::Pacing;
    let open = matches!(
        exec,
        Some(Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. })
    );
    let at: Option<(usize, usize)> = r
        .wait
        .as_ref()
        .map(lc)
        .or(r.wait_constant_throughput.as_ref().map(lc));
    if let (true, Some(at)) = (open, at) {
        cx.err_at(
            at,
            "wait and wait_constant_throughput pace closed executors (VUs that loop); an arrival-rate executor's schedule already decides when iterations start",
        );
        return Pacing::None;
    }
    match (&r.wait, &r.wait_constant_throughput) {
        (Some(w), Some(_)) => {
            cx.err(w, "give either wait or wait_constant_throughput, not both");
            Pacing::None
        }
        (Some(w), None) => {
            let Some(w) = expand(cx, w, "wait") else {
                return Pacing::None;
            };
            match crate::duration::parse_duration_range(&w.value) {
                Ok((min, max)) => Pacing::Between { min, max },
                Err(e) => {
                    cx.err(&w, format!("wait: {e} (e.g. `2s` or `1s..3s`)"));
                    Pacing::None
                }
            }
        }
        (None, Some(t)) if t.value.is_finite() && t.value > 0.0 => {
            Pacing::ConstantThroughput { per_s: t.value }
        }
        (None, Some(t)) => {
            cx.err(
                t,
                "wait_constant_throughput must be a number of iterations a second above 0",
            );
            Pacing::None
        }
        (None, None) => Pacing::None,
    }
}

#[cfg(test)]
mod tests {
    use super::spawn_order;

    #[test]
    fn splits_by_weight_in_every_prefix() {
        let order = spawn_order(&[3.0, 1.0], 100);
        let a = order.iter().filter(|&&c| c == 0).count();
        assert_eq!(a, 75);
        // the first 4 users already follow the weights
        assert_eq!(order[..4].iter().filter(|&&c| c == 0).count(), 3);
        let order = spawn_order(&[1.0, 1.0, 1.0], 10);
        let counts: Vec<usize> = (0..3)
            .map(|k| order.iter().filter(|&&c| c == k).count())
            .collect();
        assert_eq!(counts, vec![4, 3, 3]);
    }
}
