//! `throng fixtures SPEC --count N --out FILE`: flags in, rows out. The generation itself
//! is `throng_plan::fixtures`.
use crate::cli::EnvArgs;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use throng_plan::fixtures::{load_spec, write_fixtures, FixtureError, FixtureOptions, Format};
use throng_run::ExitCode;

#[derive(Args, Debug)]
pub struct FixturesArgs {
    /// The fixture spec: YAML with `fields:`, one template per field.
    pub spec: PathBuf,
    /// Rows to write (`seq` runs from 1 to N).
    #[arg(long, value_name = "N")]
    pub count: u64,
    /// The file to write (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// json (an array), ndjson (a line per row) or csv; default from --out's extension.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// The instant `now`, `now_plus` and `date` read (RFC 3339, e.g. 2026-01-01T00:00:00Z);
    /// default: when generation starts. With --seed, the file is then byte-identical.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    #[command(flatten)]
    pub env: EnvArgs,
}

/// Runs `throng fixtures`; returns the exit code.
pub fn run(a: FixturesArgs) -> i32 {
    match generate(&a) {
        Ok(()) => 0,
        Err((code, msg)) => {
            eprintln!("{msg}");
            code.code()
        }
    }
}

fn bad(msg: impl std::fmt::Display) -> (ExitCode, String) {
    (ExitCode::InvalidPlan, format!("error: {msg}"))
}

fn generate(a: &FixturesArgs) -> Result<(), (ExitCode, String)> {
    let format = match &a.format {
        Some(f) => Format::parse(f).map_err(bad)?,
        None => Format::from_path(&a.out),
    };
    let now = a
        .now
        .as_deref()
        .map(|t| {
            t.parse::<jiff::Timestamp>().map_err(|e| {
                bad(format!(
                    "--now `{t}` is not a time like 2026-01-01T00:00:00Z ({e})"
                ))
            })
        })
        .transpose()?;
    let env = crate::env::collect(&a.env).map_err(bad)?;
    let text = std::fs::read_to_string(&a.spec)
        .map_err(|e| bad(format!("cannot read {}: {e}", a.spec.display())))?;
    let dir = a.spec.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).map_err(|e| e.to_string());
    let spec = load_spec(&text, &a.spec, &env, &read)
        .map_err(|e| (ExitCode::InvalidPlan, e.to_string()))?;
    let o = FixtureOptions {
        count: a.count,
        seed: a.env.seed,
        now,
    };
    let t0 = Instant::now();
    let to_stdout = a.out.as_os_str() == "-";
    let result = if to_stdout {
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        write_fixtures(&spec, &o, format, &mut w).and_then(|n| Ok(w.flush().map(|_| n)?))
    } else {
        let file = std::fs::File::create(&a.out).map_err(|e| {
            (
                ExitCode::RuntimeError,
                format!("error: cannot create {}: {e}", a.out.display()),
            )
        })?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        let r = write_fixtures(&spec, &o, format, &mut w).and_then(|n| Ok(w.flush().map(|_| n)?));
        if r.is_err() {
            // no half-written file is left to be mistaken for a whole one
            let _ = std::fs::remove_file(&a.out);
        }
        r
    };
    let rows = result.map_err(|e| match e {
        FixtureError::Render(e) => (ExitCode::InvalidPlan, format!("error: {e}")),
        FixtureError::Io(e) => (
            ExitCode::RuntimeError,
            format!("error: cannot write {}: {e}", a.out.display()),
        ),
    })?;
    let secs = t0.elapsed().as_secs_f64();
    if !to_stdout {
        eprintln!(
            "wrote {rows} rows to {} in {secs:.2} s ({:.0} rows/s)",
            a.out.display(),
            rows as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}
