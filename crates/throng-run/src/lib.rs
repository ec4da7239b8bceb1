//! throng-run: one whole run wired together — build the plan's workloads, run the engine,
//! evaluate thresholds every 2 s (abortOnFail), stop gracefully on interrupt, then build the
//! results, write every file and map the outcome to k6's exit codes.
#![warn(missing_docs)]

pub mod control;
mod dash;
mod exit;
mod files;
mod lifecycle;
mod monitor;
mod raw;
mod remote_write;
pub mod servers;

pub use control::ApiControl;
pub use exit::ExitCode;
pub use files::{check_url, write_reports, OutError, ReportFiles};
pub use throng_engine::EngineControl;
pub use throng_flow::{BoxFuture, FlowEnv, HttpDebugMode, ScriptHost};
pub use throng_monitor::parse_flag as parse_monitor_flag;
pub use throng_report::InstanceInfo;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_engine::{Engine, ScenarioSpec};
use throng_flow::FlowWorkload;
use throng_http::{ClientOptions, HttpVersion, SharedConfig};
use throng_live::LiveSink;
use throng_metrics::{scenario_tags, Registry, TagSet, ThresholdSet, ValueType};
use throng_plan::{Http2Mode, Plan};
use throng_report::{Results, RunInfo, ScenarioOutcome};
use tokio_util::sync::CancellationToken;

mod live;

/// Everything one run needs.
pub struct RunRequest {
    /// The validated plan.
    pub plan: Plan,
    /// The plan file as given (for the summary).
    pub plan_file: String,
    /// The files to write at the end.
    pub files: ReportFiles,
    /// Skip threshold evaluation (k6's `--no-thresholds`).
    pub no_thresholds: bool,
    /// Cancelled on Ctrl-C / SIGTERM: the run stops and still writes everything.
    pub interrupt: CancellationToken,
    /// ANSI colours in the summary.
    pub color: bool,
    /// Shows the run while it goes (progress bars, status lines).
    pub live: Option<Box<dyn LiveSink>>,
    /// The command line, for the reports (redact secrets before passing it).
    pub command: Option<String>,
    /// A live dashboard to publish a frame to every second.
    pub dashboard: Option<std::sync::Arc<throng_live::dashboard::Dashboard>>,
    /// A Prometheus `/metrics` endpoint to refresh every second.
    pub prometheus: Option<std::sync::Arc<throng_live::prometheus::PromEndpoint>>,
    /// Print every request and response to stderr (`--http-debug[=full]`).
    pub http_debug: Option<HttpDebugMode>,
    /// Pauses, resumes, scales and stops the run while it goes (the control API and the
    /// dashboard hold a clone); `None`: the run makes its own, unreachable from outside.
    pub control: Option<EngineControl>,
    /// This run is one instance of a scaled-out run: its execution segment, ids and agreed
    /// start; `None`: the whole plan, now.
    pub instance: Option<Instance>,
}

/// One instance of a scaled-out run (`--segment`, `--local-segments`, Kubernetes).
#[derive(Debug, Clone)]
pub struct Instance {
    /// The share of the plan this instance runs.
    pub segment: throng_engine::Segment,
    /// Ids and identity written to the results (`started_at_unix_ms` and `start_skew_ms`
    /// are filled in by the run).
    pub info: throng_report::InstanceInfo,
    /// When the load starts (after `setup:`), by this machine's clock; `None`: at once.
    pub start_at: Option<jiff::Timestamp>,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// k6's exit code.
    pub exit_code: ExitCode,
    /// The results.
    pub results: Results,
    /// The end-of-test summary text.
    pub summary: String,
    /// Runtime errors: files that could not be written, a remote write that lost the final
    /// figures, an engine failure. Any of them makes the process exit 107.
    pub write_errors: Vec<String>,
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The TLS settings are unusable (e.g. a bad CA file).
    #[error(transparent)]
    Tls(#[from] throng_http::TlsError),
    /// An output could not be opened: the file (or folder) and the system's error.
    #[error("cannot open an output: {0}")]
    Output(#[from] throng_report::FileError),
    /// The plan's `preflight:` check did not pass: no load was sent.
    #[error("preflight failed, no load was sent: {0}")]
    Preflight(String),
    /// The plan's `setup:` failed: no load was sent.
    #[error("setup failed, no load was sent: {0}")]
    Setup(String),
    /// The script's `setup()` called `test.abort()`: no load was sent (exit 108, as k6).
    #[error("setup aborted the test, no load was sent: {0}")]
    SetupAborted(String),
    /// A `grpc:` step without a `proto:` whose method reflection did not give: no load
    /// was sent.
    #[error("{0}; no load was sent")]
    Reflection(String),
}

impl RunError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            RunError::Tls(_) => ExitCode::InvalidPlan,
            RunError::SetupAborted(_) => ExitCode::ScriptAborted,
            RunError::Output(_)
            | RunError::Preflight(_)
            | RunError::Setup(_)
            | RunError::Reflection(_) => ExitCode::RuntimeError,
        }
    }
}

