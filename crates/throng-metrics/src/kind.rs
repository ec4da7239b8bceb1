//! Metric kinds and value types, as k6 names them.
use serde::{Deserialize, Serialize};

/// The four k6 metric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A running sum (`http_reqs`, `data_sent`).
    Counter,
    /// The latest value, with min and max (`vus`).
    Gauge,
    /// The share of non-zero samples (`http_req_failed`, `checks`).
    Rate,
    /// A distribution (`http_req_duration`).
    Trend,
}

impl MetricKind {
    /// The lowercase name k6 uses in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Rate => "rate",
            MetricKind::Trend => "trend",
        }
    }
}

/// What a metric's values measure (k6's `contains`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Plain numbers.
    Default,
    /// Milliseconds.
    Time,
    /// Bytes.
    Data,
}

impl ValueType {
    /// The lowercase name k6 uses in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Default => "default",
            ValueType::Time => "time",
            ValueType::Data => "data",
        }
    }
}
