//! Running a suite: each step in order with the cool-down between them, each plan's
//! reports in its own sub-folder; Ctrl-C stops the current step gracefully and skips the
//! rest, and the combined report is written either way.
use super::report::{StepResult, SuiteReport, Verdict};
use super::spec::{StepKind, Suite, SuiteStep};
use crate::limit::{find_limit, LimitRun};
use std::path::{Path, PathBuf};
use std::time::Instant;
use throng_metrics::names;
use tokio_util::sync::CancellationToken;

/// A folder name for step `i`: `01-baseline`, `03-reset-db.sh`.
fn folder(i: usize, label: &str) -> String {
    let slug: String = label
        .rsplit('/')
        .next()
        .unwrap_or(label)
        .trim_end_matches(".yaml")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("{:02}-{}", i + 1, slug.trim_matches('-'))
}

async fn plan_step(
    plan: &throng_plan::Plan,
    file: &str,
    dir: &Path,
    interrupt: &CancellationToken,
) -> (Verdict, i32, String) {
    let files = throng_run::ReportFiles {
        results: Some(dir.join("results.json")),
        html: Some(dir.join("report.html")),
        markdown: Some(dir.join("report.md")),
        junit: Some(dir.join("junit.xml")),
        ..Default::default()
    };
    let req = crate::run_request(plan.clone(), file, files, interrupt);
    match throng_run::run(req).await {
        Ok(out) => {
            let r = &out.results;
            let reqs = r.value(names::HTTP_REQS, "count").unwrap_or(0.0);
            let failed = r.value(names::HTTP_REQ_FAILED, "passes").unwrap_or(0.0);
            let secs = (r.run.duration_ms / 1000.0).max(1e-9);
            let failed_thresholds: Vec<String> = r
                .thresholds
                .iter()
                .filter(|t| !t.ok)
                .map(|t| format!("{} {}", t.metric, t.expression))
                .collect();
            let mut figures = format!(
                "{} requests, {:.1}/s, p95 {}, {} failed",
                reqs as u64,
                reqs / secs,
                throng_report::format_ms(r.value(names::HTTP_REQ_DURATION, "p(95)").unwrap_or(0.0)),
                throng_report::format_percent(if reqs > 0.0 { failed / reqs } else { 0.0 })
            );
            if !failed_thresholds.is_empty() {
                figures.push_str(&format!("; failed: {}", failed_thresholds.join(", ")));
            }
            for e in &out.write_errors {
                figures.push_str(&format!("; error: {e}"));
            }
            let code = if out.write_errors.is_empty() {
                out.exit_code.code()
            } else {
                107
            };
            (Verdict::from_code(code), code, figures)
        }
        Err(e) => (Verdict::Failed, e.exit_code().code(), e.to_string()),
    }
}

async fn exec_step(
    argv: &[String],
    cwd: &Path,
    dir: &Path,
    interrupt: &CancellationToken,
) -> (Verdict, i32, String) {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let child = cmd.output();
    tokio::select! {
        out = child => match out {
            Ok(o) => {
                let mut log = o.stdout.clone();
                log.extend_from_slice(&o.stderr);
                let _ = throng_report::write_file(&dir.join("output.txt"), &log);
                let code = o.status.code().unwrap_or(-1);
                let verdict = if o.status.success() { Verdict::Passed } else { Verdict::Failed };
                (verdict, code, format!("exit status {code}"))
            }
            Err(e) => (Verdict::Failed, 107, format!("cannot run `{}`: {e}", argv[0])),
        },
        _ = interrupt.cancelled() => (Verdict::Interrupted, 105, "stopped by Ctrl-C".into()),
    }
}

