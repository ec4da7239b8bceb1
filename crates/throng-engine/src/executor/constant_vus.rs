//! `constant-vus`: a fixed number of VUs loop for a duration.
use crate::ctx::ScenarioCtx;
use std::sync::Arc;
use std::time::Duration;

pub(crate) async fn run(ctx: Arc<ScenarioCtx>, vus: u64, duration: Duration) {
    let clock = ctx.clock();
    let hard = ctx.hard_stop_after(&clock, duration);
    let mut tasks = Vec::new();
    for _ in 0..vus {
        let (ctx, hard, clock) = (ctx.clone(), hard.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let mut vu = ctx.new_vu();
            // a token of the VU's own, so waiting on it never contends with other VUs
            let hard = hard.child_token();
            ctx.vu_active(1);
            let mut i = 0;
            while clock.elapsed() < duration && !ctx.abort.is_cancelled() {
                if !ctx.iterate(&mut vu, i, None, &hard).await {
                    break;
                }
                i += 1;
            }
            ctx.vu_active(-1);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    hard.cancel();
}
