//! `log:` follow a file as it grows (from its size when the run starts; a file that
//! shrinks was rotated or truncated and is read from its start) and count the lines
//! matching each named pattern: `NAME` is matches per second over the interval,
//! `NAME:total` the running count; the time of each pattern's first match is a fact.
use crate::{LogPattern, Monitor, MonitorError, SampleCx, Value};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Instant;

/// Most bytes read per sample (a file growing faster is read over several samples).
const MAX_READ: u64 = 16 << 20;

/// The log monitor.
pub struct LogMonitor {
    file: PathBuf,
    patterns: Vec<LogPattern>,
    pos: Option<u64>,
    partial: String,
    totals: Vec<u64>,
    first: Vec<Option<f64>>,
    last_at: Option<Instant>,
}

impl LogMonitor {
    /// A monitor of `file`.
    pub fn new(file: PathBuf, patterns: Vec<LogPattern>) -> LogMonitor {
        let n = patterns.len();
        LogMonitor {
            file,
            patterns,
            pos: None,
            partial: String::new(),
            totals: vec![0; n],
            first: vec![None; n],
            last_at: None,
        }
    }
}

impl Monitor for LogMonitor {
    fn sample(&mut self, cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let now = Instant::now();
        let dt = self.last_at.map(|l| (now - l).as_secs_f64());
        let mut f = std::fs::File::open(&self.file)
            .map_err(|e| MonitorError(format!("cannot open {}: {e}", self.file.display())))?;
        let len = f
            .metadata()
            .map_err(|e| MonitorError(format!("{}: {e}", self.file.display())))?
            .len();
        let pos = match self.pos {
            None => len,
            Some(p) if p > len => 0,
            Some(p) => p,
        };
        let mut buf = Vec::new();
        f.seek(SeekFrom::Start(pos))
            .and_then(|_| f.take(MAX_READ).read_to_end(&mut buf))
            .map_err(|e| MonitorError(format!("{}: {e}", self.file.display())))?;
        self.pos = Some(pos + buf.len() as u64);
        self.last_at = Some(now);
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let complete = match self.partial.rfind('\n') {
            Some(i) => {
                let rest = self.partial.split_off(i + 1);
                std::mem::replace(&mut self.partial, rest)
            }
            None => String::new(),
        };
        let mut counts = vec![0u64; self.patterns.len()];
        for line in complete.lines() {
            for (i, p) in self.patterns.iter().enumerate() {
                if p.regex.is_match(line) {
                    counts[i] += 1;
                }
            }
        }
        let mut out = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            self.totals[i] += counts[i];
            if counts[i] > 0 && self.first[i].is_none() {
                self.first[i] = Some(cx.elapsed);
            }
            if let Some(dt) = dt.filter(|d| *d > 0.0) {
                out.push(Value::new(p.name.clone(), counts[i] as f64 / dt));
            }
            out.push(Value::new(
                format!("{}:total", p.name),
                self.totals[i] as f64,
            ));
        }
        Ok(out)
    }

    fn facts(&self) -> Vec<(String, String)> {
        self.patterns
            .iter()
            .zip(&self.first)
            .map(|(p, f)| {
                (
                    format!("{} first match", p.name),
                    f.map(|t| format!("{t:.1}s"))
                        .unwrap_or_else(|| "none".into()),
                )
            })
            .collect()
    }
}
