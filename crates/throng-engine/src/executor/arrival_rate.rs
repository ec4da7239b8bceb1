//! `constant-arrival-rate` and `ramping-arrival-rate`: iterations start on a clock that
//! never waits for responses. When an arrival finds no idle VU and `maxVUs` are busy, it is
//! either dropped and counted in `dropped_iterations` (k6's behaviour, `when_busy: drop`) or
//! queued for the next free VU (`when_busy: queue`, as wrk2 does); either way each iteration
//! knows its intended start, so latency can be timed from it.
//!
//! While the run is paused no arrival is issued, and the schedule resumes where it stopped
//! (paused time does not count against the duration).
//!
//! The scenario's duration is a limit in both modes: no iteration starts after it. Arrivals
//! still queued then (or that the scheduler, running behind, had not yet dispatched) are
//! counted in `dropped_iterations`; iterations already running get `gracefulStop` to finish.
use crate::config::WhenBusy;
use crate::control::Clock;
use crate::ctx::ScenarioCtx;
use crate::schedule::Arrivals;
use crate::stop::{StopHub, VuStop};
use crate::workload::Vu;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Most arrivals `when_busy: queue` holds waiting for a VU (16 bytes each, so 16 MB); past
/// it, arrivals are dropped and counted as with `when_busy: drop`.
pub const MAX_QUEUED_ARRIVALS: usize = 1_000_000;

/// How late past the end an arrival due before it may still be dispatched (the timer's
/// 1 ms granularity, and a busy machine's scheduling delay, must not drop the last ones).
const TIMER_SLACK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Idle {
    /// Idle VUs with their next iteration number and their stop.
    pool: Vec<(Box<dyn Vu>, u64, VuStop)>,
    /// Intended starts of arrivals waiting for a VU (queue mode).
    queue: VecDeque<Instant>,
}

type Shared = Arc<Mutex<Idle>>;

fn lock(p: &Shared) -> MutexGuard<'_, Idle> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs iterations on one VU: the arrival it was given, then queued ones (until the
/// scenario's `end`: its clock reaching its duration), then goes idle.
async fn runner(
    ctx: Arc<ScenarioCtx>,
    shared: Shared,
    mut stop: VuStop,
    mut vu: Box<dyn Vu>,
    mut iter: u64,
    mut due: Instant,
    end: (Clock, Duration),
) {
    ctx.vu_active(1);
    loop {
        let ok = ctx.iterate(&mut vu, iter, Some(due), &mut stop).await;
        iter += 1;
        if !ok {
            break;
        }
        let mut idle = lock(&shared);
        match idle.queue.pop_front() {
            Some(next) if !stop.is_stopped() && end.0.elapsed() < end.1 => due = next,
            Some(next) => {
                idle.queue.push_front(next);
                idle.pool.push((vu, iter, stop));
                break;
            }
            None => {
                idle.pool.push((vu, iter, stop));
                break;
            }
        }
    }
    ctx.vu_active(-1);
}

pub(crate) async fn run(
    ctx: Arc<ScenarioCtx>,
    arrivals: Arrivals,
    pre: u64,
    max_vus: u64,
    when_busy: WhenBusy,
) {
    let clock = ctx.clock();
    let end = arrivals.duration();
    let hard = ctx.hard_stop_after(&clock, end);
    let hub = StopHub::new(&hard);
    let shared: Shared = Arc::new(Mutex::new(Idle::default()));
    for _ in 0..pre {
        let vu = ctx.new_vu();
        lock(&shared).pool.push((vu, 0, hub.vu()));
    }
    let mut allocated = pre;
    let mut running = JoinSet::new();
    let mut arrivals = arrivals;
    while let Some(offset) = arrivals.next() {
        // paused time does not count: the schedule resumes where it stopped
        tokio::select! {
            _ = clock.sleep_until(offset) => {}
            _ = ctx.abort.cancelled() => break,
        }
        let due = clock.wall(offset);
        if clock.elapsed() >= end + TIMER_SLACK {
            // running behind the schedule: nothing starts after the end
            ctx.dropped(1 + arrivals.count() as u64);
            break;
        }
        ctx.schedule_lag(due);
        // reap finished runners without waiting
        while running.try_join_next().is_some() {}
        let vu = {
            let mut idle = lock(&shared);
            match idle.pool.pop() {
                Some(v) => Some(v),
                None if allocated < max_vus => None,
                None => {
                    match when_busy {
                        WhenBusy::Queue if idle.queue.len() < MAX_QUEUED_ARRIVALS => {
                            idle.queue.push_back(due)
                        }
                        WhenBusy::Queue | WhenBusy::Drop => ctx.dropped(1),
                    }
                    continue;
                }
            }
        };
        let (vu, iter, token) = match vu {
            Some(v) => v,
            None => {
                allocated += 1;
                ctx.control().vu_added();
                (ctx.new_vu(), 0, hub.vu())
            }
        };
        running.spawn(runner(
            ctx.clone(),
            shared.clone(),
            token,
            vu,
            iter,
            due,
            (clock.clone(), end),
        ));
    }
    while running.join_next().await.is_some() {}
    hard.cancel();
    // queued arrivals that never got a VU before the end
    let left = lock(&shared).queue.len() as u64;
    ctx.dropped(left);
}
