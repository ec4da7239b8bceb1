//! Writing an output file: its folder is made first, and a failure names the path.
use std::fs::File;
use std::path::{Path, PathBuf};

/// A file or folder that could not be made or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    /// The file or folder at fault.
    pub path: PathBuf,
    /// What the system said.
    #[source]
    pub source: std::io::Error,
}

impl FileError {
    /// The error of `path`.
    pub fn new(path: impl Into<PathBuf>, source: std::io::Error) -> FileError {
        FileError {
            path: path.into(),
            source,
        }
    }
}

/// Makes the folder `path` goes in (and its parents), if it has one.
pub fn create_parent_dir(path: &Path) -> Result<(), FileError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| FileError::new(dir, e)),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` (replacing it), making its folder first.
pub fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), FileError> {
    create_parent_dir(path)?;
    std::fs::write(path, bytes).map_err(|e| FileError::new(path, e))
}

/// Creates (truncates) `path` for writing, making its folder first.
pub fn create_file(path: &Path) -> Result<File, FileError> {
    create_parent_dir(path)?;
    File::create(path).map_err(|e| FileError::new(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_the_folder_and_names_the_path_on_failure() {
        let dir = std::env::temp_dir().join(format!("throng-file-{}", std::process::id()));
        let p = dir.join("a/b/out.txt");
        write_file(&p, "hello").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "hello");
        let blocked = p.join("x.txt");
        let e = write_file(&blocked, b"x").expect_err("a file is in the way");
        assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
