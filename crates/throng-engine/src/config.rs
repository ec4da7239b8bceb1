//! What an executor is: k6's six executors with their options, and everything derived from
//! them — the options each accepts, how many iterations it runs, its phases and its one-line
//! description. This is the one definition site; plans map YAML onto these types, and the
//! progress display, reports and results ask them rather than re-deriving.
use std::fmt;
use std::time::Duration;

/// One stage of a ramping executor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// VUs (ramping-vus) or iterations per time unit (ramping-arrival-rate) at its end.
    pub target: f64,
}

/// What an arrival-rate executor does when an arrival finds no idle VU and `maxVUs` are busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenBusy {
    /// Don't start it; count it in `dropped_iterations` (k6's behaviour).
    #[default]
    Drop,
    /// Queue it: the next free VU starts it late, and its latency is timed from the
    /// intended start (as wrk2 does).
    Queue,
}

/// What a VU of a closed executor waits between iterations (Locust's `wait_time`). Arrival-rate
/// executors ignore it: their schedule decides when iterations start.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Pacing {
    /// No wait (k6's behaviour).
    #[default]
    None,
    /// A uniformly random wait in `min..=max` after each iteration (Locust's `between`;
    /// `min == max` is Locust's `constant`).
    Between {
        /// Shortest wait.
        min: Duration,
        /// Longest wait.
        max: Duration,
    },
    /// At most `per_s` iterations a second per VU: after an iteration the VU waits for what
    /// is left of `1/per_s` since the previous iteration started (Locust's
    /// `constant_throughput`); a slower iteration is followed at once by the next.
    ConstantThroughput {
        /// Iterations per second per VU.
        per_s: f64,
    },
}

impl Pacing {
    /// How long to wait after an iteration that started at `started` (`now` is the end).
    pub fn wait_after(&self, started: std::time::Instant, now: std::time::Instant) -> Duration {
        match *self {
            Pacing::None => Duration::ZERO,
            Pacing::Between { min, max } => {
                if max <= min {
                    min
                } else {
                    let span = (max - min).as_secs_f64();
                    min + Duration::from_secs_f64(span * fastrand::f64())
                }
            }
            Pacing::ConstantThroughput { per_s } => {
                let interval = Duration::from_secs_f64(1.0 / per_s.max(1e-9));
                interval.saturating_sub(now.saturating_duration_since(started))
            }
        }
    }
}

/// A k6 executor with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum Executor {
    /// A fixed total of iterations shared by the VUs.
    SharedIterations {
        /// VUs.
        vus: u64,
        /// Total iterations.
        iterations: u64,
        /// Hard stop.
        max_duration: Duration,
    },
    /// Each VU runs a fixed number of iterations.
    PerVuIterations {
        /// VUs.
        vus: u64,
        /// Iterations per VU.
        iterations: u64,
        /// Hard stop.
        max_duration: Duration,
    },
    /// A fixed number of VUs loop for a duration.
    ConstantVus {
        /// VUs.
        vus: u64,
        /// How long.
        duration: Duration,
    },
    /// `vus` looping VUs whose count changes while the run goes, through the run's
    /// [`crate::EngineControl`] (`throng scale`, the control API, the dashboard), up to
    /// `max_vus`.
    ExternallyControlled {
        /// VUs at the start.
        vus: u64,
        /// Most VUs (may be raised while the run goes).
        max_vus: u64,
        /// How long (running time; zero: until the run is stopped).
        duration: Duration,
    },
    /// The VU count follows stages.
    RampingVus {
        /// VUs at the start.
        start_vus: u64,
        /// Stages.
        stages: Vec<Stage>,
        /// Time surplus VUs get to finish their iteration when the target drops.
        graceful_ramp_down: Duration,
    },
    /// A fixed number of iteration starts per time unit.
    ConstantArrivalRate {
        /// Iterations per `time_unit`.
        rate: f64,
        /// The rate's time unit.
        time_unit: Duration,
        /// How long.
        duration: Duration,
        /// VUs created up front.
        pre_allocated_vus: u64,
        /// Most VUs ever.
        max_vus: u64,
        /// Drop or queue arrivals that find every VU busy.
        when_busy: WhenBusy,
    },
    /// The arrival rate follows stages.
    RampingArrivalRate {
        /// Rate at the start.
        start_rate: f64,
        /// The rate's time unit.
        time_unit: Duration,
        /// Stages (targets are rates).
        stages: Vec<Stage>,
        /// VUs created up front.
        pre_allocated_vus: u64,
        /// Most VUs ever.
        max_vus: u64,
        /// Drop or queue arrivals that find every VU busy.
        when_busy: WhenBusy,
    },
}

