//! k6's `--out json` format: one JSON object per line — a `Metric` line the first time a
//! metric appears, then a `Point` line per sample (`.gz` files are gzipped). Samples arrive
//! in once-a-second batches, so buffering is bounded by one second of samples.
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};
use std::io::{BufWriter, Write};
use std::path::Path;
use throng_metrics::{RawSample, Snapshot};

/// Writes samples as NDJSON lines.
pub struct NdjsonWriter {
    out: Box<dyn Write + Send>,
    announced: Vec<bool>,
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
        })
    }

    /// Writes one batch (sorted by time). `snap` names the metrics and tag sets.
    pub fn write(&mut self, batch: &mut [RawSample], snap: &Snapshot) -> std::io::Result<()> {
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
                let line = json!({
                    "type": "Metric",
                    "data": {
                        "name": def.name,
                        "type": def.kind.as_str(),
                        "contains": def.contains.as_str(),
                        "thresholds": [],
                        "submetrics": null,
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
                "data": { "time": time, "value": s.value, "tags": tags },
                "metric": def.name,
            });
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// Flushes everything (and finishes the gzip stream).
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
