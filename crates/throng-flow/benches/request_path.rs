//! The per-request path of a flow VU on a kept-alive connection: render the request, write
//! it, parse the response of a server on 127.0.0.1 (a thread of this process) and record
//! the HTTP metrics. Loopback round trips dominate; compare runs with
//! `cargo bench -p throng-flow --bench request_path -- --save-baseline main` then
//! `-- --baseline main`. tests/allocs.rs counts the heap allocations of the same path.
use criterion::{criterion_group, criterion_main, Criterion};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_engine::{IterInfo, Vu, VuInit, Workload};
use throng_flow::{FlowEnv, FlowWorkload};
use throng_http::{ClientOptions, SharedConfig};
use throng_metrics::Registry;

/// A keep-alive server answering every request with `200 ok` (JSON for `/json`).
fn serve() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() < end + 4 + len {
                            break;
                        }
                        buf.drain(..end + 4 + len);
                        let r: &[u8] = if head.starts_with("post /json") {
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"id\":1,\"status\":\"ok\"}"
                        } else {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        };
                        if s.write_all(r).is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn vu_for(base: &str, step: &str) -> Box<dyn Vu> {
    let yaml = format!(
        "name: bench\nbase_url: {base}\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 1\n    flow:\n{step}"
    );
    let plan =
        throng_plan::load_str(&yaml, Path::new("bench.yaml"), &Default::default()).expect("plan");
    let http = SharedConfig::new(ClientOptions::default()).expect("client");
    let env = FlowEnv::new(&plan, Registry::new(), http);
    FlowWorkload::new(Arc::new(plan), 0, env).new_vu(VuInit {
        id: 1,
        scenario: "s".into(),
    })
}

fn bench(c: &mut Criterion) {
    let base = serve();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cases = [
        ("quick GET", format!("      - get: {base}/\n")),
        (
            "templated GET with headers",
            "      - get: /items/{{vu}}/{{iter}}\n        headers: { Accept: application/json, X-Trace: \"t-{{iter}}\" }\n".to_string(),
        ),
        (
            "JSON POST, 2 checks, extract",
            "      - post: /json\n        json: { user_id: \"{{random_int(1,10000)}}\", message: \"msg {{vu}}-{{iter}}\", id: \"{{uuid}}\" }\n        check: { status: 200, body_contains: ok }\n        extract: { id: { json: \"$.id\" } }\n".to_string(),
        ),
    ];
    let mut g = c.benchmark_group("request_path");
    g.measurement_time(Duration::from_secs(3));
    for (name, step) in cases {
        let mut vu = vu_for(&base, &step);
        let mut iter = 0u64;
        g.bench_function(name, |b| {
            b.iter_custom(|n| {
                rt.block_on(async {
                    let t0 = Instant::now();
                    for _ in 0..n {
                        let info = IterInfo {
                            iter,
                            scenario_iter: iter,
                            intended_start: None,
                        };
                        iter += 1;
                        vu.iteration(info).await;
                    }
                    t0.elapsed()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
