//! Every executor against a fake workload whose iterations count themselves. Odd VUs run
//! their iterations back to back in one future of their own (`Vu::run`, as a flow VU does),
//! even ones one `Vu::iteration` future at a time (the default, as a script VU does): every
//! test covers both.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_engine::{
    run_each, Engine, IterFuture, IterInfo, IterOutcome, RunFuture, ScenarioSpec, Turns, Vu,
    VuInit, Workload,
};
use throng_engine::{Executor, Stage, WhenBusy};
use throng_metrics::{Registry, TagSet};
use tokio_util::sync::CancellationToken;

struct Fake {
    sleep: Duration,
    count: Arc<AtomicU64>,
}

struct FakeVu {
    id: u64,
    sleep: Duration,
    count: Arc<AtomicU64>,
}

impl Workload for Fake {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        Box::new(FakeVu {
            id: init.id,
            sleep: self.sleep,
            count: self.count.clone(),
        })
    }
}

impl Vu for FakeVu {
    fn iteration(&mut self, _info: IterInfo) -> IterFuture<'_> {
        Box::pin(async move {
            tokio::time::sleep(self.sleep).await;
            self.count.fetch_add(1, Ordering::SeqCst);
            IterOutcome::Completed
        })
    }

    fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> RunFuture<'a> {
        if self.id % 2 == 0 {
            return run_each(self, turns);
        }
        Box::pin(async move {
            while let Some(_info) = turns.next() {
                tokio::time::sleep(self.sleep).await;
                self.count.fetch_add(1, Ordering::SeqCst);
                turns.done(IterOutcome::Completed);
            }
        })
    }
}

fn engine(executor: Executor, sleep_ms: u64) -> (Engine, Arc<AtomicU64>, Registry) {
    let reg = Registry::new();
    let count = Arc::new(AtomicU64::new(0));
    let tags = reg.intern(TagSet::new([("scenario", "s")]));
    let spec = ScenarioSpec {
        name: "s".into(),
        executor,
        start_time: Duration::ZERO,
        graceful_stop: Duration::from_secs(30),
        pacing: Default::default(),
        tags,
        workload: Arc::new(Fake {
            sleep: Duration::from_millis(sleep_ms),
            count: count.clone(),
        }),
    };
    (
        Engine::new(reg.clone(), vec![spec], CancellationToken::new()),
        count,
        reg,
    )
}

