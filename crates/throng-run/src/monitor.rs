//! The generator watches itself: CPU use and peak memory of this process, read from /proc
//! once a second, so the results can say when throng, not the target, was the bottleneck.
use std::time::Instant;

/// Clock ticks per second of /proc/self/stat (USER_HZ; 100 on every Linux we target).
const CLK_TCK: f64 = 100.0;

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / CLK_TCK)
}

/// Peak resident memory (VmHWM) in bytes.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The generator's CPU use over a run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct CpuUsage {
    /// CPU cores available.
    pub cores: usize,
    /// Average CPU use, % of all cores (`None` where /proc cannot be read).
    pub avg_pct: Option<f64>,
    /// Highest 1-second CPU use, % of all cores.
    pub peak_pct: Option<f64>,
    /// CPU seconds used (user + system).
    pub seconds: Option<f64>,
}

/// Samples CPU use once a second.
pub(crate) struct Monitor {
    cores: usize,
    start: Instant,
    start_cpu: Option<f64>,
    last: (Instant, Option<f64>),
    peak_pct: f64,
}

/// The processors throng's load can use: those it may run on, but no more than the
/// runtime's worker threads (one, on a single-threaded runtime: `THRONG_THREADS=1`), so
/// that a load holding its one thread reads as 100%. (The CPU measured is the whole
/// process's, so threads of its own — name lookups, a raw output's writer, monitors — can
/// take a single-threaded run's figure past 100%.)
fn cores() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match tokio::runtime::Handle::try_current() {
        Ok(h) => cpus.min(h.metrics().num_workers().max(1)),
        Err(_) => cpus,
    }
}

impl Monitor {
    pub fn new() -> Monitor {
        let now = Instant::now();
        let cpu = cpu_seconds();
        Monitor {
            cores: cores(),
            start: now,
            start_cpu: cpu,
            last: (now, cpu),
            peak_pct: 0.0,
        }
    }

    /// Takes a sample (call about once a second).
    pub fn sample(&mut self) {
        let now = Instant::now();
        let cpu = cpu_seconds();
        if let (Some(c), Some(l)) = (cpu, self.last.1) {
            let wall = (now - self.last.0).as_secs_f64();
            if wall > 0.2 {
                let pct = (c - l) / wall / self.cores as f64 * 100.0;
                self.peak_pct = self.peak_pct.max(pct);
            }
        }
        self.last = (now, cpu);
    }

    /// The CPU use since [`Monitor::new`] (takes a last sample).
    pub fn finish(&mut self) -> CpuUsage {
        self.sample();
        let wall = self.start.elapsed().as_secs_f64();
        match (cpu_seconds(), self.start_cpu) {
            (Some(c), Some(s)) if wall > 0.0 => {
                let used = c - s;
                CpuUsage {
                    cores: self.cores,
                    avg_pct: Some(used / wall / self.cores as f64 * 100.0),
                    peak_pct: Some(self.peak_pct),
                    seconds: Some(used),
                }
            }
            _ => CpuUsage {
                cores: self.cores,
                ..CpuUsage::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let mut m = Monitor::new();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        let cpu = m.finish();
        assert!(cpu.cores >= 1);
        assert!(cpu.avg_pct.is_some() && cpu.seconds.is_some());
        assert!(peak_rss().unwrap_or(0) > 1_000_000);
    }
}
