//! k6's `--out json` format: one JSON object per line — a `Metric` line the first time a
//! metric appears, then a `Point` line per sample (`.gz` files are gzipped). Samples arrive
//! in once-a-second batches, so buffering is bounded by one second of samples.
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};
use std::io::{BufWriter, Write};
use std::path::Path;
use throng_metrics::{RawSample, Snapshot};

/// A raw-sample output: batches of samples (about one a second) in, a file out.
pub trait SampleWriter: Send {
    /// Writes one batch. `snap` names the metrics and tag sets.
    fn write(&mut self, batch: &mut [RawSample], snap: &Snapshot) -> std::io::Result<()>;
    /// Flushes everything (and finishes a gzip stream).
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

/// Writes samples as NDJSON lines.
pub struct NdjsonWriter {
    out: Box<dyn Write + Send>,
    announced: Vec<bool>,
    /// Per metric: its thresholds' expressions and its sub-metrics (threshold keys with a
    /// tag filter), as k6 lists them on the metric's first line.
    described: std::collections::BTreeMap<String, (Vec<String>, Vec<Value>)>,
}

impl NdjsonWriter {
    /// Creates (truncates) the file; gzipped when the name ends in `.gz`.
    /// The error names the file (or folder) and carries the system's error.
    pub fn create(path: &Path) -> Result<NdjsonWriter, crate::FileError> {
        let f = crate::file::create_file(path)?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        let out: Box<dyn Write + Send> = if gz {
            Box::new(BufWriter::new(GzEncoder::new(f, Compression::fast())))
        } else {
            Box::new(BufWriter::new(f))
        };
        Ok(NdjsonWriter {
            out,
            announced: Vec::new(),
            described: Default::default(),
        })
    }

    /// Lists thresholds on the metrics' `Metric` lines, as k6 does: `(key, expression)`
    /// pairs (`http_req_duration{name:a}`, `p(95)<500`). A key with a tag filter is a
    /// sub-metric; `http_req_duration{expected_response:true}` always is one.
    pub fn with_thresholds<'a>(
        mut self,
        items: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let sub = |key: &str| -> Option<(String, Value)> {
            let (metric, filter) = throng_metrics::threshold::parse_key(key).ok()?;
            if filter.is_empty() {
                return None;
            }
            let suffix = filter
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",");
            let tags: Map<String, Value> = filter
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Some((
                metric,
                json!({ "name": key, "suffix": suffix, "tags": tags }),
            ))
        };
        let auto = "http_req_duration{expected_response:true}";
        for key in [auto] {
            if let Some((m, v)) = sub(key) {
                self.described.entry(m).or_default().1.push(v);
            }
        }
        for (key, expr) in items {
            match sub(key) {
                Some((m, v)) => {
                    let subs = &mut self.described.entry(m).or_default().1;
                    if !subs.contains(&v) {
                        subs.push(v);
                    }
                }
                None => self
                    .described
                    .entry(key.to_string())
                    .or_default()
                    .0
                    .push(expr.to_string()),
            }
        }
        self
    }
}

impl SampleWriter for NdjsonWriter {
    /// Writes one batch (sorted by time). `snap` names the metrics and tag sets.
    fn write(&mut self, batch: &mut [RawSample], snap: &Snapshot) -> std::io::Result<()> {
        batch.sort_by_key(|s| s.time_ns);
        for s in batch.iter() {
            let idx = s.key.metric.0 as usize;
            let Some(def) = snap.metrics().get(idx) else {
                continue;
            };
            if self.announced.len() <= idx {
                self.announced.resize(idx + 1, false);
            }
            if !self.announced[idx] {
                self.announced[idx] = true;
                let (thresholds, subs) = self
                    .described
                    .get(&def.name)
                    .map(|(t, s)| (t.clone(), s.clone()))
                    .unwrap_or_default();
                let line = json!({
                    "type": "Metric",
                    "data": {
                        "name": def.name,
                        "type": def.kind.as_str(),
                        "contains": def.contains.as_str(),
                        "thresholds": thresholds,
                        "submetrics": if subs.is_empty() { Value::Null } else { Value::Array(subs) },
                    },
                    "metric": def.name,
                });
                writeln!(self.out, "{line}")?;
            }
            let tags: Map<String, Value> = snap
                .tags(s.key.tags)
                .pairs()
                .iter()
                .map(|(k, v)| {
                    // a URL's password and secret query values never reach the stream
                    let v = match k.as_str() {
                        "url" | "name" => throng_metrics::redact::url(v).into_owned(),
                        _ => v.clone(),
                    };
                    (k.clone(), Value::String(v))
                })
                .collect();
            let time = jiff::Timestamp::from_nanosecond(s.time_ns as i128)
                .map(|t| t.to_string())
                .unwrap_or_default();
            let line = json!({
                "type": "Point",
                "data": { "time": time, "value": crate::k6json::num(s.value), "tags": tags },
                "metric": def.name,
            });
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// Flushes everything (and finishes the gzip stream).
    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.out.flush()
    }
}
