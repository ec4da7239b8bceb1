//! `externally-controlled`: `vus` looping VUs whose count the run's [`EngineControl`]
//! changes while it runs (`throng scale`, the control API, the dashboard), up to `maxVUs`
//! (which may be raised too). It runs for `duration` of running time (paused time does not
//! count), or until the run is stopped when `duration` is 0. When scaled down, surplus VUs
//! finish their iteration within the scenario's `gracefulStop` or are interrupted.
//!
//! [`EngineControl`]: crate::EngineControl
use super::ramping_vus::slot_worker;
use crate::ctx::ScenarioCtx;
use crate::stop::StopHub;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub(crate) async fn run(ctx: Arc<ScenarioCtx>, vus: u64, max_vus: u64, duration: Duration) {
    let clock = ctx.clock();
    // (wanted VUs, scenario over)
    let tx = Arc::new(watch::Sender::new((vus, false)));
    let mut rx = tx.subscribe();
    ctx.control().register_external(tx.clone(), max_vus);
    let hard = if duration.is_zero() {
        ctx.abort.child_token()
    } else {
        ctx.hard_stop_after(&clock, duration)
    };
    let hub = StopHub::new(&hard);
    let mut tasks = Vec::new();
    let spawn_up_to = |n: u64, tasks: &mut Vec<tokio::task::JoinHandle<()>>| {
        while (tasks.len() as u64) < n {
            tasks.push(tokio::spawn(slot_worker(
                ctx.clone(),
                tasks.len() as u64,
                hub.clone(),
                tx.subscribe(),
                ctx.graceful_stop,
            )));
        }
    };
    spawn_up_to(vus, &mut tasks);
    loop {
        tokio::select! {
            _ = clock.sleep_until(duration), if !duration.is_zero() => break,
            _ = ctx.abort.cancelled() => break,
            r = rx.changed() => {
                if r.is_err() {
                    break;
                }
                let n = rx.borrow_and_update().0;
                spawn_up_to(n, &mut tasks);
            }
        }
    }
    ctx.control().unregister_external();
    tx.send_modify(|w| w.1 = true);
    for t in tasks {
        let _ = t.await;
    }
    hard.cancel();
}
