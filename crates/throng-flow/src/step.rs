//! The seam a protocol plugs into. A protocol crate owns its client (connect, send, time,
//! classify failures) and records nothing; the flow drives its client and reads every
//! outcome through [`Outcome`], so tags, the failed/expected verdict and the failure
//! kinds work the same for every step kind. Recording under the protocol's metric names is
//! the flow's job (see `record.rs`). docs/architecture.md: "How to add a step kind".
use throng_http::HttpResponse;

/// Why a step failed, as its tags show it (`error_code`, `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Failure {
    /// k6-style numeric code.
    pub code: u16,
    /// A short name for reports.
    pub name: &'static str,
}

/// What any step kind's result tells the flow.
pub(crate) trait Outcome {
    /// The protocol's status (HTTP status; 0 when the step failed before one arrived, as in
    /// k6).
    fn status(&self) -> u16;
    /// Why the step failed, if it did.
    fn failure(&self) -> Option<Failure>;
    /// The protocol's version as k6's `proto` tag shows it (`HTTP/1.1`); empty when none.
    fn proto(&self) -> &'static str {
        ""
    }
}

impl Outcome for HttpResponse {
    fn status(&self) -> u16 {
        self.status
    }

    fn failure(&self) -> Option<Failure> {
        self.error.map(|e| Failure {
            code: e.code(),
            name: e.name(),
        })
    }

    fn proto(&self) -> &'static str {
        self.proto
    }
}