fn client_options(plan: &Plan) -> ClientOptions {
    let h = &plan.http;
    ClientOptions {
        version: match h.http2 {
            Http2Mode::Auto => HttpVersion::Auto,
            Http2Mode::Off => HttpVersion::Http1,
            Http2Mode::PriorKnowledge => HttpVersion::Http2PriorKnowledge,
        },
        insecure_skip_tls_verify: h.insecure_skip_tls_verify,
        ca_file: h.ca_file.clone(),
        keepalive: h.keepalive,
        max_redirects: h.max_redirects,
        timeout: h.timeout,
        dns: dns_options(&h.dns),
        http2_sharing: h.http2_sharing.map(|s| throng_http::Http2Sharing {
            connections: s.connections as usize,
            streams: s.streams as usize,
        }),
        ..ClientOptions::default()
    }
}

/// The plan's `dns` option as the client's.
fn dns_options(d: &throng_plan::DnsSettings) -> throng_http::DnsOptions {
    use throng_http::{DnsPolicy as P, DnsSelect as S};
    use throng_plan::{DnsPolicy, DnsSelect};
    throng_http::DnsOptions {
        ttl: d.ttl,
        select: match d.select {
            DnsSelect::First => S::First,
            DnsSelect::Random => S::Random,
            DnsSelect::RoundRobin => S::RoundRobin,
        },
        policy: match d.policy {
            DnsPolicy::PreferIpv4 => P::PreferIpv4,
            DnsPolicy::PreferIpv6 => P::PreferIpv6,
            DnsPolicy::OnlyIpv4 => P::OnlyIpv4,
            DnsPolicy::OnlyIpv6 => P::OnlyIpv6,
            DnsPolicy::Any => P::Any,
        },
    }
}

/// Longest the run waits for the monitors' first samples before the load starts.
const FIRST_SAMPLE_WAIT: Duration = Duration::from_secs(2);

/// Runs a plan to its end.
pub async fn run(req: RunRequest) -> Result<RunOutcome, RunError> {
    run_with(req, None).await
}

/// Runs a plan whose VUs run `host`'s workloads (a script) instead of the plan's flows.
pub async fn run_script(
    req: RunRequest,
    host: Arc<dyn ScriptHost>,
) -> Result<RunOutcome, RunError> {
    run_with(req, Some(host)).await
}

