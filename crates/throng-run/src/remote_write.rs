//! Prometheus remote write 1.0: every 5 s (and at the end) the snapshot's series go out as a
//! snappy-compressed protobuf `WriteRequest`, with `run_id` and `instance_id` labels.
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_http::{ClientOptions, HttpClient, HttpRequest, SharedConfig};
use throng_live::prometheus::{samples, write_request};
use throng_metrics::Snapshot;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Pushes to one remote-write URL.
pub(crate) struct RemoteWrite {
    url: String,
    prefix: String,
    labels: Vec<(String, String)>,
    client: HttpClient,
    last: Option<Instant>,
    pub failures: Vec<String>,
}

impl RemoteWrite {
    pub fn new(url: &str, k6_names: bool, run_id: &str, instance_id: &str) -> Option<RemoteWrite> {
        let cfg: Arc<SharedConfig> = SharedConfig::new(ClientOptions {
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        })
        .ok()?;
        Some(RemoteWrite {
            url: url.to_string(),
            prefix: if k6_names { "k6" } else { "throng" }.to_string(),
            labels: vec![
                ("instance_id".into(), instance_id.into()),
                ("run_id".into(), run_id.into()),
            ],
            client: HttpClient::new(cfg),
            last: None,
            failures: Vec::new(),
        })
    }

    /// Pushes if 5 s passed since the last push (or `force`).
    pub async fn maybe_push(&mut self, snap: &Snapshot, force: bool) {
        if !force
            && self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_secs(5))
        {
            return;
        }
        self.last = Some(Instant::now());
        let series = samples(snap, &self.prefix, false);
        let ts = jiff::Timestamp::now().as_millisecond();
        let body = write_request(&series, &self.labels, ts);
        let compressed = match snap::raw::Encoder::new().compress_vec(&body) {
            Ok(c) => c,
            Err(e) => {
                self.failures.push(format!("snappy: {e}"));
                return;
            }
        };
        let req = HttpRequest {
            method: http::Method::POST,
            url: self.url.clone(),
            headers: vec![
                ("Content-Encoding".into(), "snappy".into()),
                ("Content-Type".into(), "application/x-protobuf".into()),
                ("X-Prometheus-Remote-Write-Version".into(), "0.1.0".into()),
            ],
            body: Bytes::from(compressed),
            timeout: None,
            keep_body: true,
            keep_headers: false,
            max_redirects: None,
        };
        let resp = self.client.execute(&req, |_| {}).await;
        if !(200..300).contains(&resp.status) {
            let why = match resp.error {
                Some(e) => e.to_string(),
                None => format!(
                    "status {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body).trim()
                ),
            };
            tracing::warn!("remote write to {} failed: {why}", self.url);
            self.failures.push(why);
        }
    }
}

/// Pushes from a task of its own, so a slow receiver never delays the run loop (threshold
/// checks, dashboard frames, Ctrl-C): the loop offers each second's snapshot and the task
/// pushes the newest one when its 5 s are up.
pub(crate) struct Pusher {
    tx: watch::Sender<Option<Snapshot>>,
    task: JoinHandle<RemoteWrite>,
}

impl Pusher {
    pub fn start(mut rw: RemoteWrite) -> Pusher {
        let (tx, mut rx) = watch::channel::<Option<Snapshot>>(None);
        let task = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let snap = rx.borrow_and_update().clone();
                if let Some(s) = snap {
                    rw.maybe_push(&s, false).await;
                }
            }
            rw
        });
        Pusher { tx, task }
    }

    /// Offers the newest snapshot; never waits.
    pub fn offer(&self, snap: &Snapshot) {
        let _ = self.tx.send(Some(snap.clone()));
    }

    /// Waits for a push under way, then pushes the final snapshot; returns the failures.
    pub async fn finish(self, snap: &Snapshot) -> Vec<String> {
        drop(self.tx);
        match self.task.await {
            Ok(mut rw) => {
                rw.maybe_push(snap, true).await;
                rw.failures
            }
            Err(e) => vec![format!("the remote-write task stopped: {e}")],
        }
    }
}
