//! Monitors and SLOs in whole runs against real servers on 127.0.0.1.
mod common;

use common::{count, plan, plan_in, run_plan};
use throng_demo::{DemoConfig, DemoServer};
use throng_monitor::MonitorReport;
use throng_testkit::CountingServer;

fn monitor<'a>(o: &'a throng_run::RunOutcome, name: &str) -> &'a MonitorReport {
    o.results
        .monitors
        .as_ref()
        .and_then(|m| m.monitors.iter().find(|r| r.name == name))
        .unwrap_or_else(|| panic!("no monitor {name}"))
}

fn last(m: &MonitorReport, series: &str) -> f64 {
    m.series
        .get(series)
        .and_then(|p| p.last())
        .map(|p| p.1)
        .unwrap_or_else(|| panic!("no series {series} in {:?}", m.series.keys()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_counter_delta_equals_the_requests_sent() {
    let d = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let base = format!("http://{}", d.addr());
    let p = plan(
        r#"
base_url: BASE
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 40
    duration: 3s
    preAllocatedVUs: 5
    flow: [ {get: /health} ]
monitors:
  demo: { prometheus: { url: /metrics, select: [demo_requests_received_total, demo_in_flight] } }
thresholds:
  "monitor:demo.demo_requests_received_total": ["delta>100"]
"#,
        &base,
    );
    let o = run_plan(p).await;
    let m = monitor(&o, "demo");
    assert_eq!(m.errors, 0, "{:?}", m.last_error);
    let sent = count(&o, "http_reqs");
    assert!(sent >= 100, "{sent}");
    assert_eq!(last(m, "demo_requests_received_total") as u64, sent);
    assert!(m.series.contains_key("demo_requests_received_total:rate"));
    assert!(m.series.contains_key("demo_in_flight"));
    // a sample at the start and at the end, one a second between
    assert!(m.samples >= 4, "{}", m.samples);
    assert_eq!(o.exit_code.code(), 0, "{}", o.summary);
    assert!(o.results.thresholds[0].ok);
}

/// utime + stime of a process, seconds.
fn cpu_of(pid: u32) -> f64 {
    throng_monitor::process::proc_cpu(pid)
        .map(|c| c.0)
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_burning_one_core_reads_near_100_percent() {
    let Ok(mut child) = std::process::Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
    else {
        return;
    };
    let pid = child.id();
    let s = CountingServer::start().await;
    let p = plan(
        &format!(
            r#"
base_url: BASE
scenarios:
  s: {{ executor: constant-vus, vus: 1, duration: 4s, flow: [ {{get: /delay/100}} ] }}
monitors:
  busy: {{ process: {{ pid: {pid} }} }}
thresholds:
  "monitor:busy.cpu": ["max<10"]
"#
        ),
        &s.url(),
    );
    let (c0, t0) = (cpu_of(pid), std::time::Instant::now());
    let o = run_plan(p).await;
    let truth = (cpu_of(pid) - c0) / t0.elapsed().as_secs_f64() * 100.0;
    let _ = child.kill();
    let _ = child.wait();
    let m = monitor(&o, "busy");
    let cpu = &m.series["cpu"];
    let avg = cpu.iter().map(|p| p.1).sum::<f64>() / cpu.len() as f64;
    // the machine is shared: the child's own /proc time is the truth to compare with
    assert!(
        (avg - truth).abs() < 10.0,
        "monitor {avg:.1}% vs /proc {truth:.1}%"
    );
    if truth >= 90.0 {
        assert!((85.0..=105.0).contains(&avg), "{avg}");
    }
    assert_eq!(last(m, "threads"), 1.0);
    assert!(last(m, "rss") > 0.0 && last(m, "fds") >= 3.0);
    // a failed threshold on a monitor is the only way a monitor changes the exit code
    assert_eq!(o.exit_code.code(), 99, "{}", o.summary);
    assert!(!o.results.thresholds[0].ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_slo_on_a_target_failing_2_of_6_seconds_meets_4_of_6_windows() {
    let s = CountingServer::start().await;
    let p = plan(
        r#"
base_url: BASE
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 20
    duration: 6s
    preAllocatedVUs: 5
    flow: [ {get: /fail-between/2000/4000} ]
slos:
  availability: { objective: "rate(http_req_failed) < 0.5", window: 1s, target: 95% }
  latency: { objective: "p(95)(http_req_duration) < 5000", window: 2s, target: 90% }
"#,
        &s.url(),
    );
    let o = run_plan(p).await;
    let a = &o.results.slos[0];
    assert_eq!((a.windows, a.met), (6, 4), "{:#?}", a.per_window);
    assert!(!a.ok);
    assert!((a.compliance - 4.0 / 6.0).abs() < 1e-9);
    let worst = a.worst.as_ref().expect("worst");
    assert!(worst.start_s == 2.0 || worst.start_s == 3.0, "{worst:?}");
    let l = &o.results.slos[1];
    assert_eq!((l.windows, l.met, l.ok), (3, 3, true));
    assert_eq!(o.exit_code.code(), 99);
    assert!(o.summary.contains("availability"), "{}", o.summary);
    let md = throng_report::markdown(&o.results);
    assert!(
        md.contains("## SLO compliance") && md.contains("| 4/6 |"),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_monitor_counts_the_lines_appended_during_the_run() {
    let dir = std::env::temp_dir().join(format!("throng-log-mon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("app.log");
    std::fs::write(&log, "ERROR before the run is not counted\n").expect("write");
    let s = CountingServer::start().await;
    let p = plan_in(
        r#"
base_url: BASE
scenarios:
  s: { executor: constant-vus, vus: 1, duration: 3s, flow: [ {get: /delay/100} ] }
monitors:
  app: { log: { file: app.log, patterns: { errors: "ERROR", breaker: "circuit open" } }, every: 500ms }
"#,
        &s.url(),
        &dir,
    );
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            std::thread::sleep(std::time::Duration::from_millis(1200));
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&log)
                .expect("open");
            for i in 0..5 {
                writeln!(f, "ERROR number {i}").expect("append");
                writeln!(f, "INFO fine").expect("append");
            }
            write!(f, "circuit open, half a line").expect("append");
            f.flush().expect("flush");
            std::thread::sleep(std::time::Duration::from_millis(600));
            writeln!(f).expect("append");
        })
    };
    let o = run_plan(p).await;
    writer.join().expect("writer");
    let m = monitor(&o, "app");
    assert_eq!(m.errors, 0, "{:?}", m.last_error);
    assert_eq!(last(m, "errors:total"), 5.0);
    assert_eq!(last(m, "breaker:total"), 1.0);
    let first = m
        .facts
        .iter()
        .find(|(k, _)| k == "errors first match")
        .map(|(_, v)| v.clone())
        .expect("fact");
    assert_ne!(first, "none");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_monitors_are_errors_and_leave_the_load_and_exit_code_alone() {
    let s = CountingServer::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let p = plan(
        &format!(
            r#"
base_url: BASE
scenarios:
  s: {{ executor: constant-vus, vus: 2, duration: 2s, flow: [ {{get: /ok}} ] }}
monitors:
  bad: {{ prometheus: {{ url: /bad-metrics }} }}
  gone: {{ prometheus: {{ url: "http://127.0.0.1:{port}/metrics" }} }}
"#
        ),
        &s.url(),
    );
    let o = run_plan(p).await;
    assert_eq!(o.exit_code.code(), 0, "{}", o.summary);
    let bad = monitor(&o, "bad");
    assert!(bad.errors >= 2 && bad.errors == bad.samples, "{bad:?}");
    assert!(
        bad.last_error.as_deref().unwrap_or("").contains("line 3"),
        "{bad:?}"
    );
    let gone = monitor(&o, "gone");
    assert!(gone.errors >= 2, "{gone:?}");
    assert!(gone
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("cannot connect"));
    // the load is unaffected: what throng sent is what the server saw (less the scrapes)
    let scrapes = s.count_prefix("/bad-metrics");
    assert_eq!(count(&o, "http_reqs"), s.count() - scrapes);
    assert!(count(&o, "http_reqs") > 10);
    assert!(o.summary.contains("monitor gone"), "{}", o.summary);
    let md = throng_report::markdown(&o.results);
    assert!(md.contains("cannot connect") && !md.contains("TBD"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windowed_threshold_fails_on_the_one_bad_window_the_whole_run_hides() {
    let s = CountingServer::start().await;
    let p = plan(
        r#"
base_url: BASE
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 20
    duration: 6s
    preAllocatedVUs: 5
    flow: [ {get: /fail-between/2000/4000} ]
thresholds:
  http_req_failed: ["rate<0.5", "rate<0.5 over 2s", "rate<0.5 over 6s", "rate<0.5 over 1m"]
"#,
        &s.url(),
    );
    let o = run_plan(p).await;
    let t = &o.results.thresholds;
    assert_eq!(t.len(), 4);
    // the whole run: a third failed
    assert!(t[0].ok && (t[0].observed - 1.0 / 3.0).abs() < 0.05, "{t:?}");
    // 2 s windows: [2,4) failed all but its edges
    assert!(!t[1].ok && t[1].observed > 0.9, "{t:?}");
    assert_eq!(t[1].expression, "rate<0.5 over 2s");
    // one 6 s window: the whole run again
    assert!(t[2].ok && (t[2].observed - 1.0 / 3.0).abs() < 0.05, "{t:?}");
    // no full 1 m window: nothing judged, it passes
    assert!(t[3].ok, "{t:?}");
    assert_eq!(o.exit_code.code(), 99, "{}", o.summary);
    assert!(o.summary.contains("rate<0.5 over 2s"), "{}", o.summary);
}
