//! `constant-vus`: a fixed number of VUs loop for a duration.
use crate::ctx::{Mode, ScenarioCtx};
use crate::stop::StopHub;
use std::sync::Arc;
use std::time::Duration;

pub(crate) async fn run(ctx: Arc<ScenarioCtx>, vus: u64, duration: Duration) {
    let clock = ctx.clock();
    let hard = ctx.hard_stop_after(&clock, duration);
    let hub = StopHub::new(&hard);
    let mut tasks = Vec::new();
    for _ in 0..vus {
        let (ctx, hub, clock) = (ctx.clone(), hub.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let mut vu = ctx.new_vu();
            let mut stop = hub.vu();
            ctx.vu_active(1);
            let mut i = 0;
            // an abort stops the hub too (the hard stop is a child of the abort)
            let mut more = |now| clock.elapsed_at(now) < duration && !ctx.abort.is_cancelled();
            ctx.run_iterations(&mut vu, &mut i, Mode::Loop, &mut stop, &mut more)
                .await;
            ctx.vu_active(-1);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    hard.cancel();
}
