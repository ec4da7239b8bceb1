//! Prometheus: the exposition text of a snapshot (for `--prometheus ADDR`'s `/metrics`), and
//! the series remote write sends. Series are labelled with scenario, name, method and
//! status; latency goes out as a Prometheus histogram built from the HDR histogram.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use throng_metrics::{Agg, MetricKind, Snapshot, TrendAgg, TREND_SCALE};

/// Histogram bucket bounds, seconds.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The tags that become labels (others would explode cardinality or repeat these).
const LABELS: [&str; 4] = ["scenario", "name", "method", "status"];

type Labels = Vec<(String, String)>;

/// One exported series.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSample {
    /// Metric name.
    pub name: String,
    /// Labels (sorted).
    pub labels: Labels,
    /// Value.
    pub value: f64,
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(l: &Labels) -> String {
    l.iter()
        .map(|(k, v)| format!("{k}=\"{}\"", esc(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Folds the snapshot's series onto the label set, per metric.
fn grouped(snap: &Snapshot) -> BTreeMap<(String, Labels), Agg> {
    let mut out: BTreeMap<(String, Labels), Agg> = BTreeMap::new();
    for (k, agg) in snap.series() {
        let Some(def) = snap.metrics().get(k.metric.0 as usize) else {
            continue;
        };
        let tags = snap.tags(k.tags);
        let labels: Labels = LABELS
            .iter()
            .filter_map(|l| {
                // a request name may be its URL: no password or secret query value in labels
                tags.get(l)
                    .map(|v| (l.to_string(), throng_metrics::redact::url(v).into_owned()))
            })
            .collect();
        out.entry((def.name.clone(), labels))
            .or_insert_with(|| Agg::new(def.kind))
            .merge(agg);
    }
    out
}

fn seconds_count_below(t: &TrendAgg, bound_s: f64) -> u64 {
    let hi = (bound_s * 1000.0 * TREND_SCALE) as u64;
    t.hist.count_between(0, hi)
}

/// The samples to export, named with `prefix` (`throng` or `k6`). Counters end in `_total`;
/// trends (ms) become `_seconds` histograms plus `_p95`/`_p99`/`_avg`/`_max` gauges (k6's
/// remote-write shape); rates become `_total` (non-zero samples) and `_samples_total`.
pub fn samples(snap: &Snapshot, prefix: &str, with_buckets: bool) -> Vec<PromSample> {
    let mut out = Vec::new();
    for ((metric, labels), agg) in grouped(snap) {
        let base = format!("{prefix}_{metric}");
        let push = |out: &mut Vec<PromSample>, name: String, labels: Labels, value: f64| {
            out.push(PromSample {
                name,
                labels,
                value,
            })
        };
        match (&agg, agg.kind()) {
            (Agg::Counter { sum }, MetricKind::Counter) => {
                push(&mut out, format!("{base}_total"), labels, *sum)
            }
            (Agg::Gauge { value, .. }, MetricKind::Gauge) => push(&mut out, base, labels, *value),
            (Agg::Rate { trues, total }, _) => {
                push(
                    &mut out,
                    format!("{base}_total"),
                    labels.clone(),
                    *trues as f64,
                );
                push(
                    &mut out,
                    format!("{base}_samples_total"),
                    labels,
                    *total as f64,
                );
            }
            (Agg::Trend(t), _) => {
                let secs = format!("{base}_seconds");
                if with_buckets {
                    for b in BUCKETS {
                        let mut l = labels.clone();
                        l.push(("le".into(), format!("{b}")));
                        push(
                            &mut out,
                            format!("{secs}_bucket"),
                            l,
                            seconds_count_below(t, b) as f64,
                        );
                    }
                    let mut l = labels.clone();
                    l.push(("le".into(), "+Inf".into()));
                    push(&mut out, format!("{secs}_bucket"), l, t.count as f64);
                }
                push(
                    &mut out,
                    format!("{secs}_sum"),
                    labels.clone(),
                    t.sum / 1000.0,
                );
                push(
                    &mut out,
                    format!("{secs}_count"),
                    labels.clone(),
                    t.count as f64,
                );
                for (suffix, v) in [
                    ("p95", t.percentile(95.0)),
                    ("p99", t.percentile(99.0)),
                    ("avg", t.avg()),
                    ("max", t.max_or_zero()),
                ] {
                    push(
                        &mut out,
                        format!("{base}_{suffix}"),
                        labels.clone(),
                        v / 1000.0,
                    );
                }
            }
            _ => {}
        }
    }
    // monitors of the system under test: their latest value, one gauge family
    for (name, st) in snap.sampled_all() {
        if let Some((monitor, series)) = name
            .strip_prefix("monitor:")
            .and_then(|r| r.split_once('.'))
        {
            out.push(PromSample {
                name: format!("{prefix}_monitor"),
                labels: vec![
                    ("monitor".to_string(), monitor.to_string()),
                    ("series".to_string(), series.to_string()),
                ],
                value: st.last.1,
            });
        }
    }
    out
}

/// Prometheus text exposition (format 0.0.4) of a snapshot.
pub fn exposition(snap: &Snapshot) -> String {
    let mut o = String::new();
    let mut last_family = String::new();
    for s in samples(snap, "throng", true) {
        let family = s
            .name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count")
            .to_string();
        if family != last_family && !s.name.ends_with("_sum") && !s.name.ends_with("_count") {
            let kind = if s.name.ends_with("_bucket") {
                "histogram"
            } else if s.name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let shown = if kind == "counter" {
                s.name.trim_end_matches("_total")
            } else {
                &family
            };
            let _ = writeln!(o, "# TYPE {shown} {kind}");
            last_family = family;
        }
        if s.labels.is_empty() {
            let _ = writeln!(o, "{} {}", s.name, s.value);
        } else {
            let _ = writeln!(o, "{}{{{}}} {}", s.name, label_text(&s.labels), s.value);
        }
    }
    o
}

/// A `/metrics` endpoint serving the latest exposition.
pub struct PromEndpoint {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    addr: std::net::SocketAddr,
    stop: tokio_util::sync::CancellationToken,
}

impl PromEndpoint {
    /// Serves `/metrics` on `addr`. Give a loopback address unless other machines should
    /// scrape it: any other address logs a warning that it is reachable from them.
    pub async fn start(addr: std::net::SocketAddr) -> std::io::Result<PromEndpoint> {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        crate::warn_if_exposed("prometheus metrics", addr);
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let t2 = text.clone();
        let app = axum::Router::new().route(
            "/metrics",
            get(move || {
                let t = t2.clone();
                async move {
                    let body = t.lock().map(|s| s.clone()).unwrap_or_default();
                    (
                        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                        body,
                    )
                }
            }),
        );
        let stop = tokio_util::sync::CancellationToken::new();
        let s2 = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { s2.cancelled().await })
                .await;
        });
        Ok(PromEndpoint { text, addr, stop })
    }

    /// The bound address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The warning to show when it is reachable from other machines (not bound to loopback).
    pub fn exposure_warning(&self) -> Option<String> {
        crate::exposure_warning("prometheus metrics", self.addr)
    }

    /// Replaces what `/metrics` serves.
    pub fn update(&self, snap: &Snapshot) {
        let t = exposition(snap);
        if let Ok(mut s) = self.text.lock() {
            *s = t;
        }
    }
}

impl Drop for PromEndpoint {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_series_are_one_gauge_family() {
        let reg = throng_metrics::Registry::new();
        reg.record_sampled("monitor:api.cpu", 1.0, 42.5);
        reg.record_sampled("monitor:api.rss", 1.0, 1024.0);
        let text = exposition(&reg.collect());
        assert!(text.contains("# TYPE throng_monitor gauge\n"), "{text}");
        assert!(
            text.contains("throng_monitor{monitor=\"api\",series=\"cpu\"} 42.5"),
            "{text}"
        );
        assert_eq!(text.matches("# TYPE throng_monitor ").count(), 1, "{text}");
    }
    use throng_metrics::{Registry, TagSet};

    #[test]
    fn exposition_has_counters_and_a_histogram() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::new([
            ("scenario", "s"),
            ("status", "200"),
            ("url", "x"),
        ]));
        for v in [3.0, 30.0, 300.0] {
            reg.add(b.http_reqs, t, 1.0);
            reg.add(b.http_req_duration, t, v);
        }
        let text = exposition(&reg.collect());
        assert!(text.contains("# TYPE throng_http_reqs counter"), "{text}");
        assert!(
            text.contains("throng_http_reqs_total{scenario=\"s\",status=\"200\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE throng_http_req_duration_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("throng_http_req_duration_seconds_bucket{scenario=\"s\",status=\"200\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("throng_http_req_duration_seconds_bucket{scenario=\"s\",status=\"200\",le=\"+Inf\"} 3"), "{text}");
        assert!(
            text.contains(
                "throng_http_req_duration_seconds_count{scenario=\"s\",status=\"200\"} 3"
            ),
            "{text}"
        );
        assert!(!text.contains("url="));
    }

    #[test]
    fn names_that_are_urls_lose_their_secrets() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::new([
            ("scenario", "s"),
            ("name", "http://u:pw-1234@h/x?api_key=k-5678&q=1"),
        ]));
        reg.add(b.http_reqs, t, 1.0);
        let text = exposition(&reg.collect());
        assert!(
            text.contains("name=\"http://u:***@h/x?api_key=***&q=1\""),
            "{text}"
        );
        assert!(
            !text.contains("pw-1234") && !text.contains("k-5678"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn warns_only_beyond_loopback() {
        let local = PromEndpoint::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("bind");
        assert_eq!(local.exposure_warning(), None);
        let any = PromEndpoint::start(([0, 0, 0, 0], 0).into())
            .await
            .expect("bind");
        let w = any.exposure_warning().unwrap_or_default();
        assert_eq!(
            w,
            format!(
                "prometheus metrics listening on 0.0.0.0:{} — reachable from other machines",
                any.addr().port()
            )
        );
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_delimited(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A remote-write 1.0 `WriteRequest` (protobuf, before snappy): one time series per sample,
/// with `__name__`, the sample's labels and `extra` labels, at `timestamp_ms`.
pub fn write_request(
    samples: &[PromSample],
    extra: &[(String, String)],
    timestamp_ms: i64,
) -> Vec<u8> {
    let mut req = Vec::new();
    for s in samples {
        let mut labels: Vec<(&str, &str)> = vec![("__name__", s.name.as_str())];
        labels.extend(s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        labels.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        labels.sort_by(|a, b| a.0.cmp(b.0));
        let mut ts = Vec::new();
        for (k, v) in labels {
            let mut l = Vec::new();
            len_delimited(&mut l, 1, k.as_bytes());
            len_delimited(&mut l, 2, v.as_bytes());
            len_delimited(&mut ts, 1, &l);
        }
        let mut sample = Vec::new();
        varint(&mut sample, (1 << 3) | 1);
        sample.extend_from_slice(&s.value.to_le_bytes());
        varint(&mut sample, 2 << 3);
        varint(&mut sample, timestamp_ms as u64);
        len_delimited(&mut ts, 2, &sample);
        len_delimited(&mut req, 1, &ts);
    }
    req
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn encodes_protobuf_by_the_book() {
        let s = PromSample {
            name: "m".into(),
            labels: vec![],
            value: 1.0,
        };
        let b = write_request(&[s], &[], 5);
        // WriteRequest.timeseries (1, len) → TimeSeries.labels (1, len) → Label{name, value}
        assert_eq!(&b[..2], &[0x0a, b.len() as u8 - 2]);
        assert_eq!(&b[2..4], &[0x0a, 13]);
        assert_eq!(&b[4..6], &[0x0a, 8]);
        assert_eq!(&b[6..14], b"__name__");
        assert_eq!(&b[14..17], &[0x12, 1, b'm']);
        // TimeSeries.samples (2, len) → Sample{value double (1,fixed64), timestamp (2,varint)}
        assert_eq!(&b[17..19], &[0x12, 11]);
        assert_eq!(b[19], 0x09);
        assert_eq!(&b[20..28], &1.0f64.to_le_bytes());
        assert_eq!(&b[28..30], &[0x10, 5]);
    }
}
