//! Heap allocations per request on the steady-state keep-alive path, counted by a global
//! allocator: a flow VU renders its request, writes it, parses the response of a real
//! server on 127.0.0.1 and records the eleven HTTP metric samples. After a warm-up
//! (connection, tag sets, series, histogram buckets), a request must not allocate.
//!
//! Only allocations made on the test's own thread are counted (the server runs on a thread
//! of its own), with a current-thread runtime so the whole client path runs here.
// a global allocator is an `unsafe` trait: this one forwards every call to `System`
#![allow(unsafe_code)]
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use throng_engine::{IterInfo, IterOutcome, Turns, Vu, VuInit, Workload};
use throng_flow::{FlowEnv, FlowWorkload};
use throng_http::{ClientOptions, SharedConfig};
use throng_metrics::Registry;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread's locals may be gone while it exits
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's layout
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's layout
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's pointer and layout
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A keep-alive HTTP/1.1 server that answers every request with `200 ok` (`/big`: 6 KiB;
/// `/chunked`: `ok` in two chunks; `POST /json`: a small JSON document), counting them.
fn serve() -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let seen = Arc::new(AtomicU64::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let count = count.clone();
            let _ = s.set_nodelay(true);
            std::thread::spawn(move || {
                // one write per response: no Nagle wait between head and body
                let mut big_response = b"HTTP/1.1 200 OK\r\nContent-Length: 6144\r\n\r\n".to_vec();
                big_response.resize(big_response.len() + 6144, b'x');
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let body = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|n| n.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() < end + 4 + body {
                            break;
                        }
                        let big = buf.starts_with(b"GET /big ");
                        let chunked = buf.starts_with(b"GET /chunked ");
                        let json = buf.starts_with(b"POST /json ");
                        buf.drain(..end + 4 + body);
                        count.fetch_add(1, Ordering::SeqCst);
                        let ok = if big {
                            s.write_all(&big_response)
                        } else if json {
                            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"id\":1,\"status\":\"ok\"}")
                        } else if chunked {
                            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n1;x=y\r\nk\r\n0\r\n\r\n")
                        } else {
                            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        };
                        if ok.is_err() {
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
    (format!("http://{addr}"), seen)
}

/// A current-thread runtime and one VU of the plan's first scenario.
fn one_vu(plan_yaml: &str) -> (tokio::runtime::Runtime, Box<dyn Vu>) {
    let plan = throng_plan::load_str(plan_yaml, Path::new("allocs.yaml"), &Default::default())
        .expect("plan");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = SharedConfig::new(ClientOptions::default()).expect("client");
    let env = FlowEnv::new(&plan, Registry::new(), http);
    let w = FlowWorkload::new(Arc::new(plan), 0, env);
    let vu = w.new_vu(VuInit {
        id: 1,
        scenario: "s".into(),
    });
    (rt, vu)
}

/// Runs `warm` then `n` iterations of the plan's first scenario on one VU and returns the
/// allocations per counted iteration.
fn allocs_per_iteration(plan_yaml: &str, warm: u64, n: u64) -> f64 {
    let (rt, mut vu) = one_vu(plan_yaml);
    rt.block_on(async {
        let mut before = 0;
        for it in 0..warm + n {
            if it == warm {
                before = ALLOCS.with(Cell::get);
            }
            let info = IterInfo {
                iter: it,
                scenario_iter: it,
                intended_start: None,
            };
            COUNTING.with(|c| c.set(it >= warm));
            let out = vu.iteration(info).await;
            COUNTING.with(|c| c.set(false));
            assert_eq!(out, IterOutcome::Completed);
        }
        let total = ALLOCS.with(Cell::get) - before;
        eprintln!("{total} allocations in {n} iterations");
        total as f64 / n as f64
    })
}

/// The engine's side of `Vu::run` for the test: `warm` then `n` iterations, counting the
/// allocations of the last `n` (between the start of each and its end).
struct Counted {
    warm: u64,
    n: u64,
    next: u64,
    completed: u64,
}

impl Turns for Counted {
    fn next(&mut self) -> Option<IterInfo> {
        if self.next == self.warm + self.n {
            return None;
        }
        let it = self.next;
        self.next += 1;
        COUNTING.with(|c| c.set(it >= self.warm));
        Some(IterInfo {
            iter: it,
            scenario_iter: it,
            intended_start: None,
        })
    }

    fn done(&mut self, out: IterOutcome) {
        COUNTING.with(|c| c.set(false));
        self.completed += u64::from(out == IterOutcome::Completed);
    }
}

/// As [`allocs_per_iteration`], with the iterations run as the engine runs them: back to
/// back in the one future of `Vu::run`.
fn allocs_per_run_iteration(plan_yaml: &str, warm: u64, n: u64) -> f64 {
    let (rt, mut vu) = one_vu(plan_yaml);
    let mut turns = Counted {
        warm,
        n,
        next: 0,
        completed: 0,
    };
    let before = ALLOCS.with(Cell::get);
    rt.block_on(vu.run(&mut turns));
    assert_eq!(turns.completed, warm + n);
    let total = ALLOCS.with(Cell::get) - before;
    eprintln!("{total} allocations in {n} iterations run back to back");
    total as f64 / n as f64
}

fn plan(base: &str, step: &str) -> String {
    format!(
        "name: allocs\nbase_url: {base}\nscenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: 1\n    flow:\n{step}"
    )
}

/// `step` (indented as a step of a pass) in a loop of `times` passes.
fn looped(base: &str, times: u32, step: &str) -> String {
    let step: String = step.lines().map(|l| format!("    {l}\n")).collect();
    plan(
        base,
        &format!("      - repeat:\n          times: {times}\n          flow:\n{step}"),
    )
}

/// The bound on allocations per request (or per iteration run back to back).
const BOUND: f64 = 0.005;

/// Allocations per request of `step`: the difference between loops of 1,000 passes and of
/// 100, so the iteration's own costs (the engine's boxed `IterFuture`, the loop's) cancel
/// out. Any allocation on the request path would show as 1.0 or more; the loop's own rare
/// bookkeeping (a histogram that grows for a new largest latency) as a few thousandths. That
/// growth follows the machine's timing and can land in any one measurement (five in one
/// run of a CI machine busy with other tests), while an allocation on the request path
/// lands in every one: up to three measurements, the best counts. Returns it and the
/// requests the measurements sent.
fn per_request(base: &str, step: &str) -> (f64, u64) {
    let (mut best, mut sent) = (f64::MAX, 0);
    for _ in 0..3 {
        let a = allocs_per_iteration(&looped(base, 100, step), 2, 3);
        let b = allocs_per_iteration(&looped(base, 1000, step), 2, 3);
        sent += 5 * 100 + 5 * 1000;
        let x = (b - a) / 900.0;
        if x.abs() < best.abs() {
            best = x;
        }
        if best.abs() < BOUND {
            break;
        }
    }
    (best, sent)
}

#[test]
fn quick_request_allocates_nothing_per_request() {
    let (base, seen) = serve();
    // `throng quick URL`'s flow: one GET of an absolute URL per iteration
    let step = format!("      - get: {base}/\n");
    let per_iter = allocs_per_iteration(&plan(&base, &step), 200, 1000);
    assert_eq!(seen.load(Ordering::SeqCst), 1200);
    let (per_req, sent) = per_request(&base, &step);
    assert_eq!(seen.load(Ordering::SeqCst), 1200 + sent);
    eprintln!("quick: {per_iter} allocations per iteration, {per_req} per request");
    assert!(per_req.abs() < BOUND, "{per_req} allocations per request");
    // the boxed iteration future is the one allocation an iteration of its own makes
    assert!(per_iter < 1.01, "{per_iter} allocations per iteration");
    // as the engine runs them (one future for all), an iteration allocates nothing (the
    // best of up to three measurements, as in `per_request`)
    let (mut per_run_iter, mut runs) = (f64::MAX, 0);
    while runs < 3 && per_run_iter >= BOUND {
        per_run_iter = per_run_iter.min(allocs_per_run_iteration(&plan(&base, &step), 200, 1000));
        runs += 1;
    }
    assert_eq!(seen.load(Ordering::SeqCst), 1200 + sent + runs * 1200);
    eprintln!("quick, back to back: {per_run_iter} allocations per iteration");
    assert!(
        per_run_iter < BOUND,
        "{per_run_iter} allocations per iteration"
    );
}

#[test]
fn templated_step_with_headers_allocates_nothing_per_request() {
    let (base, seen) = serve();
    let step = "      - get: /items/{{vu}}/{{iter}}?page={{iter}}\n        \
                headers: { Accept: application/json, X-Trace: \"t-{{vu}}-{{iter}}\" }\n        \
                query: { q: \"a b {{vu}}\" }\n";
    let per_iter = allocs_per_iteration(&plan(&base, step), 200, 1000);
    assert_eq!(seen.load(Ordering::SeqCst), 1200);
    let (per_req, sent) = per_request(&base, step);
    assert_eq!(seen.load(Ordering::SeqCst), 1200 + sent);
    eprintln!("templated: {per_iter} allocations per iteration, {per_req} per request");
    assert!(per_req.abs() < BOUND, "{per_req} allocations per request");
    assert!(per_iter < 1.01, "{per_iter} allocations per iteration");
}

#[test]
fn larger_and_chunked_responses_allocate_nothing_per_request() {
    let (base, seen) = serve();
    for path in ["/big", "/chunked"] {
        let step = format!("      - get: {path}\n");
        let before = seen.load(Ordering::SeqCst);
        let (per_req, sent) = per_request(&base, &step);
        assert_eq!(seen.load(Ordering::SeqCst) - before, sent);
        eprintln!("{path}: {per_req} allocations per request");
        assert!(
            per_req.abs() < BOUND,
            "{path}: {per_req} allocations per request"
        );
    }
}

#[test]
fn bench_plan_step_allocates_nothing_per_request() {
    let (base, seen) = serve();
    // bench/plan.yaml's step: a templated JSON body, two checks and a JSON extract
    let step = "      - post: /json\n        \
                json: { user_id: \"{{random_int(1,10000)}}\", message: \"msg {{vu}}-{{iter}}\", id: \"{{uuid}}\" }\n        \
                check: { status: 200, body_contains: ok }\n        \
                extract: { id: { json: \"$.id\" } }\n";
    let per_iter = allocs_per_iteration(&plan(&base, step), 200, 1000);
    assert_eq!(seen.load(Ordering::SeqCst), 1200);
    let (per_req, sent) = per_request(&base, step);
    assert_eq!(seen.load(Ordering::SeqCst), 1200 + sent);
    eprintln!("bench plan: {per_iter} allocations per iteration, {per_req} per request");
    assert!(per_req.abs() < BOUND, "{per_req} allocations per request");
    assert!(per_iter < 1.01, "{per_iter} allocations per iteration");
}

/// The engine's side of `Vu::run` that keeps the regions the VU hints at (see
/// `throng_engine::hot`), as they were at the end of each iteration.
struct Hinted {
    n: u64,
    next: u64,
    now: std::cell::RefCell<[(usize, usize); throng_engine::hot::SLOTS]>,
    after: Vec<[(usize, usize); throng_engine::hot::SLOTS]>,
}

impl Turns for Hinted {
    fn next(&mut self) -> Option<IterInfo> {
        if self.next == self.n {
            return None;
        }
        self.next += 1;
        Some(IterInfo {
            iter: self.next - 1,
            scenario_iter: self.next - 1,
            intended_start: None,
        })
    }

    fn done(&mut self, out: IterOutcome) {
        assert_eq!(out, IterOutcome::Completed);
    }

    fn hint(&self, slot: usize, region: (usize, usize)) {
        self.now.borrow_mut()[slot] = region;
    }
}

#[test]
fn a_vu_tells_the_engine_where_its_state_is() {
    let (base, seen) = serve();
    let url = format!("{base}/");
    let (rt, mut vu) = one_vu(&plan(&base, &format!("      - get: {url}\n")));
    let mut turns = Hinted {
        n: 0,
        next: 0,
        now: Default::default(),
        after: Vec::new(),
    };
    // one iteration at a time, so the regions after each can be compared
    for _ in 0..3 {
        turns.n = turns.next + 1;
        rt.block_on(vu.run(&mut turns));
        let now = *turns.now.borrow();
        turns.after.push(now);
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "the server saw three requests"
    );
    let last = turns.after[2];
    eprintln!("regions hinted (address, bytes): {last:?}");
    // the VU (on lines of its own), its last response, the request's URL, its connection,
    // the connection's state (on lines of its own) and request, the Host header, the URL read
    let host = base.trim_start_matches("http://");
    let (vu_at, vu_len) = last[0];
    assert!(
        vu_at % 64 == 0 && vu_len >= 64 && vu_len % 64 == 0,
        "{:?}",
        last[0]
    );
    assert!(
        last[1].0 != 0 && last[1].1 > 0,
        "the response: {:?}",
        last[1]
    );
    assert_eq!(last[2].1, url.len(), "the response's URL");
    assert_eq!(last[3].1, url.len(), "the request's URL");
    assert!(last[4].1 > 0, "the connections: {:?}", last[4]);
    assert!(
        last[5].0 % 64 == 0 && last[5].1 >= 64,
        "the connection: {:?}",
        last[5]
    );
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\n");
    assert!(
        last[6].1 > request.len(),
        "the request written: {:?}",
        last[6]
    );
    assert_eq!(last[7].1, host.len(), "the Host header");
    assert_eq!(last[8].1, url.len(), "the URL read");
    // nothing past the VU's nine, and the engine's own two are not the VU's to set
    assert!(last[9..].iter().all(|r| *r == (0, 0)), "{last:?}");
    // on a kept-alive connection nothing moves from one request to the next, so hinting
    // again is a compare per region
    assert_eq!(turns.after[1], turns.after[2]);
}
