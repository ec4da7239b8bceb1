//! Writing result files.
use std::path::Path;
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

/// Writes the requested files; returns one message per failure.
pub(crate) fn write_all(r: &Results, export: Option<&Path>, results: Option<&Path>) -> Vec<String> {
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
