//! The combined report of a suite: `index.html` and `report.md`, a row per step with its
//! verdict, key figures and a link to its own reports.
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use throng_report::escape_xml as esc;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Exit 0.
    Passed,
    /// Thresholds, gates, a command's status, an error.
    Failed,
    /// Stopped by Ctrl-C.
    Interrupted,
    /// Not run.
    Skipped,
}

impl Verdict {
    /// From a step's exit code: 0 passed, 105 interrupted, anything else failed.
    pub fn from_code(code: i32) -> Verdict {
        match code {
            0 => Verdict::Passed,
            105 => Verdict::Interrupted,
            _ => Verdict::Failed,
        }
    }

    fn mark(self) -> &'static str {
        match self {
            Verdict::Passed => "✅ passed",
            Verdict::Failed => "❌ failed",
            Verdict::Interrupted => "⏹ interrupted",
            Verdict::Skipped => "⏭ skipped",
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    /// Its label.
    pub label: String,
    /// `plan`, `exec` or `find_limit`.
    pub kind: String,
    /// How it ended.
    pub verdict: Verdict,
    /// Its exit code (`None` when skipped).
    pub exit_code: Option<i32>,
    /// Key figures (requests, rate, p95, failures; the limit found; the command's status).
    pub figures: String,
    /// Its sub-folder of the output folder.
    pub folder: Option<String>,
    /// How long it took, seconds.
    pub duration_s: f64,
}

/// A suite's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteReport {
    /// The suite's name.
    pub name: String,
    /// The suite file.
    pub file: String,
    /// Start, RFC 3339.
    pub started_at: String,
    /// Every step, in order.
    pub steps: Vec<StepResult>,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

impl SuiteReport {
    /// Every step that ran passed.
    pub fn ok(&self) -> bool {
        !self.steps.iter().any(|s| s.verdict == Verdict::Failed)
    }

    /// 105 interrupted, 99 when a step failed, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            105
        } else if !self.ok() {
            99
        } else {
            0
        }
    }

    /// The step's main report file, relative to the output folder.
    fn link(s: &StepResult) -> Option<String> {
        let f = s.folder.as_ref()?;
        Some(match s.kind.as_str() {
            "exec" => format!("{f}/output.txt"),
            _ => format!("{f}/report.html"),
        })
    }

    /// The terminal summary.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "suite {}: {}",
            self.name,
            if self.ok() { "PASSED" } else { "FAILED" }
        );
        for (i, s) in self.steps.iter().enumerate() {
            let _ = writeln!(
                o,
                "  {:>2}. {} {} — {}",
                i + 1,
                s.verdict.mark(),
                s.label,
                s.figures
            );
        }
        o
    }

    /// `report.md`.
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Suite: {}\n", self.name);
        let _ = writeln!(
            o,
            "**Verdict:** {}{} (exit code {}) · suite file `{}` · started {}\n",
            if self.ok() {
                "✅ passed"
            } else {
                "❌ failed"
            },
            if self.interrupted {
                ", interrupted"
            } else {
                ""
            },
            self.exit_code(),
            self.file,
            self.started_at
        );
        let _ = writeln!(o, "| # | step | kind | verdict | key figures | took | report |\n|---:|---|---|---|---|---:|---|");
        for (i, s) in self.steps.iter().enumerate() {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {:.1}s | {} |",
                i + 1,
                s.label.replace('|', "\\|"),
                s.kind,
                s.verdict.mark(),
                s.figures.replace('|', "\\|"),
                s.duration_s,
                Self::link(s)
                    .map(|l| format!("[{l}]({l})"))
                    .unwrap_or("—".into())
            );
        }
        o
    }

    /// `index.html`.
    pub fn html(&self) -> String {
        let mut o = String::new();
        let ok = self.ok();
        let _ = write!(
            o,
            r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>throng suite — {n}</title><style>body{{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330}}table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f3}}.passed{{color:#1f9d55}}.failed{{color:#d64545}}.verdict{{padding:2px 10px;border-radius:12px;color:#fff;background:{bg}}}</style></head><body><h1>Suite {n} <span class="verdict">{v}</span></h1><p>suite file <code>{f}</code> · started {t} · exit code {c}{i}</p><table><tr><th>#</th><th>step</th><th>kind</th><th>verdict</th><th>key figures</th><th>took</th><th>report</th></tr>"#,
            n = esc(&self.name),
            bg = if ok { "#1f9d55" } else { "#d64545" },
            v = if ok { "PASSED" } else { "FAILED" },
            f = esc(&self.file),
            t = esc(&self.started_at),
            c = self.exit_code(),
            i = if self.interrupted {
                " · interrupted"
            } else {
                ""
            }
        );
        for (i, s) in self.steps.iter().enumerate() {
            let class = match s.verdict {
                Verdict::Passed => "passed",
                Verdict::Failed => "failed",
                _ => "",
            };
            let _ = write!(
                o,
                r#"<tr class="step"><td>{}</td><td>{}</td><td>{}</td><td class="{class}">{}</td><td>{}</td><td>{:.1}s</td><td>{}</td></tr>"#,
                i + 1,
                esc(&s.label),
                esc(&s.kind),
                s.verdict.mark(),
                esc(&s.figures),
                s.duration_s,
                Self::link(s)
                    .map(|l| format!(r#"<a href="{0}">{0}</a>"#, esc(&l)))
                    .unwrap_or("—".into())
            );
        }
        o.push_str("</table></body></html>\n");
        o
    }

    /// Writes `index.html`, `report.md` and `suite.json` into `out_dir`; the errors.
    pub fn write(&self, out_dir: &Path) -> Vec<String> {
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        [
            ("index.html", self.html()),
            ("report.md", self.markdown()),
            ("suite.json", json),
        ]
        .into_iter()
        .filter_map(|(name, text)| {
            throng_report::write_file(&out_dir.join(name), text.as_bytes())
                .err()
                .map(|e| e.to_string())
        })
        .collect()
    }
}
