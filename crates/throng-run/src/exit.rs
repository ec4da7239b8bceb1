//! k6's exit codes.

/// How the process should exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: everything passed.
    Ok,
    /// 99: a threshold failed.
    ThresholdsFailed,
    /// 104: the plan (or a flag) is invalid.
    InvalidPlan,
    /// 105: interrupted by Ctrl-C or SIGTERM.
    Interrupted,
    /// 107: a runtime error (e.g. a result file could not be written).
    RuntimeError,
    /// 108: the script stopped the run (k6's `test.abort()`).
    ScriptAborted,
}

impl ExitCode {
    /// The numeric code.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::ThresholdsFailed => 99,
            ExitCode::InvalidPlan => 104,
            ExitCode::Interrupted => 105,
            ExitCode::RuntimeError => 107,
            ExitCode::ScriptAborted => 108,
        }
    }
}
