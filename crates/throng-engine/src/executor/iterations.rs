//! `shared-iterations` and `per-vu-iterations`: a fixed amount of work, bounded by
//! `maxDuration`. Iterations not started in time count as `dropped_iterations`.
use crate::control::Clock;
use crate::ctx::{Mode, ScenarioCtx};
use crate::stop::StopHub;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A token cancelled when `clock` reaches `end` (or on abort): no new iterations after it.
fn stop_starting_at(ctx: &ScenarioCtx, clock: &Clock, end: Duration) -> CancellationToken {
    let t = ctx.abort.child_token();
    let t2 = t.clone();
    let clock = clock.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = clock.sleep_until(end) => t2.cancel(),
            _ = t2.cancelled() => {}
        }
    });
    t
}

pub(crate) async fn shared(ctx: Arc<ScenarioCtx>, vus: u64, iterations: u64, max: Duration) {
    let clock = ctx.clock();
    let no_new = stop_starting_at(&ctx, &clock, max);
    let hard = ctx.hard_stop_after(&clock, max);
    let hub = StopHub::new(&hard);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..vus {
        let (ctx, next, no_new, hub) = (ctx.clone(), next.clone(), no_new.clone(), hub.clone());
        tasks.push(tokio::spawn(async move {
            let mut vu = ctx.new_vu();
            let mut stop = hub.vu();
            ctx.vu_active(1);
            let mut own = 0;
            // each iteration is claimed from the shared count just before it starts
            let mut more =
                |_| !no_new.is_cancelled() && next.fetch_add(1, Ordering::SeqCst) < iterations;
            ctx.run_iterations(&mut vu, &mut own, Mode::Loop, &mut stop, &mut more)
                .await;
            ctx.vu_active(-1);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    no_new.cancel();
    hard.cancel();
    let started = next.load(Ordering::SeqCst).min(iterations);
    let st = ctx.stats.snapshot();
    // claimed but never run (a VU saw the stop after claiming) also counts as dropped
    let ran = st.completed + st.interrupted + st.failed;
    ctx.dropped(iterations - started.min(iterations) + started.saturating_sub(ran));
}

pub(crate) async fn per_vu(ctx: Arc<ScenarioCtx>, vus: u64, iterations: u64, max: Duration) {
    let clock = ctx.clock();
    let no_new = stop_starting_at(&ctx, &clock, max);
    let hard = ctx.hard_stop_after(&clock, max);
    let hub = StopHub::new(&hard);
    let mut tasks = Vec::new();
    for _ in 0..vus {
        let (ctx, no_new, hub) = (ctx.clone(), no_new.clone(), hub.clone());
        tasks.push(tokio::spawn(async move {
            let mut vu = ctx.new_vu();
            let mut stop = hub.vu();
            ctx.vu_active(1);
            // iterations started (the ones a stop cut off included); the rest are dropped
            let mut done = 0;
            let mut claimed = 0;
            let mut more = |_| {
                let go = claimed < iterations && !no_new.is_cancelled();
                claimed += u64::from(go);
                go
            };
            ctx.run_iterations(&mut vu, &mut done, Mode::Loop, &mut stop, &mut more)
                .await;
            ctx.vu_active(-1);
            iterations - done
        }));
    }
    let mut left = 0;
    for t in tasks {
        left += t.await.unwrap_or(0);
    }
    no_new.cancel();
    hard.cancel();
    ctx.dropped(left);
}
