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

/// Samples CPU use once a second.
pub(crate) struct Monitor {
    cores: usize,
    start: Instant,
    start_cpu: Option<f64>,
    last: (Instant, Option<f64>),
    peak_pct: f64,
}

impl Monitor {
    pub fn new() -> Monitor {
        let now = Instant::now();
        let cpu = cpu_seconds();
        Monitor {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
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

    /// (cores, average CPU % of all cores, peak 1-second CPU %, CPU seconds used).
    pub fn finish(&mut self) -> (usize, Option<f64>, Option<f64>, Option<f64>) {
        self.sample();
        let wall = self.start.elapsed().as_secs_f64();
        match (cpu_seconds(), self.start_cpu) {
            (Some(c), Some(s)) if wall > 0.0 => {
                let used = c - s;
                (
                    self.cores,
                    Some(used / wall / self.cores as f64 * 100.0),
                    Some(self.peak_pct),
                    Some(used),
                )
            }
            _ => (self.cores, None, None, None),
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
        let (cores, avg, _, used) = m.finish();
        assert!(cores >= 1);
        assert!(avg.is_some() && used.is_some());
        assert!(peak_rss().unwrap_or(0) > 1_000_000);
    }
}
