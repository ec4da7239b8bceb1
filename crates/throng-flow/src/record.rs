//! Recording a response as k6's HTTP metrics. The protocol client only times and
//! classifies; what becomes a sample, and under which name, is decided here.
use throng_http::HttpResponse;

use throng_metrics::{Recorder, TagSetId};

/// The ids of k6's HTTP metrics, resolved once.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    reqs: throng_metrics::MetricId,
    duration: throng_metrics::MetricId,
    corrected: throng_metrics::MetricId,
    blocked: throng_metrics::MetricId,
    connecting: throng_metrics::MetricId,
    tls: throng_metrics::MetricId,
    sending: throng_metrics::MetricId,
    waiting: throng_metrics::MetricId,
    receiving: throng_metrics::MetricId,
    failed: throng_metrics::MetricId,
    sent: throng_metrics::MetricId,
    received: throng_metrics::MetricId,
}

impl HttpMetrics {
    /// Resolves the metric ids of a registry.
    pub fn new(reg: &Recorder) -> HttpMetrics {
        let b = reg.builtin();
        HttpMetrics {
            reqs: b.http_reqs,
            duration: b.http_req_duration,
            corrected: b.http_req_duration_corrected,
            blocked: b.http_req_blocked,
            connecting: b.http_req_connecting,
            tls: b.http_req_tls_handshaking,
            sending: b.http_req_sending,
            waiting: b.http_req_waiting,
            receiving: b.http_req_receiving,
            failed: b.http_req_failed,
            sent: b.data_sent,
            received: b.data_received,
        }
    }

    /// Records one response under `tags` (which carry status, name, method, ...).
    /// `failed` is k6's `http_req_failed` verdict: the status is not in the request's
    /// expected statuses ([`throng_plan::StatusSet`], k6's 200–399 by default).
    /// `lateness_ms` is how late the iteration started against its schedule (open-model
    /// executors): it adds `http_req_duration_corrected` = duration + lateness, the latency
    /// timed from the intended start (corrected for coordinated omission).
    pub fn record(
        &self,
        reg: &Recorder,
        tags: TagSetId,
        r: &HttpResponse,
        failed: bool,
        lateness_ms: Option<f64>,
    ) {
        let t = &r.timings;
        let d = t.duration();
        let samples = [
            (self.reqs, 1.0),
            (self.duration, d),
            (self.blocked, t.blocked),
            (self.connecting, t.connecting),
            (self.tls, t.tls_handshaking),
            (self.sending, t.sending),
            (self.waiting, t.waiting),
            (self.receiving, t.receiving),
            (self.failed, if failed { 1.0 } else { 0.0 }),
            (self.sent, r.bytes_sent as f64),
            (self.received, r.bytes_received as f64),
            (self.corrected, d + lateness_ms.unwrap_or(0.0)),
        ];
        // the corrected figure only exists for open-model iterations
        let n = if lateness_ms.is_some() { 12 } else { 11 };
        reg.add_many(tags, &samples[..n]);
    }
}
