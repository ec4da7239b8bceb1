//! Secrets never reach an output: a quick run and a plan run with secrets in `-H`, in `-e`
//! and in plan headers write every output there is (summary, results JSON, HTML, Markdown,
//! JUnit, Locust CSV, NDJSON, summary export, dashboard state and SSE, Prometheus exposition,
//! `--print-plan`, debug logging), and none of them contains a secret value. The server is
//! checked to have received every secret, so the secrets were really used.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use throng_testkit::CountingServer;

const BEARER: &str = "bearer-s3cr3t-1f9e7a";
const COOKIE: &str = "cookie-s3cr3t-77b2c4";
const API_KEY: &str = "apikey-s3cr3t-0d6e51";
const TOKEN_HDR: &str = "tokenhdr-s3cr3t-a1b2";
const PASSWORD: &str = "passw0rd-s3cr3t-9c3d";
const PLAN_AUTH: &str = "planauth-s3cr3t-4e8f";
const PLAN_SECRET: &str = "planhdr-s3cr3t-5a6b";
const ENV_FILE: &str = "envfile-s3cr3t-6c7d";

const ALL: [&str; 8] = [
    BEARER,
    COOKIE,
    API_KEY,
    TOKEN_HDR,
    PASSWORD,
    PLAN_AUTH,
    PLAN_SECRET,
    ENV_FILE,
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// GET with a deadline: the body read until close or until `wait` passes (for SSE).
fn http_get(addr: &str, path: &str, wait: Duration) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(200))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let until = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < until {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&out).to_string();
    text.starts_with("HTTP/1.1 200").then_some(text)
}

