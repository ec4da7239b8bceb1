//! k6's `--out csv=FILE` sample format: one row per sample with k6's columns (the system
//! tags each in a column of its own, any other tag in `extra_tags` as `k=v&k=v`), the time
//! in whole Unix seconds and the value with six decimals, as k6 writes them (`.gz` files
//! are gzipped).
use crate::ndjson::SampleWriter;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{BufWriter, Write};
use std::path::Path;
use throng_metrics::{RawSample, Snapshot};

/// k6's CSV columns, in k6's order.
pub const COLUMNS: [&str; 19] = [
    "metric_name",
    "timestamp",
    "metric_value",
    "check",
    "error",
    "error_code",
    "expected_response",
    "group",
    "method",
    "name",
    "proto",
    "scenario",
    "service",
    "status",
    "subproto",
    "tls_version",
    "url",
    "extra_tags",
    "metadata",
];

/// The tag columns (between `metric_value` and `extra_tags`).
const TAG_COLUMNS: std::ops::Range<usize> = 3..17;

/// Writes samples as k6's CSV rows.
pub struct CsvSampleWriter {
    out: csv::Writer<Box<dyn Write + Send>>,
}

impl CsvSampleWriter {
    /// Creates (truncates) the file and writes the header row; gzipped when the name ends
    /// in `.gz`. The error names the file.
    pub fn create(path: &Path) -> Result<CsvSampleWriter, crate::FileError> {
        let f = crate::file::create_file(path)?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        let inner: Box<dyn Write + Send> = if gz {
            Box::new(BufWriter::new(GzEncoder::new(f, Compression::fast())))
        } else {
            Box::new(BufWriter::new(f))
        };
        let mut out = csv::WriterBuilder::new().from_writer(inner);
        out.write_record(COLUMNS)
            .map_err(|e| crate::FileError::new(path, std::io::Error::other(e.to_string())))?;
        Ok(CsvSampleWriter { out })
    }
}

impl SampleWriter for CsvSampleWriter {
    fn write(&mut self, batch: &mut [RawSample], snap: &Snapshot) -> std::io::Result<()> {
        batch.sort_by_key(|s| s.time_ns);
        let mut row: Vec<String> = vec![String::new(); COLUMNS.len()];
        for s in batch.iter() {
            let Some(def) = snap.metrics().get(s.key.metric.0 as usize) else {
                continue;
            };
            for c in row.iter_mut() {
                c.clear();
            }
            row[0].push_str(&def.name);
            row[1] = (s.time_ns / 1_000_000_000).to_string();
            row[2] = format!("{:.6}", s.value);
            let mut extra: Vec<String> = Vec::new();
            for (k, v) in snap.tags(s.key.tags).pairs() {
                let v = match k.as_str() {
                    "url" | "name" => throng_metrics::redact::url(v).into_owned(),
                    _ => v.clone(),
                };
                match COLUMNS[TAG_COLUMNS].iter().position(|c| c == k) {
                    Some(i) => row[TAG_COLUMNS.start + i] = v,
                    None => extra.push(format!("{k}={v}")),
                }
            }
            row[17] = extra.join("&");
            self.out.write_record(&row).map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let mut inner = self
            .out
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        inner.flush()
    }
}
