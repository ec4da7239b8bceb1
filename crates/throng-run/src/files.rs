//! Writing result files.
use std::path::{Path, PathBuf};
use throng_report::{summary_export, write_file, Results};

fn write_json(path: &Path, v: &serde_json::Value, indent: &[u8]) -> Result<(), String> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).map_err(|e| e.to_string())?;
    buf.push(b'\n');
    write_file(path, buf).map_err(|e| e.to_string())
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
    /// k6's CSV sample rows (`--out csv=FILE`, `.gz` to compress).
    pub csv_samples: Option<PathBuf>,
    /// k6's end-of-test summary data (`--summary-json`, the `handleSummary` shape).
    pub summary_json: Option<PathBuf>,
    /// Locust's `--csv-full-history`: per-name rows in `_stats_history.csv` too.
    pub csv_full_history: bool,
    /// Prometheus remote-write URL (`--out prometheus-rw=URL`).
    pub remote_write: Option<String>,
    /// Name metrics as k6 does (`k6_http_reqs_total`) in remote write.
    pub k6_names: bool,
}

impl ReportFiles {
    /// Where monitors save artefacts: the folder of the results JSON (or of the first
    /// report file written), else the current folder.
    pub fn artefact_dir(&self) -> PathBuf {
        [
            &self.results,
            &self.markdown,
            &self.html,
            &self.summary_export,
            &self.junit,
        ]
        .into_iter()
        .flatten()
        .next()
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// A file or `--out` flag that cannot be used; the text is the message for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutError {
    /// `--out json=` twice.
    #[error("--out json= is given twice ({} and {}): give one --out json=FILE", first.display(), second.display())]
    NdjsonTwice {
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// Another `--out` kind given twice.
    #[error("--out {out}= is given twice ({first} and {second}): give one")]
    Twice {
        /// The kind (`csv`).
        out: &'static str,
        /// The first target.
        first: String,
        /// The second target.
        second: String,
    },
    /// `--out prometheus-rw=` twice.
    #[error("--out prometheus-rw= is given twice ({first} and {second}): give one")]
    RemoteWriteTwice {
        /// The first URL.
        first: String,
        /// The second URL.
        second: String,
    },
    /// A remote-write URL that cannot be sent to (see [`check_url`]).
    #[error("{0}")]
    BadUrl(String),
    /// An `--out` that is neither `json=FILE` nor `prometheus-rw=URL`.
    #[error(
        "--out {0}: expected json=FILE, csv=FILE or prometheus-rw=http://host:port/api/v1/write"
    )]
    Unknown(String),
    /// `--metric-compat` other than `k6` or `throng`.
    #[error("--metric-compat {0}: expected k6 or throng")]
    MetricCompat(String),
    /// Two outputs would write the same file.
    #[error("{first} and {second} both write {}: give each output its own file", path.display())]
    SameFile {
        /// The flag given first.
        first: &'static str,
        /// The flag given second.
        second: &'static str,
        /// The file both would write.
        path: PathBuf,
    },
}

