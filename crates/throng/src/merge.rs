//! `throng merge RESULTS...`: the results files of a scaled-out run's instances added
//! together exactly, with every report a single run writes.
use crate::cli::OutputArgs;
use clap::Args;
use std::path::PathBuf;
use throng_report::merge::Merged;
use throng_run::ExitCode;

/// `throng merge`'s flags.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The instances' results files (written by `run --results` with `--segment`), or
    /// folders of them (every `*.json` in it that this merge does not write).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Wait until N results files are there and readable (the pods of a Kubernetes Job
    /// write theirs as they finish), then merge.
    #[arg(long, value_name = "N")]
    pub wait_for: Option<usize>,
    /// How long `--wait-for` waits before merging what is there.
    #[arg(long, value_name = "DURATION", default_value = "2h")]
    pub wait_timeout: String,
    /// Accept a merge with segments missing or instances failed (exit as the thresholds
    /// say instead of 107).
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Reads and merges `files`; the error is one line naming the file at fault.
pub fn merge_files(files: &[PathBuf]) -> Result<Merged, String> {
    let mut inputs = Vec::with_capacity(files.len());
    for f in files {
        let r = throng_report::compare::read_results(f).map_err(|e| e.to_string())?;
        inputs.push((f.display().to_string(), r));
    }
    throng_report::merge::merge(&inputs).map_err(|e| e.to_string())
}

/// Writes the merged reports, prints the summary and the merge line, and gives the exit
/// code: 107 for a partial merge (unless allowed), 99 when a threshold failed on the merged
/// data, else 0. `live` says the instances ran here (`--local-segments`) and already sent
/// their remote write.
pub fn report(merged: &Merged, out: &OutputArgs, allow_partial: bool, live: bool) -> i32 {
    let mut files = match out.files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    if live {
        files.remote_write = None;
    }
    if files.ndjson.is_some() || files.csv_samples.is_some() || files.remote_write.is_some() {
        eprintln!(
            "error: --out needs the samples of a live run; `throng merge` has only the results"
        );
        return ExitCode::InvalidPlan.code();
    }
    let errs = throng_run::write_reports(&merged.results, &files);
    for e in &errs {
        eprintln!("error: {e}");
    }
    if !out.no_summary {
        print!("{}", throng_report::render_summary(&merged.results, false));
    }
    let line = merged.info.describe();
    let partial = merged.info.is_partial();
    if partial && !allow_partial {
        eprintln!("error: {line} (--allow-partial to accept it)");
    } else {
        eprintln!("{line}");
    }
    if !errs.is_empty() || (partial && !allow_partial) {
        ExitCode::RuntimeError.code()
    } else {
        merged.results.run.exit_code
    }
}

/// The inputs: files as given, folders expanded to their `*.json` files (sorted) except
/// those an output of this merge writes.
fn inputs(args: &MergeArgs, outputs: &throng_run::ReportFiles) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in &args.files {
        if f.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(f)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "json"))
                        .filter(|p| outputs.writer_of(p).is_none())
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            out.extend(found);
        } else {
            out.push(f.clone());
        }
    }
    out
}

/// `throng merge`.
pub fn run(args: MergeArgs) -> i32 {
    let outputs = match args.out.files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    for f in &args.files {
        if outputs.writer_of(f).is_some() {
            eprintln!(
                "error: an output would overwrite the input {}: choose another file",
                f.display()
            );
            return ExitCode::InvalidPlan.code();
        }
    }
    let mut files = inputs(&args, &outputs);
    if let Some(n) = args.wait_for {
        let timeout = match throng_plan::parse_duration(&args.wait_timeout) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: --wait-timeout `{}`: {e}", args.wait_timeout);
                return ExitCode::InvalidPlan.code();
            }
        };
        let start = std::time::Instant::now();
        // a file still being written reads as truncated: wait for it too
        while (files.len() < n || merge_files(&files).is_err()) && start.elapsed() < timeout {
            std::thread::sleep(std::time::Duration::from_secs(2));
            files = inputs(&args, &outputs);
        }
        eprintln!("merging {} results file(s)", files.len());
    }
    match merge_files(&files) {
        Ok(m) => report(&m, &args.out, args.allow_partial, false),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::InvalidPlan.code()
        }
    }
}
