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
}
