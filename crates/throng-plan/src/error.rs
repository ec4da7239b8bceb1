//! Plan errors: every one names the file, line and column and what was expected.
use std::fmt;
use std::path::PathBuf;

/// One problem found in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// The plan file (or `<inline>`; for a plan built in code, the flag the value came
    /// from: see [`crate::Origins`]).
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The source line, for display.
    pub snippet: Option<String>,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // no position: a file that cannot be read, or a value built in code
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(s) = &self.snippet {
            let pad = " ".repeat(self.line.to_string().len());
            write!(f, "\n{pad} |\n{} | {}", self.line, s)?;
            let caret_pad: String = s
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad} | {caret_pad}^")?;
        }
        Ok(())
    }
}

/// Everything wrong with a plan (at least one error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} errors in the plan", self.0.len())?;
        }
        Ok(())
    }
}

/// The source text of a plan, for turning offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name used in errors.
    pub file: PathBuf,
    /// The whole text.
    pub text: String,
}

impl Source {
    /// An error at a 1-based line and column.
    pub fn error_at(&self, line: usize, column: usize, message: impl Into<String>) -> PlanError {
        let snippet = if line > 0 {
            self.text.lines().nth(line - 1).map(|s| s.to_string())
        } else {
            None
        };
        PlanError {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
            snippet,
        }
    }

    /// An error at a byte offset.
    pub fn error_at_offset(&self, offset: usize, message: impl Into<String>) -> PlanError {
        let (line, col) = self.line_col(offset);
        self.error_at(line, col, message)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }

    /// Byte offset of a 1-based line and column.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let mut off = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let col_bytes: usize = l
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                return off + col_bytes;
            }
            off += l.len();
        }
        self.text.len()
    }

    /// Finds `needle` at or after a line/column, giving its own line and column; falls back
    /// to the start position.
    pub fn find_from(&self, line: usize, column: usize, needle: &str) -> (usize, usize) {
        let start = self.offset_of(line, column);
        match self.text.get(start..).and_then(|t| t.find(needle)) {
            Some(i) => self.line_col(start + i),
            None => (line, column),
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_lines() {
        let s = Source {
            file: "p.yaml".into(),
            text: "a: 1\nbb: {{x}}\n".into(),
        };
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(9), (2, 5));
        assert_eq!(s.offset_of(2, 5), 9);
        assert_eq!(s.find_from(1, 1, "{{x}}"), (2, 5));
        let e = s.error_at(2, 5, "bad");
        assert!(e.to_string().starts_with("p.yaml:2:5: bad"));
    }
}
