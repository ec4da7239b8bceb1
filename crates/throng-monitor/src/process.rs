//! `process:` one process from /proc (`pid`, or `name`: looked up again when it goes
//! away) — `cpu` (% of one core over the interval), `rss` (bytes), `threads`, `fds` — or a
//! cgroup v2 folder (`cgroup`) — `cpu` from `cpu.stat`, `memory` from `memory.current`,
//! `pids` from `pids.current`.
use crate::{Monitor, MonitorError, ProcessTarget, SampleCx, Value};
use std::path::Path;
use std::time::Instant;

/// Clock ticks per second of /proc/PID/stat (USER_HZ; 100 on every Linux we target).
const CLK_TCK: f64 = 100.0;

/// The process monitor.
pub struct ProcessMonitor {
    target: ProcessTarget,
    pid: Option<u32>,
    last_cpu: Option<(Instant, f64, u32)>,
}

impl ProcessMonitor {
    /// A monitor of `target`.
    pub fn new(target: ProcessTarget) -> ProcessMonitor {
        ProcessMonitor {
            target,
            pid: None,
            last_cpu: None,
        }
    }

    fn resolve(&mut self) -> Result<u32, MonitorError> {
        match &self.target {
            ProcessTarget::Pid(p) => Ok(*p),
            ProcessTarget::Name(n) => {
                if let Some(p) = self
                    .pid
                    .filter(|p| Path::new(&format!("/proc/{p}")).exists())
                {
                    return Ok(p);
                }
                let p = find_by_name(n)
                    .ok_or_else(|| MonitorError(format!("no process named {n:?}")))?;
                self.pid = Some(p);
                Ok(p)
            }
            ProcessTarget::Cgroup(_) => Err(MonitorError("a cgroup has no pid".into())),
        }
    }

    fn cpu_pct(&mut self, id: u32, cpu_s: f64) -> Option<f64> {
        let now = Instant::now();
        let prev = self.last_cpu.replace((now, cpu_s, id));
        let (at, c, pid) = prev?;
        let wall = (now - at).as_secs_f64();
        (pid == id && wall > 0.05).then(|| ((cpu_s - c) / wall * 100.0).max(0.0))
    }
}

/// utime + stime of a process, in seconds, and its start time in ticks.
pub fn proc_cpu(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let start: u64 = f.get(19)?.parse().ok()?;
    Some(((utime + stime) / CLK_TCK, start))
}

fn status_field(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The oldest process other than this one whose name is `name` or whose command line
/// contains it.
fn find_by_name(name: &str) -> Option<u32> {
    let me = std::process::id();
    let mut best: Option<(u64, u32)> = None;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        if comm.trim() != name && !cmd.contains(name) {
            continue;
        }
        let Some((_, start)) = proc_cpu(pid) else {
            continue;
        };
        if best.is_none_or(|(s, _)| start < s) {
            best = Some((start, pid));
        }
    }
    best.map(|(_, p)| p)
}

fn read_num(p: &Path) -> Result<f64, MonitorError> {
    let s = std::fs::read_to_string(p)
        .map_err(|e| MonitorError(format!("cannot read {}: {e}", p.display())))?;
    s.trim()
        .parse()
        .map_err(|_| MonitorError(format!("{}: not a number: {:?}", p.display(), s.trim())))
}

fn cgroup(dir: &Path) -> Result<(f64, Vec<Value>), MonitorError> {
    let stat_p = dir.join("cpu.stat");
    let stat = std::fs::read_to_string(&stat_p)
        .map_err(|e| MonitorError(format!("cannot read {}: {e}", stat_p.display())))?;
    let usec = stat
        .lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| MonitorError(format!("{}: no usage_usec", stat_p.display())))?;
    let mut v = vec![];
    if let Ok(m) = read_num(&dir.join("memory.current")) {
        v.push(Value::new("memory", m));
    }
    if let Ok(p) = read_num(&dir.join("pids.current")) {
        v.push(Value::new("pids", p));
    }
    Ok((usec / 1e6, v))
}

impl Monitor for ProcessMonitor {
    fn sample(&mut self, _cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        if let ProcessTarget::Cgroup(dir) = &self.target {
            let (cpu, mut v) = cgroup(dir)?;
            if let Some(pct) = self.cpu_pct(0, cpu) {
                v.insert(0, Value::new("cpu", pct));
            }
            return Ok(v);
        }
        let pid = self.resolve()?;
        let Some((cpu, _)) = proc_cpu(pid) else {
            self.pid = None;
            return Err(MonitorError(format!("process {pid} is gone")));
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| MonitorError(format!("cannot read /proc/{pid}/status: {e}")))?;
        let mut v = Vec::new();
        if let Some(pct) = self.cpu_pct(pid, cpu) {
            v.push(Value::new("cpu", pct));
        }
        if let Some(kb) = status_field(&status, "VmRSS:") {
            v.push(Value::new("rss", kb * 1024.0));
        }
        if let Some(t) = status_field(&status, "Threads:") {
            v.push(Value::new("threads", t));
        }
        if let Ok(d) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            v.push(Value::new("fds", d.count() as f64));
        }
        Ok(v)
    }

    fn facts(&self) -> Vec<(String, String)> {
        self.pid
            .or(match self.target {
                ProcessTarget::Pid(p) => Some(p),
                _ => None,
            })
            .map(|p| vec![("pid".to_string(), p.to_string())])
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sleeping_child() {
        let mut child = match std::process::Command::new("sleep").arg("5").spawn() {
            Ok(c) => c,
            Err(_) => return,
        };
        let cx = SampleCx {
            elapsed: 0.0,
            out_dir: std::path::PathBuf::from("."),
        };
        let mut m = ProcessMonitor::new(ProcessTarget::Pid(child.id()));
        let v = m.sample(&cx).expect("sample");
        assert!(v.iter().any(|v| v.series == "rss" && v.value > 0.0));
        assert!(v.iter().any(|v| v.series == "threads" && v.value == 1.0));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let v = m.sample(&cx).expect("sample");
        assert!(
            v.iter().any(|v| v.series == "cpu" && v.value < 20.0),
            "{v:?}"
        );
        let _ = child.kill();
        let _ = child.wait();
        assert!(m.sample(&cx).is_err());
        let mut missing = ProcessMonitor::new(ProcessTarget::Name("no-such-process-xyz".into()));
        assert!(missing.sample(&cx).is_err());
    }
}
