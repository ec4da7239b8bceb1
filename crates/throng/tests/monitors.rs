//! examples/system-under-test.yaml against a real `throng serve-demo` process: the process
//! monitor finds it, and report.md's resource table is filled per phase.
mod common;
use common::{text, throng};
use std::time::{Duration, Instant};

#[test]
fn the_system_under_test_example_fills_the_resource_table() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut demo = throng()
        .args(["serve-demo", "--addr", &addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve-demo starts");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "serve-demo did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = std::env::temp_dir().join(format!("throng-sut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let md = dir.join("report.md");
    let html = dir.join("report.html");
    let out = throng()
        .args(["run", "examples/system-under-test.yaml", "--no-color"])
        .args(["--base-url", &format!("http://{addr}")])
        // this demo's own command line, so a demo of another test is never picked
        .args(["-e", &format!("SUT_PROCESS=serve-demo --addr {addr}")])
        .arg("--md")
        .arg(&md)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("runs");
    let _ = demo.kill();
    let _ = demo.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("SYSTEM UNDER TEST") && stdout.contains("monitor api"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(&md).expect("report.md");
    assert!(!report.contains("TBD"));
    let rows: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("| Phase | App CPU avg"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    // ramp-up, steady, ramp-down: each with CPU %, memory and threads from the monitor
    assert_eq!(rows.len(), 3, "{report}");
    for r in &rows {
        let cells: Vec<&str> = r.split('|').map(str::trim).collect();
        assert!(cells[2].ends_with('%') && cells[3].ends_with('%'), "{r}");
        assert!(cells[4].ends_with("MB") || cells[4].ends_with("KB"), "{r}");
        assert!(cells[6].parse::<u32>().unwrap_or(0) >= 1, "{r}");
    }
    assert!(report.contains("## SLO compliance"), "{report}");
    assert!(report.contains(&format!("pid | {}", demo.id())), "{report}");
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains(r#"<section id="system-under-test">"#));
    assert!(page.contains("chart-monitor-api-0"));
    println!("{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
