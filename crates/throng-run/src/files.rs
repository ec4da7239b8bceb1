//! Writing result files.
use std::path::{Path, PathBuf};
use throng_report::{summary_export, Results};

fn write_json(path: &Path, v: &serde_json::Value, indent: &[u8]) -> Result<(), String> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).map_err(|e| e.to_string())?;
    buf.push(b'\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, buf).map_err(|e| format!("{}: {e}", path.display()))
}

/// The report files a run (or `throng report`) writes.
#[derive(Debug, Clone, Default)]
pub struct ReportFiles {
    /// k6's summary export JSON.
    pub summary_export: Option<PathBuf>,
    /// throng's results JSON.
    pub results: Option<PathBuf>,
    /// The HTML report.
    pub html: Option<PathBuf>,
    /// The Markdown results document.
    pub markdown: Option<PathBuf>,
    /// Locust CSV prefix.
    pub csv: Option<PathBuf>,
    /// JUnit XML.
    pub junit: Option<PathBuf>,
    /// k6's NDJSON sample stream (`--out json=FILE`, `.gz` to compress).
    pub ndjson: Option<PathBuf>,
    /// Prometheus remote-write URL (`--out prometheus-rw=URL`).
    pub remote_write: Option<String>,
    /// Name metrics as k6 does (`k6_http_reqs_total`) in remote write.
    pub k6_names: bool,
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes every requested file; returns one message per failure.
pub fn write_reports(r: &Results, f: &ReportFiles) -> Vec<String> {
    let mut errs = write_all(r, f.summary_export.as_deref(), f.results.as_deref());
    if let Some(p) = &f.html {
        if let Err(e) = write_text(p, &throng_report::html(r)) {
            errs.push(format!("cannot write the HTML report: {e}"));
        }
    }
    if let Some(p) = &f.markdown {
        if let Err(e) = write_text(p, &throng_report::markdown(r)) {
            errs.push(format!("cannot write the Markdown report: {e}"));
        }
    }
    if let Some(p) = &f.junit {
        if let Err(e) = write_text(p, &throng_report::junit_xml(r)) {
            errs.push(format!("cannot write the JUnit report: {e}"));
        }
    }
    if let Some(p) = &f.csv {
        if let Err(e) = throng_report::write_locust_csv(r, p) {
            errs.push(format!("cannot write the CSV files: {e}"));
        }
    }
    errs
}

/// Writes the JSON files; returns one message per failure.
fn write_all(r: &Results, export: Option<&Path>, results: Option<&Path>) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(p) = export {
        if let Err(e) = write_json(p, &summary_export(r), b"    ") {
            errs.push(format!("cannot write the summary export: {e}"));
        }
    }
    if let Some(p) = results {
        match serde_json::to_value(r) {
            Ok(v) => {
                if let Err(e) = write_json(p, &v, b"  ") {
                    errs.push(format!("cannot write the results: {e}"));
                }
            }
            Err(e) => errs.push(format!("cannot encode the results: {e}")),
        }
    }
    errs
}
