//! Recording a response as k6's HTTP metrics. The protocol client only times and
//! classifies; what becomes a sample, and under which name, is decided here.
use throng_http::HttpResponse;

use throng_metrics::{Bundle, Recorder, TagSetId};

/// k6's HTTP metrics as one [`Bundle`] (resolved once): every response records its
/// samples in this order, the corrected duration last (only open-model iterations have it).
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    bundle: Bundle,
}

impl HttpMetrics {
    /// Resolves the metric ids of a registry.
    pub fn new(reg: &Recorder) -> HttpMetrics {
        let b = reg.builtin();
        HttpMetrics {
            bundle: reg.bundle(&[
                b.http_reqs,
                b.http_req_duration,
                b.http_req_blocked,
                b.http_req_connecting,
                b.http_req_tls_handshaking,
                b.http_req_sending,
                b.http_req_waiting,
                b.http_req_receiving,
                b.http_req_failed,
                b.data_sent,
                b.data_received,
                b.http_req_duration_corrected,
            ]),
        }
    }

    /// Records one response under `tags` (which carry status, name, method, ...).
    /// `failed` is k6's `http_req_failed` verdict: the status is not in the request's
    /// expected statuses ([`throng_plan::StatusSet`], k6's 200–399 by default).
    /// `lateness_ms` is how late the iteration started against its schedule (open-model
    /// executors): it adds `http_req_duration_corrected` = duration + lateness, the latency
    /// timed from the intended start (corrected for coordinated omission).
    #[inline]
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
        let values = [
            1.0,
            d,
            t.blocked,
            t.connecting,
            t.tls_handshaking,
            t.sending,
            t.waiting,
            t.receiving,
            if failed { 1.0 } else { 0.0 },
            r.bytes_sent as f64,
            r.bytes_received as f64,
            d + lateness_ms.unwrap_or(0.0),
        ];
        // the corrected figure only exists for open-model iterations
        let n = if lateness_ms.is_some() { 12 } else { 11 };
        reg.add_bundle(&self.bundle, tags, &values[..n]);
    }
}
