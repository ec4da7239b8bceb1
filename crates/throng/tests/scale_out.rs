//! Scale-out: `--local-segments` against a counting server gives exactly what one process
//! gives; `throng merge` refuses files of different plans, names a truncated file, and
//! reports a partial merge (exit 107 unless `--allow-partial`).
mod common;
use common::{text, throng};
use std::path::{Path, PathBuf};
use throng_testkit::CountingServer;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// 200 iterations of two requests (one answered 404) and 40 iterations over 40 unique rows:
/// 440 requests. The threshold holds only for the whole run.
fn plan(dir: &Path, base: &str) -> PathBuf {
    let rows: String = (0..40).map(|i| format!("{i}\n")).collect();
    std::fs::write(dir.join("rows.csv"), format!("id\n{rows}")).expect("rows");
    let p = dir.join("plan.yaml");
    std::fs::write(
        &p,
        format!(
            "base_url: {base}
data:
  rows: {{ file: rows.csv, pick: unique }}
scenarios:
  pairs:
    executor: shared-iterations
    vus: 6
    iterations: 200
    flow:
      - get: /status/200
      - get: /status/404
  rows:
    executor: per-vu-iterations
    vus: 8
    iterations: 5
    flow:
      - get: /row/{{{{rows.id}}}}/
thresholds:
  http_reqs: [\"count==440\"]
"
        ),
    )
    .expect("plan");
    p
}

fn results(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).expect("results file")).expect("JSON")
}

fn run(args: Vec<String>) -> std::process::Output {
    throng().args(args).output().expect("throng runs")
}

