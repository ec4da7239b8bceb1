//! `ramping-vus`: the number of looping VUs follows the stages. When the target drops, a
//! surplus VU finishes its iteration within `gracefulRampDown` or is interrupted.
use crate::config::Stage;
use crate::ctx::{Mode, ScenarioCtx};
use crate::schedule::vus_at;
use crate::stop::StopHub;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the controller re-reads the ramp.
const TICK: Duration = Duration::from_millis(5);

pub(crate) async fn run(
    ctx: Arc<ScenarioCtx>,
    start_vus: u64,
    stages: Vec<Stage>,
    graceful_ramp_down: Duration,
) {
    let clock = ctx.clock();
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    let max = stages
        .iter()
        .map(|s| s.target.ceil() as u64)
        .max()
        .unwrap_or(0)
        .max(start_vus);
    // (wanted VUs, scenario over)
    let (tx, rx) = watch::channel((vus_at(start_vus, &stages, Duration::ZERO), false));
    let hard = ctx.hard_stop_after(&clock, total);
    let hub = StopHub::new(&hard);
    let mut tasks = Vec::new();
    for slot in 0..max {
        tasks.push(tokio::spawn(slot_worker(
            ctx.clone(),
            slot,
            hub.clone(),
            rx.clone(),
            graceful_ramp_down,
        )));
    }
    // the controller
    let mut last = rx.borrow().0;
    loop {
        let now = clock.elapsed();
        if now >= total || ctx.abort.is_cancelled() {
            break;
        }
        let want = clock.vus_at(start_vus, &stages);
        if want != last {
            last = want;
            let _ = tx.send((want, false));
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK.min(total - now)) => {}
            _ = ctx.abort.cancelled() => break,
        }
    }
    let _ = tx.send((vus_at(start_vus, &stages, total), true));
    for t in tasks {
        let _ = t.await;
    }
    hard.cancel();
}

/// One VU slot: its VU loops while the wanted count (`rx`: wanted VUs, scenario over) is
/// above `slot`; when it drops, the VU finishes its iteration within `graceful_ramp_down`
/// or is interrupted, then waits to be wanted again.
pub(super) async fn slot_worker(
    ctx: Arc<ScenarioCtx>,
    slot: u64,
    hub: StopHub,
    mut rx: watch::Receiver<(u64, bool)>,
    graceful_ramp_down: Duration,
) {
    let mut vu = None;
    let mut iter = 0;
    loop {
        // wait to be wanted
        let over = match rx.wait_for(|(n, over)| *over || *n > slot).await {
            Ok(v) => v.1,
            Err(_) => true,
        };
        if over {
            break;
        }
        let vu = vu.get_or_insert_with(|| ctx.new_vu());
        ctx.vu_active(1);
        // interrupted by the hard stop, or gracefulRampDown after being unwanted;
        // one token and watcher per activation, not per iteration
        let mut ramp_down = hub.vu();
        let rd = ramp_down.handle();
        let mut rx2 = rx.clone();
        let watcher = tokio::spawn(async move {
            if rx2.wait_for(|(n, _)| *n <= slot).await.is_ok() {
                tokio::time::sleep(graceful_ramp_down).await;
                rd.stop();
            }
        });
        let mut more = |_| {
            let (n, over) = *rx.borrow();
            !(over || n <= slot || ctx.abort.is_cancelled())
        };
        ctx.run_iterations(vu, &mut iter, Mode::Loop, &mut ramp_down, &mut more)
            .await;
        watcher.abort();
        ctx.vu_active(-1);
        let over = rx.borrow().1;
        if over || ctx.abort.is_cancelled() {
            break;
        }
    }
}