/// Rejects a URL with whitespace or a control character (they are never valid in a URL and
/// would be sent as is), or one with no host; `what` names it in the message.
pub fn check_url(what: &str, url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{what} `{}` contains a space or a control character: percent-encode it (a space is %20)",
            url.escape_default()
        ));
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{what} `{url}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with(['/', '?', '#', ':']) {
        return Err(format!("{what} `{url}` has no host"));
    }
    Ok(())
}

impl ReportFiles {
    /// Adds one `--out`: `json=FILE` (k6's NDJSON lines) or `prometheus-rw=URL`; each at
    /// most once.
    pub fn add_out(&mut self, out: &str) -> Result<(), OutError> {
        match out.split_once('=') {
            Some(("json", path)) if !path.is_empty() => {
                if let Some(first) = &self.ndjson {
                    return Err(OutError::NdjsonTwice {
                        first: first.clone(),
                        second: PathBuf::from(path),
                    });
                }
                self.ndjson = Some(PathBuf::from(path));
            }
            Some(("csv", path)) if !path.is_empty() => {
                if let Some(first) = &self.csv_samples {
                    return Err(OutError::Twice {
                        out: "csv",
                        first: first.display().to_string(),
                        second: path.to_string(),
                    });
                }
                self.csv_samples = Some(PathBuf::from(path));
            }
            Some(("prometheus-rw", url)) if throng_metrics::has_http_scheme(url) => {
                if let Some(first) = &self.remote_write {
                    return Err(OutError::RemoteWriteTwice {
                        first: first.clone(),
                        second: url.to_string(),
                    });
                }
                check_url("--out prometheus-rw", url).map_err(OutError::BadUrl)?;
                self.remote_write = Some(url.to_string());
            }
            _ => return Err(OutError::Unknown(out.to_string())),
        }
        Ok(())
    }

    /// `--metric-compat`: `k6` names remote-write series as k6 does, `throng` (or nothing)
    /// as throng does.
    pub fn set_metric_compat(&mut self, compat: &str) -> Result<(), OutError> {
        self.k6_names = match compat {
            "k6" => true,
            "throng" | "" => false,
            other => return Err(OutError::MetricCompat(other.to_string())),
        };
        Ok(())
    }

    /// Every file these outputs write, with the flag that asks for it (a CSV prefix gives
    /// its four files).
    pub fn paths(&self) -> Vec<(&'static str, PathBuf)> {
        let mut v: Vec<(&'static str, PathBuf)> = [
            ("--summary-export", &self.summary_export),
            ("--summary-json", &self.summary_json),
            ("--out csv=", &self.csv_samples),
            ("--results", &self.results),
            ("--html", &self.html),
            ("--md", &self.markdown),
            ("--junit", &self.junit),
            ("--out json=", &self.ndjson),
        ]
        .into_iter()
        .filter_map(|(flag, p)| p.clone().map(|p| (flag, p)))
        .collect();
        if let Some(prefix) = &self.csv {
            for suffix in [
                "_stats.csv",
                "_stats_history.csv",
                "_failures.csv",
                "_exceptions.csv",
            ] {
                let mut name = prefix.clone().into_os_string();
                name.push(suffix);
                v.push(("--csv", PathBuf::from(name)));
            }
        }
        v
    }

    /// Fails when two outputs would write the same file.
    pub fn check_paths(&self) -> Result<(), OutError> {
        let named = self.paths();
        for (i, (flag, path)) in named.iter().enumerate() {
            if let Some((other, _)) = named[..i].iter().find(|(_, p)| same_file(p, path)) {
                return Err(OutError::SameFile {
                    first: other,
                    second: flag,
                    path: path.clone(),
                });
            }
        }
        Ok(())
    }

    /// The flag of an output that would write `path`, if any.
    pub fn writer_of(&self, path: &Path) -> Option<&'static str> {
        self.paths()
            .into_iter()
            .find(|(_, p)| same_file(p, path))
            .map(|(flag, _)| flag)
    }
}

/// Whether two paths name the same file (made absolute, `.` and `..` resolved by name).
fn same_file(a: &Path, b: &Path) -> bool {
    fn norm(p: &Path) -> PathBuf {
        use std::path::Component;
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut out = PathBuf::new();
        for c in abs.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    }
    norm(a) == norm(b)
}

/// Writes every requested file; returns one message per failure.
pub fn write_reports(r: &Results, f: &ReportFiles) -> Vec<String> {
    let mut errs = write_all(r, f.summary_export.as_deref(), f.results.as_deref());
    if let Some(p) = &f.summary_json {
        if let Err(e) = write_json(p, &throng_report::summary_json(r), b"  ") {
            errs.push(format!("cannot write the summary JSON: {e}"));
        }
    }
    if let Some(p) = &f.html {
        if let Err(e) = write_file(p, throng_report::html(r)) {
            errs.push(format!("cannot write the HTML report: {e}"));
        }
    }
    if let Some(p) = &f.markdown {
        if let Err(e) = write_file(p, throng_report::markdown(r)) {
            errs.push(format!("cannot write the Markdown report: {e}"));
        }
    }
    if let Some(p) = &f.junit {
        if let Err(e) = write_file(p, throng_report::junit_xml(r)) {
            errs.push(format!("cannot write the JUnit report: {e}"));
        }
    }
    if let Some(p) = &f.csv {
        if let Err(e) = throng_report::write_locust_csv(r, p, f.csv_full_history) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(outs: &[&str]) -> Result<ReportFiles, OutError> {
        let mut f = ReportFiles::default();
        for o in outs {
            f.add_out(o)?;
        }
        Ok(f)
    }

    #[test]
    fn outs_are_json_files_and_remote_write_urls() {
        let f = files(&[
            "json=a.ndjson.gz",
            "prometheus-rw=http://h:9090/api/v1/write",
        ])
        .expect("outs");
        assert_eq!(f.ndjson, Some(PathBuf::from("a.ndjson.gz")));
        assert_eq!(
            f.remote_write.as_deref(),
            Some("http://h:9090/api/v1/write")
        );
        let msg = |outs: &[&str]| files(outs).expect_err("rejected").to_string();
        assert_eq!(
            msg(&["json=a", "json=b"]),
            "--out json= is given twice (a and b): give one --out json=FILE"
        );
        assert_eq!(
            msg(&["prometheus-rw=http://a/w", "prometheus-rw=http://b/w"]),
            "--out prometheus-rw= is given twice (http://a/w and http://b/w): give one"
        );
        assert_eq!(
            msg(&["csv=a.csv", "csv=b.csv"]),
            "--out csv= is given twice (a.csv and b.csv): give one"
        );
        assert_eq!(
            files(&["csv=s.csv.gz"]).expect("csv").csv_samples,
            Some(PathBuf::from("s.csv.gz"))
        );
        assert_eq!(
            msg(&["json="]),
            "--out json=: expected json=FILE, csv=FILE or prometheus-rw=http://host:port/api/v1/write"
        );
        assert_eq!(
            msg(&["prometheus-rw=ftp://h/"]),
            "--out prometheus-rw=ftp://h/: expected json=FILE, csv=FILE or prometheus-rw=http://host:port/api/v1/write"
        );
        assert_eq!(
            msg(&["prometheus-rw=http:///w"]),
            "--out prometheus-rw `http:///w` has no host"
        );
        assert_eq!(
            msg(&["prometheus-rw=http://h/a b"]),
            "--out prometheus-rw `http://h/a b` contains a space or a control character: percent-encode it (a space is %20)"
        );
    }

    #[test]
    fn metric_compat_is_k6_or_throng() {
        let mut f = ReportFiles::default();
        f.set_metric_compat("k6").expect("k6");
        assert!(f.k6_names);
        f.set_metric_compat("throng").expect("throng");
        assert!(!f.k6_names);
        assert_eq!(
            f.set_metric_compat("x").expect_err("x").to_string(),
            "--metric-compat x: expected k6 or throng"
        );
    }

    #[test]
    fn two_outputs_never_write_one_file() {
        let f = ReportFiles {
            html: Some("out/r.html".into()),
            markdown: Some("out/../out/./r.html".into()),
            ..ReportFiles::default()
        };
        assert_eq!(
            f.check_paths().expect_err("same file").to_string(),
            "--html and --md both write out/../out/./r.html: give each output its own file"
        );
        let f = ReportFiles {
            junit: Some("x_stats.csv".into()),
            csv: Some("x".into()),
            results: Some("r.json".into()),
            ..ReportFiles::default()
        };
        assert!(f
            .check_paths()
            .expect_err("csv")
            .to_string()
            .starts_with("--junit and --csv both write"));
        assert_eq!(f.writer_of(Path::new("./r.json")), Some("--results"));
        assert_eq!(f.writer_of(Path::new("other.json")), None);
        let f = ReportFiles {
            html: Some("a.html".into()),
            csv: Some("a".into()),
            ..ReportFiles::default()
        };
        assert_eq!(f.check_paths(), Ok(()));
    }
}
