//! `throng compare`, `throng baseline save` and the baseline gates of `throng run`.
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use throng_report::compare::{read_results, Comparison, Gate};
use throng_report::Results;
use throng_run::ExitCode;

/// `throng compare A.json B.json [C.json...]`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Results files (`--results`), oldest first: the baseline, then the runs to compare.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub gates: GateArgs,
    /// Write the comparison as Markdown.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Write the comparison as HTML (with the latency distributions overlaid).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write JUnit XML: one test case per gate.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Gates on the change from a baseline (repeatable `--fail-if`).
#[derive(Args, Debug, Default, Clone)]
pub struct GateArgs {
    /// Fail (exit 99) when the change from the previous run satisfies this: `throughput<-10%`,
    /// `p(95)>+10%`, `error_rate>+0.5pp`, `p(99){name:login}>+50ms`.
    #[arg(long = "fail-if", value_name = "GATE")]
    pub fail_if: Vec<Gate>,
}

/// `throng baseline ...`.
#[derive(Args, Debug)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

/// What to do with a baseline.
#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Keep a results file as a baseline (checked first: version and histograms).
    Save {
        /// The results file (`--results`) of the run to keep.
        results: PathBuf,
        /// Where to keep it (folders are created).
        #[arg(long)]
        to: PathBuf,
    },
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    throng_report::write_file(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// Writes the comparison's files; the errors, one line each.
fn write_outputs(c: &Comparison, args: &CompareArgs) -> Vec<String> {
    let mut errs = Vec::new();
    type Render = fn(&Comparison) -> String;
    let outs: [(&Option<PathBuf>, Render); 3] = [
        (&args.md, Comparison::markdown),
        (&args.html, Comparison::html),
        (&args.junit, Comparison::junit),
    ];
    for (path, render) in outs {
        if let Some(p) = path {
            if let Err(e) = write(p, &render(c)) {
                errs.push(e);
            }
        }
    }
    errs
}

/// `throng compare`: exit 0, 99 when a gate fails, 104 for a file that cannot be read.
pub fn compare(args: CompareArgs) -> i32 {
    let mut runs = Vec::new();
    for f in &args.files {
        match read_results(f) {
            Ok(r) => runs.push((f.display().to_string(), r)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::InvalidPlan.code();
            }
        }
    }
    let c = match Comparison::new(&runs, &args.gates.fail_if) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    print!("{}", c.text());
    let errs = write_outputs(&c, &args);
    for e in &errs {
        eprintln!("error: {e}");
    }
    if !errs.is_empty() {
        ExitCode::RuntimeError.code()
    } else if c.ok() {
        0
    } else {
        ExitCode::ThresholdsFailed.code()
    }
}

/// `throng baseline save`.
pub fn baseline(args: BaselineArgs) -> i32 {
    match args.command {
        BaselineCommand::Save { results, to } => {
            if let Err(e) = read_results(&results) {
                eprintln!("error: {e}");
                return ExitCode::InvalidPlan.code();
            }
            let copied = std::fs::read(&results)
                .map_err(|e| e.to_string())
                .and_then(|b| throng_report::write_file(&to, &b).map_err(|e| e.to_string()));
            match copied {
                Ok(()) => {
                    eprintln!("baseline saved: {}", to.display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::RuntimeError.code()
                }
            }
        }
    }
}

/// `throng run --baseline FILE --fail-if ...`: judges the finished run against the
/// baseline, prints the comparison and gives the exit code to use (a failed gate turns a
/// passing run into 99; any other code is kept).
pub fn gate_run(baseline: &Path, gates: &[Gate], results: &Results, code: i32) -> i32 {
    let base = match read_results(baseline) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return if code == 0 {
                ExitCode::InvalidPlan.code()
            } else {
                code
            };
        }
    };
    let runs = [
        (baseline.display().to_string(), base),
        ("this run".to_string(), results.clone()),
    ];
    match Comparison::new(&runs, gates) {
        Ok(c) => {
            print!("\n{}", c.text());
            if !c.ok() && code == 0 {
                ExitCode::ThresholdsFailed.code()
            } else {
                code
            }
        }
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            code
        }
    }
}
