//! `constant-arrival-rate` and `ramping-arrival-rate`: iterations start on a clock that
//! never waits for responses. When an arrival finds no idle VU and `maxVUs` are busy, it is
//! either dropped and counted in `dropped_iterations` (k6's behaviour, `when_busy: drop`) or
//! queued for the next free VU (`when_busy: queue`, as wrk2 does); either way each iteration
//! knows its intended start, so latency can be timed from it.
use crate::ctx::ScenarioCtx;
use crate::schedule::Arrivals;
use crate::workload::Vu;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use throng_plan::WhenBusy;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Idle {
    /// Idle VUs with their next iteration number and their own stop token (so waiting on
    /// it never contends with other VUs).
    pool: Vec<(Box<dyn Vu>, u64, CancellationToken)>,
    /// Intended starts of arrivals waiting for a VU (queue mode).
    queue: VecDeque<Instant>,
}

type Shared = Arc<Mutex<Idle>>;

fn lock(p: &Shared) -> MutexGuard<'_, Idle> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs iterations on one VU: the arrival it was given, then queued ones, then goes idle.
async fn runner(
    ctx: Arc<ScenarioCtx>,
    shared: Shared,
    hard: CancellationToken,
    mut vu: Box<dyn Vu>,
    mut iter: u64,
    mut due: Instant,
) {
    ctx.vu_active(1);
    loop {
        let ok = ctx.iterate(&mut vu, iter, Some(due), &hard).await;
        iter += 1;
        if !ok {
            break;
        }
        let mut idle = lock(&shared);
        match idle.queue.pop_front() {
            Some(next) if !hard.is_cancelled() => due = next,
            Some(next) => {
                idle.queue.push_front(next);
                idle.pool.push((vu, iter, hard));
                break;
            }
            None => {
                idle.pool.push((vu, iter, hard));
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
    let start = Instant::now();
    let end = start + arrivals.duration();
    let hard = ctx.hard_stop_after(end);
    let shared: Shared = Arc::new(Mutex::new(Idle::default()));
    for _ in 0..pre {
        let vu = ctx.new_vu();
        lock(&shared).pool.push((vu, 0, hard.child_token()));
    }
    let mut allocated = pre;
    let mut running = JoinSet::new();
    for offset in arrivals {
        let due = start + offset;
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = ctx.abort.cancelled() => break,
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
                        WhenBusy::Queue => idle.queue.push_back(due),
                        WhenBusy::Drop => ctx.dropped(1),
                    }
                    continue;
                }
            }
        };
        let (vu, iter, token) = match vu {
            Some(v) => v,
            None => {
                allocated += 1;
                (ctx.new_vu(), 0, hard.child_token())
            }
        };
        running.spawn(runner(ctx.clone(), shared.clone(), token, vu, iter, due));
    }
    while running.join_next().await.is_some() {}
    hard.cancel();
    // queued arrivals that never got a VU before the hard stop
    let left = lock(&shared).queue.len() as u64;
    ctx.dropped(left);
}