async fn run_with(
    req: RunRequest,
    host: Option<Arc<dyn ScriptHost>>,
) -> Result<RunOutcome, RunError> {
    let instance = req.instance;
    let mut plan = match &instance {
        Some(i) => throng_plan::segment_plan(&req.plan, &i.segment),
        None => req.plan,
    };
    let http = SharedConfig::new(client_options(&plan))?;
    throng_flow::discover_grpc_methods(&mut plan, &http)
        .await
        .map_err(RunError::Reflection)?;
    let plan = Arc::new(plan);
    let reg = Registry::new();
    for m in &plan.custom_metrics {
        let vt = if m.time {
            ValueType::Time
        } else {
            ValueType::Default
        };
        reg.define(&m.name, m.kind, vt);
    }
    // every sample goes to the NDJSON output, the first one of setup's included
    let mut raw_out = {
        let mut writers: Vec<Box<dyn throng_report::SampleWriter>> = Vec::new();
        if let Some(p) = &req.files.ndjson {
            let listed = plan
                .thresholds
                .items
                .iter()
                .map(|t| (t.key.as_str(), t.expr.source.as_str()));
            writers.push(Box::new(
                throng_report::NdjsonWriter::create(p)?.with_thresholds(listed),
            ));
        }
        if let Some(p) = &req.files.csv_samples {
            writers.push(Box::new(throng_report::CsvSampleWriter::create(p)?));
        }
        if writers.is_empty() {
            None
        } else {
            reg.enable_raw();
            Some(raw::RawOutput::start(writers)?)
        }
    };
    let mut env = FlowEnv::new(&plan, reg.clone(), http.clone());
    env.debug = req.http_debug.map(|mode| {
        Arc::new(throng_flow::HttpDebug::new(
            mode,
            &plan.env,
            Box::new(std::io::stderr()),
        ))
    });
    lifecycle::preflight(&plan, &env, &req.interrupt).await?;
    if let Some(values) = lifecycle::setup(&plan, &env, &req.interrupt).await? {
        env.setup_values = values;
    }
    if let Some(h) = &host {
        h.setup(&env).await.map_err(|e| {
            if h.abort_requested().is_cancelled() {
                RunError::SetupAborted(e)
            } else {
                RunError::Setup(e)
            }
        })?;
    }
    let specs: Vec<ScenarioSpec> = plan
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let tags = scenario_tags(&plan.http.tags, &sc.tags, &sc.name);
            ScenarioSpec {
                name: sc.name.clone(),
                executor: sc.executor.clone(),
                start_time: sc.start_time,
                graceful_stop: sc.graceful_stop,
                pacing: sc.pacing,
                tags: reg.intern(TagSet::new(tags)),
                workload: match &host {
                    Some(h) => h.workload(&sc.name, &env),
                    None => Arc::new(FlowWorkload::new(plan.clone(), i, env.clone())),
                },
            }
        })
        .collect();
    let thresholds = if req.no_thresholds {
        ThresholdSet::default()
    } else {
        plan.thresholds.clone()
    };

    // a scaled-out run's instances start their load together at the agreed time
    let mut start_skew_ms = None;
    if let Some(at) = instance.as_ref().and_then(|i| i.start_at) {
        let wait = at.duration_since(jiff::Timestamp::now());
        if let Ok(wait) = Duration::try_from(wait) {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = req.interrupt.cancelled() => {}
            }
        }
        start_skew_ms = Some(jiff::Timestamp::now().duration_since(at).as_secs_f64() * 1000.0);
    }
    // the system under test, sampled on the monitors' own threads from the first second;
    // each one's first sample comes before any load, so a counter's increase covers every
    // request (bounded: a monitor that cannot answer does not hold the run up for long)
    let monitors = (!plan.monitors.is_empty()).then(|| {
        let r = throng_monitor::Runner::start(
            &plan.monitors,
            &reg,
            Instant::now(),
            req.files.artefact_dir(),
        );
        r.wait_first(FIRST_SAMPLE_WAIT);
        r
    });
    let started_at = jiff::Timestamp::now();
    let start = Instant::now();
    if let Some(m) = &monitors {
        m.set_start(start);
    }
    let mut slos = throng_monitor::slo::SloTracker::new(plan.slos.clone());
    // `rate<0.05 over 1m`: judged per window from the same snapshots
    let mut windowed = throng_metrics::WindowedThresholds::new(&thresholds);
    let engine_stop = CancellationToken::new();
    let control = req.control.clone().unwrap_or_default();
    let mut engine =
        Engine::new(reg.clone(), specs, engine_stop.clone()).with_control(control.clone());
    if let Some(i) = &instance {
        engine = engine.with_segment(i.segment.clone());
    }
    let stop_requested = control.stop_requested();
    // per second: the VUs alive at the tick, but for arrival-rate scenarios (whose VUs are
    // busy only while an iteration runs) the most busy at once during the second
    let vu_counters: Vec<(bool, Arc<throng_engine::ScenarioStats>)> = plan
        .scenarios
        .iter()
        .zip(engine.stats())
        .map(|(sc, (_, st))| (sc.executor.is_arrival_rate(), st))
        .collect();
    let vus_in_second = move || -> u64 {
        vu_counters
            .iter()
            .map(|(arrival, st)| {
                let now = st.active.load(Ordering::SeqCst);
                let peak = st.peak_active.swap(now, Ordering::SeqCst);
                if *arrival {
                    peak.max(now)
                } else {
                    now
                }
            })
            .sum()
    };
    let mut live_state = live::LiveState::new(&plan, engine.stats());
    let mut sink = req.live;
    let mut redraw = tokio::time::interval(Duration::from_millis(250));
    redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut handle = tokio::spawn(engine.run());
    let timeline_stop = CancellationToken::new();
    let timeline_cut = CancellationToken::new();
    let timeline_abort = CancellationToken::new();
    let (timeline, timeline_task) =
        throng_flow::timeline::start(throng_flow::timeline::TimelineCx {
            plan: plan.clone(),
            env: env.clone(),
            start,
            stop: timeline_stop.clone(),
            cut: timeline_cut.clone(),
            abort: timeline_abort.clone(),
        });
    let mut monitor = monitor::Monitor::new();
    let mut recorder = throng_report::series::SeriesRecorder::new(&plan);
    if instance.is_some() {
        recorder.keep_second_histograms();
    }
    let (run_id, instance_id) = match &instance {
        Some(i) => (i.info.run_id.clone(), i.info.instance_id.clone()),
        None => (
            format!("{:x}", started_at.as_millisecond()),
            "0".to_string(),
        ),
    };
    let mut remote = req
        .files
        .remote_write
        .as_deref()
        .and_then(|u| remote_write::RemoteWrite::new(u, req.files.k6_names, &run_id, &instance_id))
        .map(remote_write::Pusher::start);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    let mut ticks = 0u64;
    let mut aborted_by: Option<String> = None;
    // judged on nothing yet: collecting the run's registry here would take the first
    // samples away from the per-second series
    let mut last_verdicts = thresholds.evaluate(&Registry::new().collect(), Duration::ZERO);
    let planned_s = plan
        .scenarios
        .iter()
        .map(|s| (s.start_time + s.executor.duration()).as_secs_f64())
        .fold(0.0, f64::max);
    let mut interrupted = false;
    let script_abort = host
        .as_ref()
        .map(|h| h.abort_requested())
        .unwrap_or_default();
    let mut script_aborted = false;
    let engine_report = loop {
        tokio::select! {
            r = &mut handle => break r,
            _ = tick.tick() => {
                ticks += 1;
                monitor.sample();
                let snap = reg.collect();
                // the peak of this second, not an instant that may fall between iterations
                let vus_now = vus_in_second();
                recorder.tick(&snap, start.elapsed().as_secs_f64(), vus_now);
                slos.tick(&snap, start.elapsed().as_secs_f64());
                windowed.tick(&snap, start.elapsed().as_secs_f64());
                if let Some(r) = raw_out.as_mut() {
                    r.send(reg.take_raw(), &snap);
                }
                if let Some(p) = &req.prometheus {
                    p.update(&snap);
                }
                if let Some(r) = &remote {
                    r.offer(&snap);
                }
                live_state.absorb(&snap);
                if let Some(d) = &req.dashboard {
                    d.publish(dash::frame(dash::FrameInput {
                        plan: &plan.name,
                        planned_s,
                        finished: false,
                        snap: &snap,
                        recorder: &recorder,
                        view: &live_state.view(start.elapsed()),
                        thresholds: &thresholds,
                        verdicts: &last_verdicts,
                        actions: &timeline.records(),
                    }));
                }
                if ticks % 2 == 0 && aborted_by.is_none() {
                    let elapsed = start.elapsed();
                    let mut verdicts = thresholds.evaluate(&snap, elapsed);
                    windowed.apply(&mut verdicts);
                    control.set_tainted(!verdicts.iter().all(|v| v.ok));
                    last_verdicts = verdicts.clone();
                    if let Some(t) = thresholds.abort_reason(&verdicts, elapsed) {
                        aborted_by = Some(format!("{} '{}'", t.key, t.expr.source));
                        tracing::warn!("threshold {} '{}' failed: aborting the run", t.key, t.expr.source);
                        engine_stop.cancel();
                    }
                }
            }
            _ = redraw.tick(), if sink.is_some() => {
                if let Some(s) = sink.as_mut() {
                    s.update(&live_state.view(start.elapsed()));
                }
            }
            _ = req.interrupt.cancelled(), if !interrupted => {
                interrupted = true;
                engine_stop.cancel();
            }
            // `PATCH /v1/status {"stopped": true}` (k6's stop): ends as an interrupt does
            _ = stop_requested.cancelled(), if !interrupted => {
                interrupted = true;
                engine_stop.cancel();
            }
            _ = script_abort.cancelled(), if !script_aborted => {
                script_aborted = true;
                aborted_by = Some(script_abort_text(host.as_deref()));
                tracing::warn!("{}: aborting the run", aborted_by.as_deref().unwrap_or(""));
                engine_stop.cancel();
            }
            _ = timeline_abort.cancelled(), if aborted_by.is_none() => {
                aborted_by = timeline.aborted_by();
                tracing::warn!("{}: aborting the run", aborted_by.as_deref().unwrap_or("an action failed"));
                engine_stop.cancel();
            }
        }
    };
    let elapsed = start.elapsed();
    // an abort in the run's last iteration, after the engine ended
    if !script_aborted && script_abort.is_cancelled() {
        script_aborted = true;
        aborted_by = Some(script_abort_text(host.as_deref()));
    }
    // actions still running finish within their bounds, unless the run was stopped
    timeline_stop.cancel();
    if interrupted || aborted_by.is_some() {
        timeline_cut.cancel();
    }
    let mut timeline_task = timeline_task;
    loop {
        tokio::select! {
            _ = &mut timeline_task => break,
            _ = req.interrupt.cancelled(), if !interrupted => {
                interrupted = true;
                timeline_cut.cancel();
            }
        }
    }
    let mut actions = timeline.records();
    // a failed action fails the verdict; a failed teardown is reported, not judged
    let actions_ok = actions.iter().all(|a| a.ok);
    if let Some(td) = lifecycle::teardown(&plan, &env, start).await {
        actions.push(td);
    }
    // a script's teardown that throws makes the run exit 107, one that calls
    // test.abort() 108 (as k6)
    let mut teardown_failed = false;
    if let Some(h) = &host {
        if let Err(e) = h.teardown(&env).await {
            tracing::error!("teardown failed: {e}");
            teardown_failed = true;
        }
    }
    if !script_aborted && script_abort.is_cancelled() {
        script_aborted = true;
        teardown_failed = false;
        aborted_by = Some(script_abort_text(host.as_deref()));
    }
    // the monitors' last samples come before the final snapshot, so thresholds see them
    let monitor_results = match monitors {
        Some(m) => tokio::task::spawn_blocking(move || m.finish()).await.ok(),
        None => None,
    };
    let snap = reg.collect();
    recorder.tick(&snap, elapsed.as_secs_f64(), vus_in_second());
    slos.tick(&snap, elapsed.as_secs_f64());
    windowed.tick(&snap, elapsed.as_secs_f64());
    windowed.finish(elapsed.as_secs_f64());
    let slo_results = slos.finish(
        elapsed.as_secs_f64(),
        monitor_results.as_ref().unwrap_or(&Default::default()),
    );
    let slos_ok = req.no_thresholds || slo_results.iter().all(|s| s.ok);
    if let Some(p) = &req.prometheus {
        p.update(&snap);
    }
    let mut remote_failures = Vec::new();
    if let Some(r) = remote.take() {
        // the last push carries the final counts: a failure there loses data
        if let Some(last) = r.finish(&snap).await.last() {
            remote_failures.push(format!("remote write failed: {last}"));
        }
    }
    let mut raw_error = None;
    if let Some(mut r) = raw_out.take() {
        r.send(reg.take_raw(), &snap);
        raw_error = r.finish().err();
    }
    if let Some(s) = sink.as_mut() {
        live_state.absorb(&snap);
        s.finish(&live_state.view(elapsed));
    }
    let mut verdicts = thresholds.evaluate(&snap, elapsed);
    windowed.apply(&mut verdicts);
    let thresholds_ok = verdicts.iter().all(|v| v.ok);
    if let Some(d) = &req.dashboard {
        live_state.absorb(&snap);
        d.publish(dash::frame(dash::FrameInput {
            plan: &plan.name,
            planned_s,
            finished: true,
            snap: &snap,
            recorder: &recorder,
            view: &live_state.view(elapsed),
            thresholds: &thresholds,
            verdicts: &verdicts,
            actions: &actions,
        }));
    }
    // an engine task that panicked is a runtime error, never a run with zero iterations
    let (engine_report, engine_error) = match engine_report {
        Ok(r) => (Some(r), None),
        Err(e) => (
            None,
            Some(format!(
                "the engine stopped unexpectedly: {}",
                panic_text(e)
            )),
        ),
    };
    // a VU's init error stops the run as an abort does, but is the script's error
    let script_error = script_aborted && host.as_ref().is_some_and(|h| h.script_error().is_some());
    let exit_code = if engine_error.is_some() || teardown_failed || script_error {
        ExitCode::RuntimeError
    } else if script_aborted {
        ExitCode::ScriptAborted
    } else if interrupted {
        ExitCode::Interrupted
    } else if !thresholds_ok || !actions_ok || !slos_ok {
        ExitCode::ThresholdsFailed
    } else {
        ExitCode::Ok
    };
    let stats = engine_report.map(|r| r.scenarios).unwrap_or_default();
    let scenarios = plan
        .scenarios
        .iter()
        .map(|sc| {
            let st = stats
                .iter()
                .find(|(n, _)| *n == sc.name)
                .map(|(_, s)| *s)
                .unwrap_or_default();
            ScenarioOutcome {
                name: sc.name.clone(),
                executor: sc.executor.name().to_string(),
                description: sc.executor.describe(sc.graceful_stop).to_string(),
                max_vus: sc.executor.max_vus(),
                completed: st.completed,
                interrupted: st.interrupted,
                dropped: st.dropped,
                failed: st.failed,
            }
        })
        .collect();
    let info = RunInfo {
        plan: plan.name.clone(),
        plan_file: req.plan_file.clone(),
        target: plan.base_url.clone(),
        started_at: started_at.to_string(),
        duration_ms: elapsed.as_secs_f64() * 1000.0,
        interrupted,
        aborted_by,
        exit_code: exit_code.code(),
        // env values used as signing keys are secret whatever their names
        command: (req.command.as_deref()).map(|c| throng_metrics::redact::values(c, &plan.secrets)),
    };
    // one per-second series: the recorder's, rolled up where old so memory stays bounded
    let series = recorder.finish();
    let mut results = Results::build(
        &snap,
        &thresholds,
        &verdicts,
        info,
        scenarios,
        series.timeline,
    );
    results.set_trend_stats(&snap, &plan.trend_stats);
    results.seconds = series.seconds;
    results.by_name = series.by_name;
    results.by_scenario = series.by_scenario;
    results.phases = series.phases;
    results.failures = series.failures;
    results.actions = actions;
    results.monitors = monitor_results;
    results.slos = slo_results;
    results.instance = instance.map(|i| throng_report::InstanceInfo {
        started_at_unix_ms: started_at.as_millisecond(),
        start_skew_ms,
        ..i.info
    });
    let cpu = monitor.finish();
    results.generator = Some(
        throng_report::GeneratorInfo {
            cores: cpu.cores,
            cpu_avg_pct: cpu.avg_pct,
            cpu_peak_pct: cpu.peak_pct,
            cpu_seconds: cpu.seconds,
            peak_rss_bytes: monitor::peak_rss(),
            schedule_lag_p99_ms: snap
                .aggregate(snap.builtin().schedule_lag, &[])
                .and_then(|a| a.trend().map(|t| t.percentile(99.0))),
            dropped_iterations: snap.count(snap.builtin().dropped_iterations, &[]) as u64,
            ..Default::default()
        }
        .judge(),
    );
    let summary = throng_report::render_summary(&results, req.color);
    let mut write_errors: Vec<String> = engine_error.into_iter().collect();
    write_errors.extend(files::write_reports(&results, &req.files));
    write_errors.extend(remote_failures);
    if let Some(e) = raw_error {
        write_errors.push(format!(
            "cannot write the sample output (--out json/csv): {e}"
        ));
    }
    Ok(RunOutcome {
        exit_code,
        results,
        summary,
        write_errors,
    })
}

/// `test.abort(): message`, for the summary's `aborted_by`.
fn script_abort_text(host: Option<&dyn ScriptHost>) -> String {
    if let Some(e) = host.and_then(|h| h.script_error()) {
        return format!("script error: {e}");
    }
    match host.and_then(|h| h.abort_reason()) {
        Some(r) if !r.is_empty() => format!("test.abort(): {r}"),
        _ => "test.abort()".to_string(),
    }
}

/// What a panicked task said, for the error line.
fn panic_text(e: tokio::task::JoinError) -> String {
    if e.is_cancelled() {
        return "cancelled".into();
    }
    let p = e.into_panic();
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

#[cfg(test)]
mod tests {
    use super::panic_text;

    #[tokio::test]
    async fn a_panicked_task_is_named_by_its_message() {
        let e = tokio::spawn(async { panic!("boom at step 3") })
            .await
            .expect_err("panics");
        assert_eq!(panic_text(e), "boom at step 3");
        let n = 7;
        let e = tokio::spawn(async move { panic!("formatted {n}") })
            .await
            .expect_err("panics");
        assert_eq!(panic_text(e), "formatted 7");
    }
}
