//! What a timeline action did (`timeline:` in a plan): the row the reports, the dashboard
//! and the results file show for it.
use serde::{Deserialize, Serialize};

/// One action of the run's timeline, as it happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ActionRecord {
    /// Its name (the `action` tag of `action_duration`).
    pub name: String,
    /// `http`, `exec` or `wait_for`.
    pub kind: String,
    /// When the plan put it (`at: 2m` → 120), seconds from the start of the load; `None`
    /// for an action that follows another (`after:`).
    pub planned_s: Option<f64>,
    /// The action this one follows (`after: NAME`), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<String>,
    /// When it started, seconds from the start of the load; `None` if it never ran.
    pub started_s: Option<f64>,
    /// How long it took, ms (for `wait_for`: the time to detect, or until it gave up).
    pub took_ms: f64,
    /// It did what it should: the command exited 0, the request was answered as
    /// expected, the condition was seen in time.
    pub ok: bool,
    /// What happened, in a few words (`exit 0`, `status 200`, `seen after 4 tries`,
    /// `not seen within 30s`, `did not run: the load ended first`).
    pub outcome: String,
    /// The last lines of the command's output (secrets scrubbed), empty for requests.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
}

impl ActionRecord {
    /// When the plan put it, without the offset: `after NAME` for an action that follows
    /// another, `after the load` for teardown; `None` for an action at an offset.
    pub fn relative_to(&self) -> Option<String> {
        if self.planned_s.is_some() {
            return None;
        }
        Some(match (&self.follows, self.kind.as_str()) {
            (Some(n), _) => format!("after {n}"),
            (None, "teardown") => "after the load".to_string(),
            (None, _) => "after another action".to_string(),
        })
    }
}
