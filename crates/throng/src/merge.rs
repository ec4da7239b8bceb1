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
    /// The instances' results files (written by `run --results` with `--segment`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
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
/// data, else 0.
pub fn report(merged: &Merged, out: &OutputArgs, allow_partial: bool) -> i32 {
    let files = match out.files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    if files.ndjson.is_some() || files.remote_write.is_some() {
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

/// `throng merge`.
pub fn run(args: MergeArgs) -> i32 {
    for f in &args.files {
        if args.out.files().ok().and_then(|o| o.writer_of(f)).is_some() {
            eprintln!(
                "error: an output would overwrite the input {}: choose another file",
                f.display()
            );
            return ExitCode::InvalidPlan.code();
        }
    }
    match merge_files(&args.files) {
        Ok(m) => report(&m, &args.out, args.allow_partial),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::InvalidPlan.code()
        }
    }
}
