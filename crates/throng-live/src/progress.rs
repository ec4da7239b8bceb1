//! The progress display: indicatif bars on a terminal, plain lines elsewhere.
use crate::{LiveSink, LiveView, ScenarioLive};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProgressMode {
    /// One live bar per scenario (stderr is a terminal).
    Bars,
    /// A plain status line per scenario every `every` (stderr is a file or pipe).
    Plain {
        /// Interval between lines.
        every: Duration,
    },
    /// Nothing (`--quiet`).
    Off,
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s % 3600 / 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{ms:.1}ms")
    }
}

/// The text after the bar: `5000/10000 50% | 234 req/s | ok 4998 | failed 2 | p95 41ms | VUs 50 | ETA 21s`.
pub fn status_text(s: &ScenarioLive) -> String {
    if let Some(wait) = s.starts_in {
        return format!("waiting (starts in {})", fmt_secs(wait));
    }
    let progress = match s.total {
        Some(t) => format!("{}/{} {:.0}%", s.done, t, s.fraction() * 100.0),
        None => format!(
            "{}/{} {:.0}%",
            fmt_secs(s.elapsed),
            fmt_secs(s.duration),
            s.fraction() * 100.0
        ),
    };
    let eta = match s.eta() {
        Some(d) if !s.finished => format!(" | ETA {}", fmt_secs(d)),
        _ => String::new(),
    };
    format!(
        "{progress} | {:.0} req/s | ok {} | failed {} | p95 {} | VUs {}{eta}{}",
        s.rps,
        s.ok,
        s.failed,
        fmt_ms(s.p95_ms),
        s.vus,
        if s.finished { " | done" } else { "" }
    )
}

/// Draws progress in one of the [`ProgressMode`]s.
pub struct Progress {
    mode: ProgressMode,
    bars: Vec<ProgressBar>,
    multi: Option<MultiProgress>,
    last_line: Option<Instant>,
    out: Box<dyn Write + Send>,
}

impl Progress {
    /// Progress on stderr.
    pub fn stderr(mode: ProgressMode) -> Progress {
        Progress::new(mode, Box::new(std::io::stderr()))
    }

    /// Progress writing plain lines to `out` (bars always draw to stderr).
    pub fn new(mode: ProgressMode, out: Box<dyn Write + Send>) -> Progress {
        Progress {
            mode,
            bars: Vec::new(),
            multi: None,
            last_line: None,
            out,
        }
    }

    fn ensure_bars(&mut self, view: &LiveView) {
        if self.multi.is_some() {
            return;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        let width = view
            .scenarios
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0);
        let style = ProgressStyle::with_template("{prefix} [{bar:24.cyan/blue}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ ");
        for s in &view.scenarios {
            let pb = multi.add(ProgressBar::new(1000));
            pb.set_style(style.clone());
            pb.set_prefix(format!("{:<width$}", s.name));
            self.bars.push(pb);
        }
        self.multi = Some(multi);
    }

    fn draw_bars(&mut self, view: &LiveView) {
        self.ensure_bars(view);
        for (pb, s) in self.bars.iter().zip(&view.scenarios) {
            pb.set_position((s.fraction() * 1000.0) as u64);
            pb.set_message(status_text(s));
        }
    }

    fn write_lines(&mut self, view: &LiveView) {
        for s in &view.scenarios {
            let _ = writeln!(
                self.out,
                "running ({}) {} {}",
                fmt_secs(view.elapsed),
                s.name,
                status_text(s)
            );
        }
        let _ = self.out.flush();
    }
}

impl LiveSink for Progress {
    fn update(&mut self, view: &LiveView) {
        match self.mode {
            ProgressMode::Off => {}
            ProgressMode::Bars => self.draw_bars(view),
            ProgressMode::Plain { every } => {
                let due = self.last_line.is_none_or(|t| t.elapsed() >= every);
                if due {
                    // the first line only after one interval, so short runs stay quiet
                    if self.last_line.is_some() {
                        self.write_lines(view);
                    }
                    self.last_line = Some(Instant::now());
                }
            }
        }
    }

    fn finish(&mut self, view: &LiveView) {
        match self.mode {
            ProgressMode::Off => {}
            ProgressMode::Bars => {
                self.draw_bars(view);
                for pb in &self.bars {
                    pb.finish();
                }
            }
            ProgressMode::Plain { .. } => self.write_lines(view),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_for_counted_and_timed_scenarios() {
        let counted = ScenarioLive {
            name: "ingest".into(),
            done: 5000,
            total: Some(10000),
            elapsed: Duration::from_secs(21),
            duration: Duration::from_secs(600),
            rps: 234.4,
            ok: 4998,
            failed: 2,
            p95_ms: 41.2,
            vus: 50,
            ..Default::default()
        };
        assert_eq!(
            status_text(&counted),
            "5000/10000 50% | 234 req/s | ok 4998 | failed 2 | p95 41ms | VUs 50 | ETA 21s"
        );
        let timed = ScenarioLive {
            name: "reads".into(),
            elapsed: Duration::from_secs(12),
            duration: Duration::from_secs(50),
            ..Default::default()
        };
        assert!(status_text(&timed).starts_with("12s/50s 24% |"));
        assert!(status_text(&timed).ends_with("ETA 38s"));
        let waiting = ScenarioLive {
            name: "late".into(),
            duration: Duration::from_secs(2),
            starts_in: Some(Duration::from_secs(8)),
            ..Default::default()
        };
        assert_eq!(status_text(&waiting), "waiting (starts in 8s)");
    }

    #[test]
    fn plain_mode_writes_lines_on_interval_and_at_the_end() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map(|mut v| v.extend_from_slice(b)).ok();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let mut p = Progress::new(
            ProgressMode::Plain {
                every: Duration::from_millis(0),
            },
            Box::new(buf.clone()),
        );
        let view = LiveView {
            elapsed: Duration::from_secs(3),
            scenarios: vec![ScenarioLive {
                name: "s".into(),
                ..Default::default()
            }],
        };
        p.update(&view);
        p.update(&view);
        p.finish(&view);
        let text = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with("running (3s) s "));
    }
}
