//! The JS worker threads: each runs a single-threaded async runtime whose tasks are VU
//! drivers, so thousands of VUs share a few threads.
use crate::msg::Cmd;
use crate::shared::VuSpec;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// A VU to start on a worker: its spec and its command channel.
type Job = (VuSpec, mpsc::UnboundedReceiver<Cmd>);

/// The worker threads (they end when the pool and every VU handle are gone).
pub(crate) struct Pool {
    workers: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
}

impl Pool {
    /// Starts `n` workers.
    pub(crate) fn new(n: usize) -> Result<Pool, String> {
        let mut workers = Vec::new();
        for i in 0..n.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a JavaScript worker: {e}"))?;
            std::thread::Builder::new()
                .name(format!("throng-js-{i}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, async move {
                        while let Some((spec, cmds)) = rx.recv().await {
                            tokio::task::spawn_local(crate::driver::drive(spec, cmds));
                        }
                    });
                    // the VUs still running end when their handles are dropped
                    rt.block_on(local);
                })
                .map_err(|e| format!("cannot start a JavaScript worker: {e}"))?;
            workers.push(tx);
        }
        Ok(Pool {
            workers,
            next: AtomicUsize::new(0),
        })
    }

    /// Starts a VU on the next worker; returns its command channel.
    pub(crate) fn spawn(&self, spec: VuSpec) -> mpsc::UnboundedSender<Cmd> {
        let (tx, rx) = mpsc::unbounded_channel();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        // a worker that has gone leaves the VU's channel closed: its commands fail
        let _ = self.workers[i].send((spec, rx));
        tx
    }
}
