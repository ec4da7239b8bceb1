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