/// `throng run PLAN --quiet --results RESULTS EXTRA...` off the async runtime.
async fn run_plan(plan: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    let mut v = s(&["run", "--quiet", "--results"]);
    v.push(results.display().to_string());
    v.push(plan.display().to_string());
    v.extend(s(extra));
    tokio::task::spawn_blocking(move || run(v))
        .await
        .expect("join")
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_local_segments_send_exactly_what_one_process_sends() {
    let dir = tmp("local");
    let one = CountingServer::start().await;
    let four = CountingServer::start().await;
    let (p1, p4) = (plan(&dir, &one.url()), dir.join("plan4.yaml"));
    std::fs::write(
        &p4,
        std::fs::read_to_string(&p1)
            .expect("plan")
            .replace(&one.url(), &four.url()),
    )
    .expect("plan4");
    let (r1, r4) = (dir.join("one.json"), dir.join("four.json"));
    let o = run_plan(&p1, &r1, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run_plan(&p4, &r4, &["--local-segments", "4"]).await;
    // each segment alone fails `count==440`; the merged run passes it
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("merged 4 of 4 instances"),
        "{}",
        text(&o)
    );
    assert_eq!(one.count(), 440);
    assert_eq!(four.count(), 440);
    let (a, b) = (results(&r1), results(&r4));
    let count = |r: &serde_json::Value| {
        r["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == "http_reqs"))
            .map(|m| m["values"]["count"].clone())
    };
    assert_eq!(count(&a), Some(serde_json::json!(440.0)));
    assert_eq!(count(&b), count(&a));
    assert_eq!(
        b["status_codes"],
        serde_json::json!({"200": 200 + 40, "404": 200})
    );
    assert_eq!(b["status_codes"], a["status_codes"]);
    assert_eq!(b["merge"]["instances"].as_array().map(Vec::len), Some(4));
    // every merged second has the sum of the instances' histograms of that second, so its
    // percentiles are exact, and the seconds' requests add up to the run's
    let seconds = b["seconds"].as_array().expect("seconds");
    assert!(!seconds.is_empty());
    assert!(seconds.iter().all(|p| p["hist"].is_string()), "{seconds:?}");
    let reqs: u64 = seconds.iter().filter_map(|p| p["reqs"].as_u64()).sum();
    assert_eq!(reqs, 440);
    // one process keeps no per-second histograms
    assert!(a["seconds"]
        .as_array()
        .expect("seconds")
        .iter()
        .all(|p| p["hist"].is_null()));
    // unique rows: each of the 40 used once across the 4 instances
    for i in 0..40 {
        assert_eq!(four.count_prefix(&format!("/row/{i}/")), 1, "row {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_other_plans_names_bad_files_and_reports_partial_runs() {
    let dir = tmp("merge");
    let server = CountingServer::start().await;
    let p = plan(&dir, &server.url());
    let other = dir.join("other.yaml");
    std::fs::write(
        &other,
        std::fs::read_to_string(&p)
            .expect("plan")
            .replace("iterations: 200", "iterations: 100"),
    )
    .expect("other");
    let seg = |plan: &Path, segment: &str, out: &Path| {
        let mut v = s(&["run", "--quiet", "--segment", segment, "--results"]);
        v.push(out.display().to_string());
        v.push(plan.display().to_string());
        v
    };
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    let (sa, sb, sc) = (
        seg(&p, "1/2", &a),
        seg(&p, "2/2", &b),
        seg(&other, "2/2", &c),
    );
    let outs = tokio::task::spawn_blocking(move || [run(sa), run(sb), run(sc)])
        .await
        .expect("join");
    for o in &outs {
        // each half alone fails the whole run's count threshold
        assert_eq!(o.status.code(), Some(99), "{}", text(o));
    }
    let merge = |files: &[&Path], extra: &[&str]| {
        let mut v = s(&["merge", "--no-summary"]);
        v.extend(files.iter().map(|f| f.display().to_string()));
        v.extend(s(extra));
        run(v)
    };
    // the two halves: exact, and the global threshold passes
    let m = dir.join("merged.json");
    let o = merge(&[&a, &b], &["--results", &m.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        results(&m)["status_codes"],
        serde_json::json!({"200": 240, "404": 200})
    );
    // halves of different plans
    let o = merge(&[&a, &c], &[]);
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ran different plans") && err.contains("a.json") && err.contains("c.json"),
        "{err}"
    );
    // a truncated file is named
    let bytes = std::fs::read(&b).expect("b");
    let t = dir.join("truncated.json");
    std::fs::write(&t, &bytes[..bytes.len() / 2]).expect("truncated");
    let o = merge(&[&a, &t], &[]);
    assert_eq!(o.status.code(), Some(104), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("truncated.json") && err.contains("truncated"),
        "{err}"
    );
    // one half of two: partial, 107 unless allowed
    let o = merge(&[&a], &[]);
    assert_eq!(o.status.code(), Some(107), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("merged 1 of 2 instances; missing segments 1/2:1"),
        "{err}"
    );
    let o = merge(&[&a], &["--allow-partial"]);
    // allowed, but the threshold on the half's data fails
    assert_eq!(o.status.code(), Some(99), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An NTP server on 127.0.0.1 whose clock runs `skew_s` ahead of this machine's.
fn sntp_server(skew_s: f64) -> String {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = sock.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let ntp = |skew: f64| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
                + skew
                + 2_208_988_800.0;
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&((t.floor() as u64 & 0xffff_ffff) as u32).to_be_bytes());
            b[4..].copy_from_slice(&(((t - t.floor()) * 4_294_967_296.0) as u32).to_be_bytes());
            b
        };
        let mut buf = [0u8; 48];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 48 {
                continue;
            }
            let mut out = [0u8; 48];
            out[0] = 0x24;
            out[1] = 2;
            out[24..32].copy_from_slice(&buf[40..48]);
            out[32..40].copy_from_slice(&ntp(skew_s));
            out[40..48].copy_from_slice(&ntp(skew_s));
            let _ = sock.send_to(&out, from);
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_meet_at_a_barrier_and_record_their_clock() {
    let dir = tmp("barrier");
    let server = CountingServer::start().await;
    let p = plan(&dir, &server.url());
    let ntp = sntp_server(0.25);
    let barrier = dir.join("barrier");
    let seg = |segment: &str, out: &Path, run_id: &str, extra: &[&str]| {
        let mut v = s(&["run", "--quiet", "--segment", segment, "--results"]);
        v.push(out.display().to_string());
        v.push(p.display().to_string());
        v.extend(s(&["--run-id", run_id, "--barrier-dir"]));
        v.push(barrier.display().to_string());
        v.extend(s(&["--barrier-margin", "500ms", "--clock-ref", &ntp]));
        v.extend(s(extra));
        v
    };
    // one instance alone: the barrier never opens, no load is sent
    let lone = seg(
        "1/2",
        &dir.join("lone.json"),
        "lone",
        &["--barrier-timeout", "1s"],
    );
    let o = tokio::task::spawn_blocking(move || run(lone))
        .await
        .expect("join");
    assert_eq!(o.status.code(), Some(107), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 of 2 instances ready"), "{err}");
    assert!(err.contains("no load was sent"), "{err}");
    assert_eq!(server.count(), 0);
    // two instances, the second a second late: both start together after it arrives
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    let (sa, sb) = (seg("1/2", &a, "pair", &[]), seg("2/2", &b, "pair", &[]));
    let first = tokio::task::spawn_blocking(move || run(sa));
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let second = tokio::task::spawn_blocking(move || run(sb));
    let (oa, ob) = (first.await.expect("join"), second.await.expect("join"));
    // each half alone fails the whole run's count threshold
    assert_eq!(oa.status.code(), Some(99), "{}", text(&oa));
    assert_eq!(ob.status.code(), Some(99), "{}", text(&ob));
    assert_eq!(server.count(), 440);
    let (ra, rb) = (results(&a), results(&b));
    let (ia, ib) = (&ra["instance"], &rb["instance"]);
    // one agreed start, computed alike by both from the barrier's files
    assert!(ia["start_at"].is_string(), "{ia}");
    assert_eq!(ia["start_at"], ib["start_at"]);
    for i in [ia, ib] {
        let start: jiff::Timestamp = i["start_at"]
            .as_str()
            .expect("start")
            .parse()
            .expect("time");
        let began = i["started_at_unix_ms"].as_i64().expect("started");
        assert!(began >= start.as_millisecond(), "{i}");
        let clock = &i["clock"];
        assert_eq!(clock["source"], format!("sntp {ntp}"));
        // this machine is 250 ms behind the reference (loopback adds well under 50 ms)
        let off = clock["offset_ms"].as_f64().expect("offset");
        assert!((off + 250.0).abs() < 50.0, "{clock}");
        assert!(clock["host"].is_string(), "{clock}");
    }
    // merged: one host, one clock
    let m = dir.join("merged.json");
    let mut v = s(&["merge", "--no-summary", "--results"]);
    v.push(m.display().to_string());
    v.extend([a.display().to_string(), b.display().to_string()]);
    let o = run(v);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("merged 2 of 2 instances; clocks within 0.0 ms"),
        "{err}"
    );
    assert_eq!(
        results(&m)["merge"]["clock_alignment_ms"],
        serde_json::json!(0.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
