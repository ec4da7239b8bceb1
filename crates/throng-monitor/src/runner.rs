//! Runs every monitor on its own thread (off the load's threads) from the first to the last
//! second of the run: a sample at the start, one every `every`, one when stopped. Values go
//! into the run's registry as sampled series `monitor:<monitor>.<series>` and into the
//! monitor's report (the series on the run's time axis, errors, facts).
use crate::{build, redact_url, MonitorKind, MonitorSpec, ProcessTarget, SampleCx};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
pub use throng_metrics::monitor::{MonitorReport, MonitorResults, Window};
use throng_metrics::Registry;

fn target_of(spec: &MonitorSpec) -> String {
    match &spec.kind {
        MonitorKind::Prometheus { url, .. } => redact_url(url),
        MonitorKind::Process(ProcessTarget::Pid(p)) => format!("pid {p}"),
        MonitorKind::Process(ProcessTarget::Name(n)) => format!("name {n}"),
        MonitorKind::Process(ProcessTarget::Cgroup(c)) => format!("cgroup {}", c.display()),
        MonitorKind::Log { file, .. } => file.display().to_string(),
        MonitorKind::Http { url, .. } => url.clone(),
        MonitorKind::Postgres { url, .. }
        | MonitorKind::Redis { url, .. }
        | MonitorKind::Promql { url, .. } => redact_url(url),
    }
}

/// The running monitors of one run.
pub struct Runner {
    stops: Vec<mpsc::Sender<()>>,
    handles: Vec<JoinHandle<MonitorReport>>,
    /// Signalled by each monitor once its first sample is taken.
    firsts: Vec<mpsc::Receiver<()>>,
    /// The run's start, which sample times count from (moved by [`Runner::set_start`]).
    start: Arc<Mutex<Instant>>,
}

impl Runner {
    /// Starts one thread per monitor; times count from `start`; artefacts go to `out_dir`.
    pub fn start(
        specs: &[MonitorSpec],
        reg: &Registry,
        start: Instant,
        out_dir: PathBuf,
    ) -> Runner {
        let mut stops = Vec::new();
        let mut handles = Vec::new();
        let mut firsts = Vec::new();
        let start = Arc::new(Mutex::new(start));
        for spec in specs {
            let (tx, rx) = mpsc::channel::<()>();
            let (first_tx, first_rx) = mpsc::sync_channel::<()>(1);
            let spec = spec.clone();
            let reg = reg.clone();
            let out_dir = out_dir.clone();
            let st = start.clone();
            let h = std::thread::Builder::new()
                .name(format!("monitor-{}", spec.name))
                .spawn(move || run_one(spec, reg, st, out_dir, rx, first_tx));
            match h {
                Ok(h) => {
                    stops.push(tx);
                    handles.push(h);
                    firsts.push(first_rx);
                }
                Err(_) => continue,
            }
        }
        Runner {
            stops,
            handles,
            firsts,
            start,
        }
    }

    /// Waits (at most `within` in all) until every monitor has taken its first sample, so
    /// that sample comes before any load: a counter's increase then covers every request.
    pub fn wait_first(&self, within: Duration) {
        let deadline = Instant::now() + within;
        for rx in &self.firsts {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = rx.recv_timeout(left);
        }
    }

    /// The run's start from now on: sample times count from it (a sample taken before it
    /// is at 0 s).
    pub fn set_start(&self, start: Instant) {
        if let Ok(mut s) = self.start.lock() {
            *s = start;
        }
    }

    /// Stops every monitor (each takes a last sample) and returns their reports.
    pub fn finish(self) -> MonitorResults {
        for s in &self.stops {
            let _ = s.send(());
        }
        let monitors = self
            .handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .collect();
        MonitorResults { monitors }
    }
}

fn run_one(
    spec: MonitorSpec,
    reg: Registry,
    start: Arc<Mutex<Instant>>,
    out_dir: PathBuf,
    stop: mpsc::Receiver<()>,
    first: mpsc::SyncSender<()>,
) -> MonitorReport {
    let mut m = build(&spec);
    let mut rep = MonitorReport {
        name: spec.name.clone(),
        kind: spec.kind.name().to_string(),
        target: target_of(&spec),
        every_s: spec.every.as_secs_f64(),
        ..MonitorReport::default()
    };
    let every = spec.every.max(Duration::from_millis(50));
    let mut next = Instant::now();
    let mut stopping = false;
    loop {
        let from = start.lock().map(|s| *s).unwrap_or_else(|e| *e.into_inner());
        let t = Instant::now().saturating_duration_since(from).as_secs_f64();
        let cx = SampleCx {
            elapsed: t,
            out_dir: out_dir.clone(),
        };
        rep.samples += 1;
        match m.sample(&cx) {
            Ok(values) => {
                for v in values {
                    reg.record_sampled(&format!("monitor:{}.{}", spec.name, v.series), t, v.value);
                    rep.series.entry(v.series).or_default().push((t, v.value));
                }
            }
            Err(e) => {
                rep.errors += 1;
                rep.first_error_s.get_or_insert(t);
                rep.last_error = Some(e.0);
            }
        }
        if rep.samples == 1 {
            let _ = first.try_send(());
        }
        if stopping {
            break;
        }
        next += every;
        let now = Instant::now();
        if next < now {
            next = now + every;
        }
        match stop.recv_timeout(next - now) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            _ => {
                // always a last sample at the end of the run: one taken just before may
                // miss the last requests (a counter one short of what was sent)
                stopping = true;
                continue;
            }
        }
    }
    rep.facts = m.facts();
    rep
}