/// The k6 names of the executors, in k6's documentation order.
pub const EXECUTOR_NAMES: [&str; 7] = [
    "shared-iterations",
    "per-vu-iterations",
    "constant-vus",
    "ramping-vus",
    "constant-arrival-rate",
    "ramping-arrival-rate",
    "externally-controlled",
];

/// Options every executor accepts besides its own.
pub const COMMON_OPTIONS: [&str; 4] = ["startTime", "gracefulStop", "tags", "flow"];

/// The options an executor (by k6 name) accepts besides [`COMMON_OPTIONS`] — k6 rejects the
/// others — or `None` for an unknown executor.
pub fn executor_options(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "shared-iterations" | "per-vu-iterations" => &["vus", "iterations", "maxDuration"],
        "constant-vus" => &["vus", "duration"],
        "externally-controlled" => &["vus", "maxVUs", "duration"],
        "ramping-vus" => &["stages", "startVUs", "gracefulRampDown"],
        "constant-arrival-rate" => &[
            "rate",
            "timeUnit",
            "duration",
            "preAllocatedVUs",
            "maxVUs",
            "when_busy",
        ],
        "ramping-arrival-rate" => &[
            "stages",
            "startRate",
            "timeUnit",
            "preAllocatedVUs",
            "maxVUs",
            "when_busy",
        ],
        _ => return None,
    })
}

/// A time window of a scenario with one load shape: each stage of a ramp, or the whole of a
/// constant executor. Times are from the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `ramp-up 0→50 VUs`, `steady 50 VUs`, `100 it/s`, ...
    pub name: String,
    /// Start, seconds from the start of the run.
    pub start_s: f64,
    /// End, seconds from the start of the run.
    pub end_s: f64,
    /// Load at the start.
    pub from: f64,
    /// Load at the end.
    pub to: f64,
    /// `VUs` or `it/s`.
    pub unit: &'static str,
}