/// Polls an address until it answers `path` with 200.
fn wait_for(addr: &str, path: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if http_get(addr, path, Duration::from_millis(500)).is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The names of `(what, text)` pairs that contain a secret, with the secret.
fn leaks(outputs: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (what, text) in outputs {
        for s in ALL {
            if text.contains(s) {
                let at = text.find(s).unwrap_or(0);
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                let to = (at + s.len() + 40).min(text.len());
                let to = (to..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                found.push(format!("{what}: {s} in …{}…", &text[from..to]));
            }
        }
    }
    found
}

/// Runs `throng` with `args`, scraping the dashboard (state and SSE) and the Prometheus
/// endpoint while it runs; returns every output as `(what, text)`.
fn run_with_live(label: &str, args: &[String], dir: &Path) -> Vec<(String, String)> {
    let dash = format!("127.0.0.1:{}", free_port());
    let prom = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args(args)
        .args(["--dashboard", &dash, "--prometheus", &prom, "--no-color"])
        .env("THRONG_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn throng");
    let mut outputs = Vec::new();
    assert!(
        wait_for(&dash, "/api/state"),
        "{label}: dashboard never came up"
    );
    // let a few frames with requests in them arrive
    std::thread::sleep(Duration::from_millis(1500));
    let state = http_get(&dash, "/api/state", Duration::from_secs(2)).expect("state");
    assert!(state.contains("running"), "{label}: {state}");
    outputs.push((format!("{label} dashboard /api/state"), state));
    let sse = http_get(&dash, "/events", Duration::from_millis(1500)).expect("sse");
    assert!(sse.contains("data:"), "{label}: no SSE frame: {sse}");
    outputs.push((format!("{label} dashboard /events"), sse));
    let page = http_get(&dash, "/", Duration::from_secs(2)).expect("page");
    outputs.push((format!("{label} dashboard page"), page));
    let metrics = http_get(&prom, "/metrics", Duration::from_secs(2)).expect("metrics");
    assert!(metrics.contains("http_reqs"), "{label}: {metrics}");
    outputs.push((format!("{label} prometheus /metrics"), metrics));
    let out = child.wait_with_output().expect("wait");
    push_process(label, &out, &mut outputs);
    for f in files(dir) {
        let bytes = std::fs::read(&f).expect("read output");
        outputs.push((
            format!("{label} file {}", f.display()),
            String::from_utf8_lossy(&bytes).to_string(),
        ));
    }
    outputs
}

fn push_process(label: &str, out: &Output, outputs: &mut Vec<(String, String)>) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{label}: {stdout}\n{stderr}");
    outputs.push((format!("{label} stdout"), stdout));
    outputs.push((format!("{label} stderr"), stderr));
}

/// The report flags, every output into `dir`.
fn report_flags(dir: &Path) -> Vec<String> {
    let p = |name: &str| dir.join(name).display().to_string();
    vec![
        "--results".into(),
        p("results.json"),
        "--summary-export".into(),
        p("summary.json"),
        "--html".into(),
        p("report.html"),
        "--md".into(),
        p("report.md"),
        "--junit".into(),
        p("junit.xml"),
        "--csv".into(),
        p("locust"),
        "--out".into(),
        format!("json={}", p("samples.ndjson")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_contains_a_secret() {
    let server = CountingServer::start().await;
    let url = server.url();
    let base = std::env::temp_dir().join(format!("throng-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let quick_dir = base.join("quick");
    let run_dir = base.join("run");
    std::fs::create_dir_all(&quick_dir).expect("dir");
    std::fs::create_dir_all(&run_dir).expect("dir");

    let secret_flags: Vec<String> = vec![
        "-H".into(),
        format!("Authorization: Bearer {BEARER}"),
        "-H".into(),
        format!("Cookie: sid={COOKIE}"),
        "-H".into(),
        format!("X-API-Key: {API_KEY}"),
        "-H".into(),
        format!("X-Session-Token: {TOKEN_HDR}"),
        "-e".into(),
        format!("PASSWORD={PASSWORD}"),
    ];

    // quick: a run with every output, then --print-plan
    let mut quick: Vec<String> = vec!["quick".into(), format!("{url}/q"), "-z".into(), "4s".into()];
    quick.extend(["-c".into(), "2".into()]);
    quick.extend(secret_flags.clone());
    quick.extend(report_flags(&quick_dir));
    let q = quick.clone();
    let qd = quick_dir.clone();
    let mut outputs = tokio::task::spawn_blocking(move || run_with_live("quick", &q, &qd))
        .await
        .expect("quick run");
    let mut print: Vec<String> = vec!["quick".into(), format!("{url}/q"), "--print-plan".into()];
    print.extend(secret_flags.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_throng"))
            .args(&print)
            .env("THRONG_LOG", "trace")
            .output()
            .expect("print-plan")
    })
    .await
    .expect("print-plan");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Authorization"),
        "--print-plan shows the header names"
    );
    push_process("quick --print-plan", &out, &mut outputs);

    // run: a plan with secrets in its headers, from -e and written in
    let plan = base.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "defaults:\n  headers:\n    Authorization: \"Bearer {PLAN_AUTH}\"\n\
             scenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n    duration: 4s\n    flow:\n\
             \x20     - get: \"{{{{env.URL}}}}/p\"\n        headers:\n          X-Password: \"{{{{env.PASSWORD}}}}\"\n          X-Client-Secret: \"{PLAN_SECRET}\"\n          X-Db-Token: \"{{{{env.DB_TOKEN}}}}\"\n        check: {{status: 200}}\n\
             \x20     - sleep: 20ms\n"
        ),
    )
    .expect("plan");
    let env_file = base.join("secrets.env");
    std::fs::write(&env_file, format!("DB_TOKEN={ENV_FILE}\n")).expect("env file");
    let mut run: Vec<String> = vec!["run".into(), plan.display().to_string()];
    run.extend(["--env-file".into(), env_file.display().to_string()]);
    run.extend(["-e".into(), format!("URL={url}")]);
    run.extend(["-e".into(), format!("PASSWORD={PASSWORD}")]);
    run.extend(["-H".into(), format!("Authorization: Bearer {BEARER}")]);
    run.extend(report_flags(&run_dir));
    let r = run.clone();
    let rd = run_dir.clone();
    // `run` may not take -H: then run without it
    let has_h = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args(["run", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("--header"))
        .unwrap_or(false);
    let r: Vec<String> = if has_h {
        r
    } else {
        let mut v = r.clone();
        if let Some(i) = v.iter().position(|a| a == "-H") {
            v.drain(i..i + 2);
        }
        v
    };
    outputs.extend(
        tokio::task::spawn_blocking(move || run_with_live("run", &r, &rd))
            .await
            .expect("plan run"),
    );
    let mut print: Vec<String> = vec![
        "run".into(),
        plan.display().to_string(),
        "--print-plan".into(),
    ];
    print.extend(["-e".into(), format!("PASSWORD={PASSWORD}")]);
    let print_ok = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args(["run", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("--print-plan"))
        .unwrap_or(false);
    if print_ok {
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_throng"))
                .args(&print)
                .output()
                .expect("run --print-plan")
        })
        .await
        .expect("run --print-plan");
        push_process("run --print-plan", &out, &mut outputs);
    }

    // every secret reached the server, so each was really in play
    let seen = server.seen();
    let sent: String = seen
        .iter()
        .flat_map(|s| s.headers.iter().map(|(k, v)| format!("{k}: {v}\n")))
        .collect();
    for s in ALL {
        assert!(sent.contains(s), "the server never received {s}");
    }

    // the outputs are all there
    let names: Vec<&str> = outputs.iter().map(|(w, _)| w.as_str()).collect();
    for want in [
        "results.json",
        "summary.json",
        "report.html",
        "report.md",
        "junit.xml",
        "locust_stats.csv",
        "locust_stats_history.csv",
        "locust_failures.csv",
        "samples.ndjson",
    ] {
        for label in ["quick file", "run file"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.starts_with(label) && n.ends_with(want)),
                "{label} {want} missing: {names:?}"
            );
        }
    }
    // the command line is in the results and the summary was printed: both were checked
    let text = |what: &str| {
        outputs
            .iter()
            .find(|(w, _)| w.starts_with(what))
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    };
    for label in ["quick", "run"] {
        assert!(
            outputs
                .iter()
                .any(|(w, t)| w.starts_with(&format!("{label} file"))
                    && w.ends_with("results.json")
                    && t.contains("\"command\"")),
            "{label}: results.json has no command line"
        );
        assert!(
            text(&format!("{label} stdout")).contains("http_reqs"),
            "{label}: no summary on stdout"
        );
    }
    let found = leaks(&outputs);
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
    let _ = std::fs::remove_dir_all(&base);
}

