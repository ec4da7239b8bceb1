//! k6's `handleSummary(data)`: the files its answer names written (`stdout` printed,
//! `stderr` to standard error). The data is `--summary-json`'s document, whose trends show
//! the script's `summaryTrendStats` (the results hold them).
use serde_json::Value;
use std::io::Write;

/// Writes the answer of `handleSummary` (`{"stdout": "...", "file.json": "..."}`): returns
/// what goes to standard output. Non-string values are written as JSON.
pub(crate) fn write(answer: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(answer).map_err(|e| format!("its answer: {e}"))?;
    let Value::Object(files) = v else {
        return Err("it must return an object (file name → content)".into());
    };
    let mut stdout = String::new();
    let mut errors = Vec::new();
    for (k, v) in files {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match k.as_str() {
            "stdout" => stdout.push_str(&text),
            "stderr" => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
            path => {
                if let Err(e) = std::fs::write(path, text.as_bytes()) {
                    errors.push(format!("cannot write {path}: {e}"));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(stdout)
    } else {
        Err(errors.join("; "))
    }
}
