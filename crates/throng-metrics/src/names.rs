//! The names of k6's built-in metrics, in one place. Code that holds a registry or a
//! snapshot reads metrics by id ([`crate::Builtin`], from [`crate::Registry::builtin`] or
//! [`crate::Snapshot::builtin`]); these names are for what must go by name: a results
//! file read back, k6's output shapes, thresholds written in a plan.

/// `action_duration` (how long a timeline action took; for `wait_for`, the time to detect)
pub const ACTION_DURATION: &str = "action_duration";
/// `actions_failed` (timeline actions that failed)
pub const ACTIONS_FAILED: &str = "actions_failed";
/// `checks`
pub const CHECKS: &str = "checks";
/// `data_received`
pub const DATA_RECEIVED: &str = "data_received";
/// `data_sent`
pub const DATA_SENT: &str = "data_sent";
/// `dropped_iterations`
pub const DROPPED_ITERATIONS: &str = "dropped_iterations";
/// `group_duration`
pub const GROUP_DURATION: &str = "group_duration";
/// `http_req_blocked`
pub const HTTP_REQ_BLOCKED: &str = "http_req_blocked";
/// `http_req_connecting`
pub const HTTP_REQ_CONNECTING: &str = "http_req_connecting";
/// `http_req_duration`
pub const HTTP_REQ_DURATION: &str = "http_req_duration";
/// `http_req_duration_corrected` (throng's coordinated-omission-corrected latency)
pub const HTTP_REQ_DURATION_CORRECTED: &str = "http_req_duration_corrected";
/// `http_req_failed`
pub const HTTP_REQ_FAILED: &str = "http_req_failed";
/// `http_req_receiving`
pub const HTTP_REQ_RECEIVING: &str = "http_req_receiving";
/// `http_req_sending`
pub const HTTP_REQ_SENDING: &str = "http_req_sending";
/// `http_req_tls_handshaking`
pub const HTTP_REQ_TLS_HANDSHAKING: &str = "http_req_tls_handshaking";
/// `http_req_waiting`
pub const HTTP_REQ_WAITING: &str = "http_req_waiting";
/// `http_reqs`
pub const HTTP_REQS: &str = "http_reqs";
/// `iteration_duration`
pub const ITERATION_DURATION: &str = "iteration_duration";
/// `iterations`
pub const ITERATIONS: &str = "iterations";
/// `schedule_lag` (how late open-model arrivals were dispatched)
pub const SCHEDULE_LAG: &str = "schedule_lag";
/// `vus`
pub const VUS: &str = "vus";
/// `vus_max`
pub const VUS_MAX: &str = "vus_max";

/// The tag that marks samples of the run's lifecycle rather than its load
/// (`phase: preflight|setup|teardown|timeline`); thresholds leave them out unless they
/// filter on it.
pub const PHASE_TAG: &str = "phase";

/// The system tag that names a sample's scenario.
pub const SCENARIO_TAG: &str = "scenario";
