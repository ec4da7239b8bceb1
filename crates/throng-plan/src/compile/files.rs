//! The files a plan names (data sources, `ca_file`): the one place plan loading touches the
//! disk, behind [`PlanFiles`], so the compiler itself only parses text.
use std::io;
use std::path::Path;

/// Reaches the files a plan names, by path (already joined to the plan's folder).
pub trait PlanFiles {
    /// The whole text of a file (a data source).
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Whether a file exists (the CA file, which the HTTP client reads when the run starts).
    fn is_file(&self, path: &Path) -> bool;
    /// Whether a program an `exec` action runs can be found: a path (with a `/`, relative
    /// to `base_dir`) that is a file, or a name on `PATH`. By default every program is.
    fn find_program(&self, base_dir: &Path, program: &str) -> bool {
        let _ = (base_dir, program);
        true
    }
}

/// The files on disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskFiles;

impl PlanFiles for DiskFiles {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn find_program(&self, base_dir: &Path, program: &str) -> bool {
        if program.contains('/') {
            return base_dir.join(program).is_file();
        }
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
            .unwrap_or(false)
    }
}