fn metric(reg: &Registry, name: &str) -> f64 {
    reg.collect()
        .aggregate(name, &[])
        .map(|a| a.count())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_iterations_runs_exactly_the_total() {
    let (e, count, reg) = engine(
        Executor::SharedIterations {
            vus: 5,
            iterations: 53,
            max_duration: Duration::from_secs(60),
        },
        2,
    );
    let r = e.run().await;
    assert_eq!(count.load(Ordering::SeqCst), 53);
    assert_eq!(r.scenarios[0].1.completed, 53);
    assert_eq!(r.scenarios[0].1.dropped, 0);
    assert_eq!(metric(&reg, "iterations"), 53.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_vu_iterations_runs_vus_times_iterations() {
    let (e, count, reg) = engine(
        Executor::PerVuIterations {
            vus: 3,
            iterations: 4,
            max_duration: Duration::from_secs(60),
        },
        1,
    );
    e.run().await;
    assert_eq!(count.load(Ordering::SeqCst), 12);
    assert_eq!(metric(&reg, "iterations"), 12.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_duration_drops_the_rest() {
    let (e, count, reg) = engine(
        Executor::SharedIterations {
            vus: 2,
            iterations: 100,
            max_duration: Duration::from_millis(300),
        },
        100,
    );
    let r = e.run().await;
    let done = count.load(Ordering::SeqCst);
    let s = r.scenarios[0].1;
    assert!((4..100).contains(&done), "{done}");
    assert_eq!(s.completed + s.dropped, 100, "{s:?}");
    assert_eq!(metric(&reg, "dropped_iterations"), s.dropped as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_vus_loops_for_the_duration() {
    let (e, count, reg) = engine(
        Executor::ConstantVus {
            vus: 4,
            duration: Duration::from_millis(1000),
        },
        50,
    );
    let t = Instant::now();
    e.run().await;
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(1000) && el < Duration::from_millis(2500),
        "{el:?}"
    );
    let n = count.load(Ordering::SeqCst);
    // 4 VUs x ~20 iterations each; wide band for a loaded machine
    assert!((40..=84).contains(&n), "{n}");
    assert_eq!(metric(&reg, "iterations"), n as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_vus_follows_the_stages() {
    let stages = vec![
        Stage {
            duration: Duration::from_millis(1000),
            target: 10.0,
        },
        Stage {
            duration: Duration::from_millis(1000),
            target: 10.0,
        },
        Stage {
            duration: Duration::from_millis(1000),
            target: 0.0,
        },
    ];
    let (e, count, _reg) = engine(
        Executor::RampingVus {
            start_vus: 0,
            stages,
            graceful_ramp_down: Duration::from_millis(100),
        },
        20,
    );
    let active = e.active_vus();
    let h = tokio::spawn(e.run());
    let mut samples = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(3300) {
        samples.push((t0.elapsed(), active.load(Ordering::SeqCst)));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.await.expect("run");
    let at = |ms: u64| {
        samples
            .iter()
            .find(|(t, _)| *t >= Duration::from_millis(ms))
            .map(|x| x.1)
            .unwrap_or(0)
    };
    assert!(at(500) >= 3 && at(500) <= 7, "{samples:?}");
    assert_eq!(at(1500), 10, "{samples:?}");
    assert!(at(2500) >= 3 && at(2500) <= 7, "{samples:?}");
    assert_eq!(at(3250), 0, "{samples:?}");
    assert!(count.load(Ordering::SeqCst) > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_starts_exactly_rate_times_duration() {
    let (e, count, _reg) = engine(
        Executor::ConstantArrivalRate {
            rate: 100.0,
            time_unit: Duration::from_secs(1),
            duration: Duration::from_secs(2),
            pre_allocated_vus: 5,
            max_vus: 20,
            when_busy: WhenBusy::Drop,
        },
        10,
    );
    let t = Instant::now();
    let r = e.run().await;
    let s = r.scenarios[0].1;
    assert_eq!(count.load(Ordering::SeqCst), 200);
    assert_eq!((s.completed, s.dropped), (200, 0));
    assert!(t.elapsed() < Duration::from_millis(2600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_without_a_free_vu_are_dropped() {
    let (e, count, reg) = engine(
        Executor::ConstantArrivalRate {
            rate: 50.0,
            time_unit: Duration::from_secs(1),
            duration: Duration::from_secs(1),
            pre_allocated_vus: 2,
            max_vus: 4,
            when_busy: WhenBusy::Drop,
        },
        400,
    );
    let r = e.run().await;
    let s = r.scenarios[0].1;
    assert_eq!(s.completed + s.dropped, 50, "{s:?}");
    assert!(s.dropped >= 30, "{s:?}");
    assert_eq!(count.load(Ordering::SeqCst), s.completed);
    assert_eq!(metric(&reg, "dropped_iterations"), s.dropped as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_arrival_rate_integrates_the_stages() {
    let (e, count, _reg) = engine(
        Executor::RampingArrivalRate {
            start_rate: 0.0,
            time_unit: Duration::from_secs(1),
            stages: vec![
                Stage {
                    duration: Duration::from_secs(1),
                    target: 100.0,
                },
                Stage {
                    duration: Duration::from_secs(1),
                    target: 100.0,
                },
            ],
            pre_allocated_vus: 10,
            max_vus: 10,
            when_busy: WhenBusy::Drop,
        },
        1,
    );
    e.run().await;
    let n = count.load(Ordering::SeqCst);
    assert!((149..=150).contains(&n), "{n}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_interrupts_everything_quickly() {
    let reg = Registry::new();
    let count = Arc::new(AtomicU64::new(0));
    let abort = CancellationToken::new();
    let spec = ScenarioSpec {
        name: "s".into(),
        executor: Executor::ConstantVus {
            vus: 3,
            duration: Duration::from_secs(60),
        },
        start_time: Duration::ZERO,
        graceful_stop: Duration::from_secs(30),
        pacing: Default::default(),
        tags: reg.intern(TagSet::default()),
        workload: Arc::new(Fake {
            sleep: Duration::from_millis(200),
            count,
        }),
    };
    let e = Engine::new(reg, vec![spec], abort.clone());
    let t = Instant::now();
    let h = tokio::spawn(e.run());
    tokio::time::sleep(Duration::from_millis(300)).await;
    abort.cancel();
    let r = h.await.expect("run");
    assert!(r.aborted);
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(r.scenarios[0].1.interrupted >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_arrivals_stop_at_the_duration_and_count_as_dropped() {
    // one VU, 100 ms iterations, 50 arrivals in 1 s: about 10 run, the rest wait in the
    // queue. The duration is a limit: nothing starts after 1 s (the old code ran the whole
    // queue, 5 s, inside the 30 s gracefulStop).
    let (e, count, reg) = engine(
        Executor::ConstantArrivalRate {
            rate: 50.0,
            time_unit: Duration::from_secs(1),
            duration: Duration::from_secs(1),
            pre_allocated_vus: 1,
            max_vus: 1,
            when_busy: WhenBusy::Queue,
        },
        100,
    );
    let t = Instant::now();
    let r = e.run().await;
    let took = t.elapsed();
    let s = r.scenarios[0].1;
    assert!(took < Duration::from_millis(1500), "ran {took:?}: {s:?}");
    assert_eq!(s.completed + s.interrupted + s.dropped, 50, "{s:?}");
    assert!((9..=12).contains(&s.completed), "{s:?}");
    assert_eq!(count.load(Ordering::SeqCst), s.completed);
    assert_eq!(metric(&reg, "dropped_iterations"), s.dropped as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn externally_controlled_scales_while_it_runs_and_stops_at_max_vus() {
    let (e, count, _reg) = engine(
        Executor::ExternallyControlled {
            vus: 2,
            max_vus: 6,
            duration: Duration::from_millis(900),
        },
        10,
    );
    let ctl = e.control();
    let active = e.active_vus();
    let h = tokio::spawn(e.run());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(active.load(Ordering::SeqCst), 2);
    let st = ctl.scale(Some(6), None).expect("within maxVUs");
    assert_eq!(st.vus_max, 6);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(active.load(Ordering::SeqCst), 6);
    let err = ctl.scale(Some(7), None).expect_err("above maxVUs");
    assert!(err.to_string().contains("maxVUs (6)"), "{err}");
    ctl.scale(Some(1), None).expect("down");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(active.load(Ordering::SeqCst), 1);
    let r = h.await.expect("runs");
    assert!(r.elapsed < Duration::from_millis(1500), "{:?}", r.elapsed);
    assert!(count.load(Ordering::SeqCst) > 50);
    assert!(ctl.status().stopped && !ctl.status().running);
    assert_eq!(
        ctl.scale(Some(2), None),
        Err(throng_engine::ControlError::Ended)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_holds_every_executor_and_does_not_count_against_durations() {
    for executor in [
        Executor::ConstantVus {
            vus: 3,
            duration: Duration::from_millis(600),
        },
        Executor::ConstantArrivalRate {
            rate: 100.0,
            time_unit: Duration::from_secs(1),
            duration: Duration::from_millis(600),
            pre_allocated_vus: 5,
            max_vus: 5,
            when_busy: WhenBusy::Drop,
        },
    ] {
        let name = executor.name();
        let (e, count, reg) = engine(executor, 5);
        let ctl = e.control();
        let h = tokio::spawn(e.run());
        tokio::time::sleep(Duration::from_millis(200)).await;
        ctl.pause();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let held = count.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(count.load(Ordering::SeqCst), held, "{name}: paused");
        assert!(ctl.status().paused);
        ctl.resume();
        let r = h.await.expect("runs");
        // 600 ms of running time plus about 550 ms paused
        assert!(
            r.elapsed >= Duration::from_millis(1100),
            "{name}: {:?}",
            r.elapsed
        );
        assert!(
            r.elapsed < Duration::from_millis(1600),
            "{name}: {:?}",
            r.elapsed
        );
        if name == "constant-arrival-rate" {
            // nothing due during the pause was dropped: the schedule resumed where it stopped
            assert_eq!(metric(&reg, "iterations"), 60.0, "{name}");
            assert_eq!(metric(&reg, "dropped_iterations"), 0.0, "{name}");
        }
    }
}

/// A VU whose init outlasts the scenario: its iterations never start.
struct SlowInit;

struct SlowInitVu {
    id: u64,
}

impl Workload for SlowInit {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        Box::new(SlowInitVu { id: init.id })
    }
}

impl Vu for SlowInitVu {
    fn iteration(&mut self, _info: IterInfo) -> IterFuture<'_> {
        Box::pin(async { IterOutcome::Completed })
    }

    fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> RunFuture<'a> {
        if self.id % 2 == 0 {
            return run_each(self, turns);
        }
        Box::pin(async move {
            while let Some(_info) = turns.next() {
                turns.done(IterOutcome::Completed);
            }
        })
    }

    fn init(&mut self) -> Option<IterFuture<'_>> {
        Some(Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            IterOutcome::Completed
        }))
    }
}

/// An init cut off by the hard stop: every iteration of a per-VU or shared total is one
/// outcome, dropped (none started), not an interrupted one and a dropped one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterations_whose_init_is_cut_off_are_dropped_once() {
    for (executor, total) in [
        (
            Executor::PerVuIterations {
                vus: 2,
                iterations: 5,
                max_duration: Duration::from_millis(200),
            },
            10,
        ),
        (
            Executor::SharedIterations {
                vus: 2,
                iterations: 7,
                max_duration: Duration::from_millis(200),
            },
            7,
        ),
    ] {
        let reg = Registry::new();
        let spec = ScenarioSpec {
            name: "s".into(),
            executor,
            start_time: Duration::ZERO,
            graceful_stop: Duration::ZERO,
            pacing: Default::default(),
            tags: reg.intern(TagSet::new([("scenario", "s")])),
            workload: Arc::new(SlowInit),
        };
        let t = Instant::now();
        let r = Engine::new(reg.clone(), vec![spec], CancellationToken::new())
            .run()
            .await;
        assert!(t.elapsed() < Duration::from_secs(5));
        let s = r.scenarios[0].1;
        assert_eq!(
            (s.completed, s.interrupted, s.dropped),
            (0, 0, total),
            "{s:?}"
        );
        assert_eq!(metric(&reg, "dropped_iterations"), total as f64);
        assert_eq!(metric(&reg, "iterations"), 0.0);
    }
}