impl Executor {
    /// Whether this is an open-model (arrival-rate) executor, whose VUs are busy only
    /// while an iteration runs.
    pub fn is_arrival_rate(&self) -> bool {
        matches!(
            self,
            Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. }
        )
    }

    /// The k6 name of the executor.
    pub fn name(&self) -> &'static str {
        match self {
            Executor::SharedIterations { .. } => "shared-iterations",
            Executor::PerVuIterations { .. } => "per-vu-iterations",
            Executor::ConstantVus { .. } => "constant-vus",
            Executor::ExternallyControlled { .. } => "externally-controlled",
            Executor::RampingVus { .. } => "ramping-vus",
            Executor::ConstantArrivalRate { .. } => "constant-arrival-rate",
            Executor::RampingArrivalRate { .. } => "ramping-arrival-rate",
        }
    }

    /// The VUs the executor initialises before it starts (k6's `vus_max` at the start): an
    /// arrival-rate executor's `preAllocatedVUs` (it adds more up to `maxVUs` only when
    /// needed), every other executor's [`Executor::max_vus`].
    pub fn initial_vus(&self) -> u64 {
        match self {
            Executor::ConstantArrivalRate {
                pre_allocated_vus, ..
            }
            | Executor::RampingArrivalRate {
                pre_allocated_vus, ..
            } => *pre_allocated_vus,
            other => other.max_vus(),
        }
    }

    /// The most VUs the executor may use.
    pub fn max_vus(&self) -> u64 {
        match self {
            Executor::SharedIterations { vus, .. }
            | Executor::PerVuIterations { vus, .. }
            | Executor::ConstantVus { vus, .. } => *vus,
            Executor::RampingVus {
                start_vus, stages, ..
            } => stages
                .iter()
                .map(|s| s.target.ceil() as u64)
                .max()
                .unwrap_or(0)
                .max(*start_vus),
            Executor::ConstantArrivalRate { max_vus, .. }
            | Executor::RampingArrivalRate { max_vus, .. }
            | Executor::ExternallyControlled { max_vus, .. } => *max_vus,
        }
    }

    /// How long the executor runs before its graceful stop (for iteration-based ones,
    /// the `maxDuration`; zero for an `externally-controlled` one that runs until stopped).
    pub fn duration(&self) -> Duration {
        match self {
            Executor::SharedIterations { max_duration, .. }
            | Executor::PerVuIterations { max_duration, .. } => *max_duration,
            Executor::ConstantVus { duration, .. }
            | Executor::ConstantArrivalRate { duration, .. }
            | Executor::ExternallyControlled { duration, .. } => *duration,
            Executor::RampingVus { stages, .. } | Executor::RampingArrivalRate { stages, .. } => {
                stages.iter().map(|s| s.duration).sum()
            }
        }
    }

    /// The iterations an iteration-based executor runs in all; `None` for the executors
    /// whose count depends on time.
    pub fn total_iterations(&self) -> Option<u64> {
        match self {
            Executor::SharedIterations { iterations, .. } => Some(*iterations),
            Executor::PerVuIterations {
                vus, iterations, ..
            } => Some(vus.saturating_mul(*iterations)),
            _ => None,
        }
    }

    /// The phases of a scenario that starts `start` into the run: one per stage of a ramp
    /// (ramp-up, steady, ramp-down), and one for the others (a constant rate, or the VU
    /// count held for the duration).
    pub fn phases(&self, start: Duration) -> Vec<Phase> {
        let start = start.as_secs_f64();
        match self {
            Executor::RampingVus {
                start_vus, stages, ..
            } => staged(start, stages, *start_vus as f64, 1.0, "VUs"),
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => {
                let per_s = 1.0 / time_unit.as_secs_f64();
                staged(start, stages, start_rate * per_s, per_s, "it/s")
            }
            Executor::ConstantArrivalRate {
                rate, time_unit, ..
            } => {
                let r = rate / time_unit.as_secs_f64();
                vec![Phase {
                    name: format!("{r} it/s"),
                    start_s: start,
                    end_s: start + self.duration().as_secs_f64(),
                    from: r,
                    to: r,
                    unit: "it/s",
                }]
            }
            Executor::ExternallyControlled { vus, .. } => {
                let v = *vus as f64;
                vec![Phase {
                    name: format!("externally-controlled {v} VUs"),
                    start_s: start,
                    end_s: start + self.duration().as_secs_f64(),
                    from: v,
                    to: v,
                    unit: "VUs",
                }]
            }
            // the others hold their VU count for their duration (iteration-based ones:
            // until their maxDuration at the latest)
            e => {
                let v = e.max_vus() as f64;
                vec![Phase {
                    name: format!("{} {v} VUs", e.name()),
                    start_s: start,
                    end_s: start + e.duration().as_secs_f64(),
                    from: v,
                    to: v,
                    unit: "VUs",
                }]
            }
        }
    }

    /// k6's one-line description of the executor (`10 looping VUs for 30s (gracefulStop:
    /// 30s)`), as printed before a run; `graceful_stop` is the scenario's.
    pub fn describe(&self, graceful_stop: Duration) -> Description<'_> {
        Description {
            executor: self,
            graceful_stop,
        }
    }
}

/// One phase per stage, with targets scaled by `scale` (per time unit → per second).
fn staged(start: f64, stages: &[Stage], from0: f64, scale: f64, unit: &'static str) -> Vec<Phase> {
    let mut out = Vec::with_capacity(stages.len());
    let mut t = start;
    let mut from = from0;
    for st in stages {
        let end = t + st.duration.as_secs_f64();
        let to = st.target * scale;
        let name = if to > from {
            format!("ramp-up {from}→{to} {unit}")
        } else if to < from {
            format!("ramp-down {from}→{to} {unit}")
        } else {
            format!("steady {to} {unit}")
        };
        out.push(Phase {
            name,
            start_s: t,
            end_s: end,
            from,
            to,
            unit,
        });
        t = end;
        from = to;
    }
    out
}

/// An executor's one-line description; see [`Executor::describe`].
#[derive(Debug, Clone, Copy)]
pub struct Description<'a> {
    executor: &'a Executor,
    graceful_stop: Duration,
}