async fn limit_step(
    step: &SuiteStep,
    dir: &Path,
    interrupt: &CancellationToken,
) -> (Verdict, i32, String) {
    let StepKind::FindLimit { file, plan, spec } = &step.kind else {
        return (Verdict::Failed, 107, "not a find_limit step".into());
    };
    let run = LimitRun {
        plan,
        plan_file: file,
        spec,
        interrupt: interrupt.clone(),
    };
    match find_limit(run, &mut |_| {}).await {
        Ok(r) => {
            let json = serde_json::to_string_pretty(&r).unwrap_or_default();
            let mut errs = Vec::new();
            for (name, text) in [
                ("limit.json", json),
                ("report.md", r.markdown()),
                ("report.html", r.html()),
            ] {
                if let Err(e) = throng_report::write_file(&dir.join(name), text.as_bytes()) {
                    errs.push(e.to_string());
                }
            }
            let code = if r.interrupted {
                105
            } else if r.max_sustainable.is_none() {
                99
            } else {
                0
            };
            let mut figures = r.headline().trim_end().replace('\n', "; ");
            for e in errs {
                figures.push_str(&format!("; error: {e}"));
            }
            (Verdict::from_code(code), code, figures)
        }
        Err(e) => (Verdict::Failed, 104, e.to_string()),
    }
}

/// Runs the suite, writing each step's reports under `out_dir` and then the combined
/// `index.html` and `report.md`; `progress` hears about each step as it ends.
pub async fn run_suite(
    suite: &Suite,
    out_dir: &Path,
    interrupt: CancellationToken,
    progress: &mut dyn FnMut(&StepResult),
) -> SuiteReport {
    let started_at = jiff::Timestamp::now().to_string();
    let mut results: Vec<StepResult> = Vec::new();
    let mut failed = false;
    for (i, step) in suite.steps.iter().enumerate() {
        let folder = folder(i, &step.label);
        let skip = interrupt.is_cancelled() || (failed && suite.stop_on_failure);
        if skip {
            results.push(StepResult {
                label: step.label.clone(),
                kind: step.kind_name().into(),
                verdict: Verdict::Skipped,
                exit_code: None,
                figures: if interrupt.is_cancelled() {
                    "skipped: the suite was stopped".into()
                } else {
                    "skipped: an earlier step failed (stop_on_failure)".into()
                },
                folder: None,
                duration_s: 0.0,
            });
            continue;
        }
        if i > 0 && !suite.cooldown.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(suite.cooldown) => {}
                _ = interrupt.cancelled() => {}
            }
        }
        let dir: PathBuf = out_dir.join(&folder);
        let t0 = Instant::now();
        let (verdict, code, figures) = match &step.kind {
            StepKind::Plan { file, plan } => plan_step(plan, file, &dir, &interrupt).await,
            StepKind::Exec { argv } => exec_step(argv, &suite.dir, &dir, &interrupt).await,
            StepKind::FindLimit { .. } => limit_step(step, &dir, &interrupt).await,
        };
        failed |= verdict == Verdict::Failed;
        let r = StepResult {
            label: step.label.clone(),
            kind: step.kind_name().into(),
            verdict,
            exit_code: Some(code),
            figures,
            folder: Some(folder),
            duration_s: t0.elapsed().as_secs_f64(),
        };
        progress(&r);
        results.push(r);
    }
    SuiteReport {
        name: suite.name.clone(),
        file: suite.file.display().to_string(),
        started_at,
        steps: results,
        interrupted: interrupt.is_cancelled(),
    }
}

impl SuiteStep {
    /// `plan`, `exec` or `find_limit`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            StepKind::Plan { .. } => "plan",
            StepKind::Exec { .. } => "exec",
            StepKind::FindLimit { .. } => "find_limit",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn step_folders_are_numbered_slugs() {
        assert_eq!(super::folder(0, "scenarios/baseline.yaml"), "01-baseline");
        assert_eq!(
            super::folder(11, "./reset-db.sh --all"),
            "12-reset-db.sh---all"
        );
        assert_eq!(super::folder(4, "find-limit ../api.yaml"), "05-api");
    }
}
