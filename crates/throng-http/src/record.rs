//! Recording a response as k6's HTTP metrics.
use crate::client::HttpResponse;
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
    /// `failed` is k6's `http_req_failed` verdict (by default: not a 2xx/3xx).
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
        reg.add(self.reqs, tags, 1.0);
        reg.add(self.duration, tags, t.duration());
        if let Some(l) = lateness_ms {
            reg.add(self.corrected, tags, t.duration() + l);
        }
        reg.add(self.blocked, tags, t.blocked);
        reg.add(self.connecting, tags, t.connecting);
        reg.add(self.tls, tags, t.tls_handshaking);
        reg.add(self.sending, tags, t.sending);
        reg.add(self.waiting, tags, t.waiting);
        reg.add(self.receiving, tags, t.receiving);
        reg.add(self.failed, tags, if failed { 1.0 } else { 0.0 });
        reg.add(self.sent, tags, r.bytes_sent as f64);
        reg.add(self.received, tags, r.bytes_received as f64);
    }
}
