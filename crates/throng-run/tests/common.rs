//! Helpers for whole-run tests.
#![allow(dead_code)]
use std::path::Path;
use throng_plan::{load_str, LoadOptions};
use throng_run::{run, RunOutcome, RunRequest};
use tokio_util::sync::CancellationToken;

/// Loads `yaml` (with `BASE` replaced by `base`) from the folder `dir`.
pub fn plan_in(yaml: &str, base: &str, dir: &Path) -> throng_plan::Plan {
    let text = yaml.replace("BASE", base);
    match load_str(&text, &dir.join("plan.yaml"), &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("plan does not load:\n{e}"),
    }
}

pub fn plan(yaml: &str, base: &str) -> throng_plan::Plan {
    plan_in(yaml, base, &std::env::temp_dir())
}

pub async fn run_plan(p: throng_plan::Plan) -> RunOutcome {
    run_with(p, CancellationToken::new(), None).await
}

pub async fn run_with(
    p: throng_plan::Plan,
    interrupt: CancellationToken,
    results: Option<std::path::PathBuf>,
) -> RunOutcome {
    let files = throng_run::ReportFiles {
        results,
        ..Default::default()
    };
    run_with_files(p, interrupt, files).await
}

pub async fn run_with_files(
    p: throng_plan::Plan,
    interrupt: CancellationToken,
    files: throng_run::ReportFiles,
) -> RunOutcome {
    run(request(p, interrupt, files)).await.expect("run starts")
}

/// A run request with no live outputs.
pub fn request(
    p: throng_plan::Plan,
    interrupt: CancellationToken,
    files: throng_run::ReportFiles,
) -> RunRequest {
    RunRequest {
        plan: p,
        plan_file: "plan.yaml".into(),
        files,
        no_thresholds: false,
        interrupt,
        color: false,
        live: None,
        command: None,
        dashboard: None,
        prometheus: None,
        http_debug: None,
        control: None,
        instance: None,
    }
}

pub fn count(o: &RunOutcome, metric: &str) -> u64 {
    o.results.value(metric, "count").unwrap_or(0.0) as u64
}

/// The rows of the Markdown report's table under `## {title}` (the header left out),
/// each row's cells trimmed; empty when the report has no such section.
pub fn md_table(md: &str, title: &str) -> Vec<Vec<String>> {
    let head = format!("\n## {title}\n");
    let Some(at) = md.find(&head) else {
        return Vec::new();
    };
    md[at + head.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The count in column `col` of the row whose first cells are `key` in `rows`.
pub fn md_cell(rows: &[Vec<String>], key: &[&str], col: usize) -> Option<u64> {
    rows.iter()
        .find(|r| r.len() > col && r.iter().zip(key).all(|(a, b)| a == b))
        .and_then(|r| r[col].parse().ok())
}
