//! `throng pause|resume|scale|status` against a running `throng run --address`: what they
//! print (k6's status lines), their exit codes, and the load the demo target sees change.
mod common;

use common::{text, throng};
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer, Latency};

/// Kills the run when the test ends, passed or not.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ctl(addr: &str, args: &[&str]) -> Output {
    throng()
        .args(args)
        .args(["--address", addr])
        .output()
        .expect("runs")
}

/// Requests the server counts over `d`, per second.
async fn rate(server: &DemoServer, d: Duration) -> f64 {
    let (n0, t0) = (server.requests(), Instant::now());
    tokio::time::sleep(d).await;
    (server.requests() - n0) as f64 / t0.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_scale_and_status_drive_a_running_plan() {
    let cfg = DemoConfig {
        latency: Latency::Fixed(Duration::from_millis(50)),
        ..DemoConfig::default()
    };
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-ctl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = dir.join("live.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  live:\n    executor: externally-controlled\n    vus: 2\n    maxVUs: 6\n    duration: 30s\n    flow: [ {get: \"{{env.URL}}/api/v1/items\"} ]\n",
    )
    .expect("plan");
    let mut child = throng()
        .arg("run")
        .arg(&plan)
        .args(["-e", &format!("URL={}", server.url())])
        .args(["--address", "127.0.0.1:0", "--quiet", "--no-color"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = BufReader::new(child.stderr.take().expect("stderr"));
    let run = Run(child);
    let addr = err
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("control API: http://")
                .and_then(|a| a.strip_suffix("/v1/status"))
                .map(str::to_string)
        })
        .expect("the run announces its control API");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let o = ctl(&addr, &["status"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "paused: false\nrunning: true\nstopped: false\ntainted: false\nvus: 2\nvus-max: 6\n"
    );
    let two = rate(&server, Duration::from_secs(1)).await;

    let o = ctl(&addr, &["pause"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("paused: true\n"));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let held = server.requests();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.requests(), held, "requests while paused");

    let o = ctl(&addr, &["resume"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("paused: false\n"));
    let o = ctl(&addr, &["scale", "--vus", "6"]);
    assert!(o.status.success(), "{}", text(&o));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let o = ctl(&addr, &["status"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("vus: 6\n"),
        "{}",
        text(&o)
    );
    let six = rate(&server, Duration::from_secs(1)).await;
    assert!(
        six > 2.4 * two,
        "2 VUs {two:.1} req/s, 6 VUs {six:.1} req/s"
    );

    // above maxVUs: a clear error naming maxVUs, exit 104, nothing changed
    let o = ctl(&addr, &["scale", "--vus", "7"]);
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.starts_with("error: cannot scale to 7 VUs: above maxVUs (6)"),
        "{e}"
    );
    // raising maxVUs with it is allowed, as `k6 scale --vus 8 --max 8`
    let o = ctl(&addr, &["scale", "--vus", "8", "--max", "8"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("vus-max: 8\n"),
        "{}",
        text(&o)
    );
    drop(run);
    eprintln!("2 VUs {two:.1} req/s, 6 VUs {six:.1} req/s");

    // nothing listening: exit 107 and the flag to use
    let o = ctl(&addr, &["status"]);
    assert_eq!(o.status.code(), Some(107), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach a running throng"));
    let o = throng().args(["scale"]).output().expect("runs");
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
}