impl fmt::Display for Description<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.executor;
        let gs = format_duration(self.graceful_stop);
        let busy = |w: &WhenBusy| match w {
            WhenBusy::Drop => "",
            WhenBusy::Queue => ", when busy: queue",
        };
        match e {
            Executor::SharedIterations {
                vus,
                iterations,
                max_duration,
            } => write!(
                f,
                "{iterations} iterations shared among {vus} VUs (maxDuration: {}, gracefulStop: {gs})",
                format_duration(*max_duration)
            ),
            Executor::PerVuIterations {
                vus,
                iterations,
                max_duration,
            } => write!(
                f,
                "{iterations} iterations for each of {vus} VUs (maxDuration: {}, gracefulStop: {gs})",
                format_duration(*max_duration)
            ),
            Executor::ConstantVus { vus, duration } => write!(
                f,
                "{vus} looping VUs for {} (gracefulStop: {gs})",
                format_duration(*duration)
            ),
            Executor::ExternallyControlled {
                vus,
                max_vus,
                duration,
            } => {
                let time = if duration.is_zero() {
                    "until stopped".to_string()
                } else {
                    format!("for {}", format_duration(*duration))
                };
                write!(
                    f,
                    "Up to {vus}/{max_vus} looping VUs {time}, controlled externally (gracefulStop: {gs})"
                )
            }
            Executor::RampingVus {
                stages,
                graceful_ramp_down,
                ..
            } => write!(
                f,
                "Up to {} looping VUs for {} over {} stages (gracefulRampDown: {}, gracefulStop: {gs})",
                e.max_vus(),
                format_duration(e.duration()),
                stages.len(),
                format_duration(*graceful_ramp_down)
            ),
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus,
                max_vus,
                when_busy,
            } => write!(
                f,
                "{:.2} iterations/s for {} (maxVUs: {pre_allocated_vus}-{max_vus}{}, gracefulStop: {gs})",
                rate / time_unit.as_secs_f64(),
                format_duration(*duration),
                busy(when_busy)
            ),
            Executor::RampingArrivalRate {
                time_unit,
                stages,
                pre_allocated_vus,
                max_vus,
                start_rate,
                when_busy,
            } => {
                let peak = stages.iter().map(|s| s.target).fold(*start_rate, f64::max);
                write!(
                    f,
                    "Up to {:.2} iterations/s for {} over {} stages (maxVUs: {pre_allocated_vus}-{max_vus}{}, gracefulStop: {gs})",
                    peak / time_unit.as_secs_f64(),
                    format_duration(e.duration()),
                    stages.len(),
                    busy(when_busy)
                )
            }
        }
    }
}

pub use throng_metrics::duration::format_duration;

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn every_named_executor_has_options_and_back() {
        for n in EXECUTOR_NAMES {
            assert!(executor_options(n).is_some(), "{n}");
        }
        assert_eq!(executor_options("constant-vu"), None);
    }

    #[test]
    fn totals_phases_and_descriptions() {
        let per = Executor::PerVuIterations {
            vus: 3,
            iterations: 4,
            max_duration: secs(600),
        };
        assert_eq!(per.total_iterations(), Some(12));
        let p = per.phases(Duration::ZERO);
        assert_eq!(
            (p[0].name.as_str(), p[0].end_s),
            ("per-vu-iterations 3 VUs", 600.0)
        );
        assert_eq!(
            per.describe(secs(30)).to_string(),
            "4 iterations for each of 3 VUs (maxDuration: 10m, gracefulStop: 30s)"
        );
        let ramp = Executor::RampingVus {
            start_vus: 0,
            stages: vec![
                Stage {
                    duration: secs(10),
                    target: 50.0,
                },
                Stage {
                    duration: secs(20),
                    target: 50.0,
                },
                Stage {
                    duration: secs(5),
                    target: 0.0,
                },
            ],
            graceful_ramp_down: secs(30),
        };
        assert_eq!(ramp.total_iterations(), None);
        let p = ramp.phases(secs(2));
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["ramp-up 0→50 VUs", "steady 50 VUs", "ramp-down 50→0 VUs"]
        );
        assert_eq!((p[0].start_s, p[2].end_s), (2.0, 37.0));
        let rate = Executor::RampingArrivalRate {
            start_rate: 60.0,
            time_unit: secs(60),
            stages: vec![Stage {
                duration: secs(10),
                target: 120.0,
            }],
            pre_allocated_vus: 5,
            max_vus: 10,
            when_busy: WhenBusy::Queue,
        };
        let p = rate.phases(Duration::ZERO);
        assert_eq!((p[0].from, p[0].to, p[0].unit), (1.0, 2.0, "it/s"));
        assert_eq!(
            rate.describe(secs(30)).to_string(),
            "Up to 2.00 iterations/s for 10s over 1 stages (maxVUs: 5-10, when busy: queue, gracefulStop: 30s)"
        );
    }
}
