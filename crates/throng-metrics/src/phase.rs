//! A phase's progress while the run goes: what the live dashboard shows of each phase.
use serde::{Deserialize, Serialize};

/// A phase's figures so far, as the live dashboard shows them. Serialised as the array
/// `[scenario, phase, requests, p95_ms]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(
    from = "(String, String, u64, f64)",
    into = "(String, String, u64, f64)"
)]
pub struct PhaseProgress {
    /// Scenario.
    pub scenario: String,
    /// The phase's name (`ramp-up 0→50 VUs`, ...).
    pub phase: String,
    /// Requests finished in it so far.
    pub requests: u64,
    /// p95 of its requests so far, ms.
    pub p95_ms: f64,
}

impl From<(String, String, u64, f64)> for PhaseProgress {
    fn from((scenario, phase, requests, p95_ms): (String, String, u64, f64)) -> Self {
        PhaseProgress {
            scenario,
            phase,
            requests,
            p95_ms,
        }
    }
}

impl From<PhaseProgress> for (String, String, u64, f64) {
    fn from(p: PhaseProgress) -> Self {
        (p.scenario, p.phase, p.requests, p.p95_ms)
    }
}
