//! `throng report` on a results file it cannot trust: another version, an altered histogram,
//! a truncated or a random file. Each exits 104 with one line on stderr naming the problem.
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use std::process::Output;
use throng_demo::{DemoConfig, DemoServer};

fn tmp() -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-report-input-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn report(file: &Path) -> Output {
    throng()
        .arg("report")
        .arg(file)
        .arg("--no-summary")
        .output()
        .expect("runs")
}

/// Exit 104, one stderr line, containing `needle`.
fn refused(file: &Path, needle: &str) {
    let o = report(file);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    assert_eq!(err.lines().count(), 1, "{}", text(&o));
    assert!(err.contains(needle), "wanted {needle:?}: {}", text(&o));
    assert!(!err.contains("panicked"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_results_files_exit_104_naming_the_problem() {
    let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo");
    let dir = tmp();
    let good = dir.join("good.json");
    let url = format!("{}/", server.url());
    let g = good.clone();
    let o = tokio::task::spawn_blocking(move || {
        throng()
            .args(["quick", "-n", "20", "-c", "2", "--quiet", &url, "--results"])
            .arg(&g)
            .output()
            .expect("runs")
    })
    .await
    .expect("joins");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    server.stop().await;
    let o = report(&good);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let text_of = std::fs::read_to_string(&good).expect("results");
    let v: serde_json::Value = serde_json::from_str(&text_of).expect("json");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };

    let mut other = v.clone();
    other["version"] = 3.into();
    let p = write("v3.json", other.to_string().as_bytes());
    refused(&p, "unsupported results version 3 in field `version`");

    let i = v["series"]
        .as_array()
        .expect("series")
        .iter()
        .position(|s| s["metric"] == "http_req_duration")
        .expect("a trend");
    let mut altered = v.clone();
    let hdr = v["series"][i]["hdr"].as_str().expect("hdr");
    let mut chars: Vec<char> = hdr.chars().collect();
    let k = chars.len() / 2;
    chars[k] = if chars[k] == 'Q' { 'R' } else { 'Q' };
    altered["series"][i]["hdr"] = chars.into_iter().collect::<String>().into();
    let p = write("altered.json", altered.to_string().as_bytes());
    refused(&p, &format!("field `series[{i}].hdr` (http_req_duration{{"));

    let p = write("truncated.json", &text_of.as_bytes()[..text_of.len() / 2]);
    refused(&p, "truncated: the JSON ends early");

    let mut x: u32 = 2_463_534_242;
    let junk: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let p = write("random.bin", &junk);
    refused(&p, "not JSON");
    let p = write("empty.json", b"");
    refused(&p, "truncated");
}
