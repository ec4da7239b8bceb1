//! `constant-arrival-rate` and `ramping-arrival-rate`: iterations start on a clock that
//! never waits for responses. With no idle VU (and `maxVUs` reached) an arrival is dropped
//! and counted in `dropped_iterations`, as in k6.
use crate::ctx::ScenarioCtx;
use crate::schedule::Arrivals;
use crate::workload::Vu;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::task::JoinSet;

type Pool = Arc<Mutex<Vec<(Box<dyn Vu>, u64)>>>;

fn lock(p: &Pool) -> std::sync::MutexGuard<'_, Vec<(Box<dyn Vu>, u64)>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) async fn run(ctx: Arc<ScenarioCtx>, arrivals: Arrivals, pre: u64, max_vus: u64) {
    let start = Instant::now();
    let end = start + arrivals.duration();
    let hard = ctx.hard_stop_after(end);
    let pool: Pool = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..pre {
        let vu = ctx.new_vu();
        lock(&pool).push((vu, 0));
    }
    let mut allocated = pre;
    let mut running = JoinSet::new();
    for offset in arrivals {
        let due = start + offset;
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = ctx.abort.cancelled() => break,
        }
        // reap finished iterations without waiting
        while running.try_join_next().is_some() {}
        let idle = lock(&pool).pop();
        let (mut vu, iter) = match idle {
            Some(v) => v,
            None if allocated < max_vus => {
                allocated += 1;
                (ctx.new_vu(), 0)
            }
            None => {
                ctx.dropped(1);
                continue;
            }
        };
        let (ctx2, hard2, pool2) = (ctx.clone(), hard.clone(), pool.clone());
        running.spawn(async move {
            ctx2.vu_active(1);
            let ok = ctx2.iterate(&mut vu, iter, Some(due), &hard2).await;
            ctx2.vu_active(-1);
            if ok {
                lock(&pool2).push((vu, iter + 1));
            }
        });
    }
    while running.join_next().await.is_some() {}
    hard.cancel();
}
