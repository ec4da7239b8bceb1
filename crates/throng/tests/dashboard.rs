//! The live dashboard in a real browser: frames arrive while the run goes, and the page's
//! numbers match the run's summary.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use throng_demo::{DemoConfig, DemoServer};

fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

/// Writes `yaml` to a folder of its own (`name`) and starts `throng run` on it with the
/// dashboard on a free port and `extra` flags; returns the run, the dashboard's address and
/// the folder.
fn run_with_dashboard(
    name: &str,
    yaml: &str,
    url: &str,
    extra: &[&str],
) -> (std::process::Child, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("throng-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = dir.join("p.yaml");
    std::fs::write(&plan, yaml).expect("plan");
    let mut child = Command::new(env!("CARGO_BIN_EXE_throng"))
        .arg("run")
        .arg(&plan)
        .args(["-e", &format!("URL={url}")])
        .args(["--dashboard", "127.0.0.1:0", "--no-color", "--quiet"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("line");
    let addr = line
        .trim()
        .strip_prefix("dashboard: http://")
        .unwrap_or_else(|| panic!("no dashboard line: {line}"))
        .to_string();
    // keep reading stderr: a closed pipe would end the run at its next line
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (child, addr, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_live_charts_that_match_the_summary() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let (mut child, addr, dir) = run_with_dashboard(
        "dash",
        "scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 4s\n    flow: [ {get: \"{{env.URL}}/health\", check: {status: 200}}, {sleep: 20ms} ]\nthresholds:\n  http_req_duration: [\"p(95)<1000\"]\n",
        &server.url(),
        &["--dashboard-linger"],
    );
    // frames arrive while the run goes
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mid: serde_json::Value =
        serde_json::from_str(&http_get(&addr, "/api/state")).expect("state json");
    assert_eq!(mid["latest"]["status"], "running", "{mid}");
    assert!(
        mid["history"].as_array().map(|h| h.len()).unwrap_or(0) >= 2,
        "{mid}"
    );
    // wait for the summary; the dashboard lingers with the final state
    let stdout = child.stdout.take().expect("stdout");
    let total: u64 = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.trim()
                    .strip_prefix("total requests:")
                    .and_then(|v| v.trim().parse().ok())
            })
            .expect("summary")
    })
    .await
    .expect("join");
    assert_eq!(total, server.requests());

    let Some(mut c) = throng_testkit::chromium(&dir.join("profile")) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let o = c
        .args(["--virtual-time-budget=3000", "--dump-dom"])
        .arg(format!("http://{addr}/"))
        .output()
        .expect("chromium");
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dom.contains(&format!(r#"id="total-reqs">{total}<"#)),
        "{dom}"
    );
    assert!(
        dom.contains(r#"id="status" class="finished">finished<"#),
        "{dom}"
    );
    for id in ["chart-rps", "chart-latency", "chart-vus"] {
        let at = dom.find(&format!(r#"id="{id}""#)).expect("chart");
        let n: usize = dom[at..]
            .split("data-points=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n >= 3, "{id} received {n} points");
    }
    assert!(
        dom.contains("p(95)&lt;1000") || dom.contains("p(95)<1000"),
        "thresholds missing"
    );
    assert!(dom.contains("status is 200"), "checks missing");
    assert!(
        !dom.contains("cdn") && !dom.contains("src=\"http"),
        "no external scripts"
    );
}

/// The page's pause/resume button and VU count input, clicked in headless Chromium (over
/// the DevTools protocol): the run pauses (the demo target sees nothing), scales and
/// resumes, and a count above maxVUs shows the API's error on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_buttons_pause_resume_and_scale_the_run() {
    let cfg = DemoConfig {
        latency: throng_demo::Latency::Fixed(Duration::from_millis(50)),
        ..DemoConfig::default()
    };
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("demo");
    let (mut child, addr, dir) = run_with_dashboard(
        "dash-ctl",
        "scenarios:\n  live:\n    executor: externally-controlled\n    vus: 2\n    maxVUs: 6\n    duration: 30s\n    flow: [ {get: \"{{env.URL}}/api/v1/items\"} ]\n",
        &server.url(),
        &[],
    );
    let status = |addr: &str| -> serde_json::Value {
        let doc: serde_json::Value =
            serde_json::from_str(&http_get(addr, "/v1/status")).expect("status json");
        doc["data"]["attributes"].clone()
    };
    // the API answers once the run is attached to it (just after the announcement)
    let t0 = std::time::Instant::now();
    while status(&addr)["vus"] != 2 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&addr)["vus-max"], 6);
    let page_url = format!("http://{addr}/");
    let (a, srv) = (addr.clone(), &server);
    let checked = tokio::task::block_in_place(move || {
        let Some(mut page) = throng_testkit::cdp::Page::open(&dir.join("profile"), &page_url)
        else {
            return false;
        };
        let shown = r#"!document.getElementById("controls").hidden && document.getElementById("vus-input").value === "2""#;
        assert!(
            page.wait_for(shown, Duration::from_secs(10)),
            "controls never shown"
        );
        page.eval(r#"document.getElementById("pause-btn").click()"#);
        assert!(page.wait_for(
            r#"document.getElementById("pause-btn").textContent === "Resume""#,
            Duration::from_secs(5)
        ));
        assert_eq!(status(&a)["paused"], true);
        std::thread::sleep(Duration::from_millis(150));
        let held = srv.requests();
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(srv.requests(), held, "requests while paused from the page");
        assert!(page.wait_for(
            r#"document.getElementById("status").textContent === "paused""#,
            Duration::from_secs(3)
        ));

        page.eval(r#"(()=>{const i=document.getElementById("vus-input");i.value="5";document.getElementById("scale-btn").click();})()"#);
        page.eval(r#"document.getElementById("pause-btn").click()"#);
        assert!(page.wait_for(
            r#"document.getElementById("pause-btn").textContent === "Pause""#,
            Duration::from_secs(5)
        ));
        std::thread::sleep(Duration::from_millis(400));
        let s = status(&a);
        assert_eq!(
            (s["paused"].clone(), s["vus"].clone()),
            (false.into(), 5.into()),
            "{s}"
        );
        let n0 = srv.requests();
        std::thread::sleep(Duration::from_millis(500));
        assert!(srv.requests() > n0 + 20, "5 VUs at 50 ms after resuming");

        page.eval(r#"(()=>{const i=document.getElementById("vus-input");i.value="9";document.getElementById("scale-btn").click();})()"#);
        assert!(
            page.wait_for(
                r#"document.getElementById("control-msg").textContent.includes("maxVUs (6)")"#,
                Duration::from_secs(5)
            ),
            "{}",
            page.eval(r#"document.getElementById("control-msg").textContent"#)
        );
        assert_eq!(status(&a)["vus"], 5);
        true
    });
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("clicked in chromium: {checked}");
}