/// The dashboard and `/metrics` say so when bound beyond loopback, and stay quiet on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_beyond_loopback_say_so() {
    let server = CountingServer::start().await;
    let url = format!("{}/w", server.url());
    let out = tokio::task::spawn_blocking(move || {
        let run = |bind: &str| {
            Command::new(env!("CARGO_BIN_EXE_throng"))
                .args([
                    "quick",
                    &url,
                    "-n",
                    "3",
                    "-c",
                    "1",
                    "--quiet",
                    "--no-summary",
                ])
                .args(["--dashboard", &format!("{bind}:0")])
                .args(["--prometheus", &format!("{bind}:0")])
                .stdin(Stdio::null())
                .output()
                .expect("throng")
        };
        (run("127.0.0.1"), run("0.0.0.0"))
    })
    .await
    .expect("runs");
    let (local, any) = (
        String::from_utf8_lossy(&out.0.stderr).to_string(),
        String::from_utf8_lossy(&out.1.stderr).to_string(),
    );
    assert_eq!(out.0.status.code(), Some(0), "{local}");
    assert_eq!(out.1.status.code(), Some(0), "{any}");
    assert!(!local.contains("reachable from other machines"), "{local}");
    for what in ["dashboard", "prometheus metrics"] {
        assert!(
            any.lines()
                .any(|l| l.contains(&format!("{what} listening on 0.0.0.0:"))
                    && l.contains("reachable from other machines")),
            "{what}: {any}"
        );
    }
}
