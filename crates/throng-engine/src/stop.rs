//! The stop signal a VU checks at every poll of its iteration.
//!
//! A [`CancellationToken`] is the engine's stop everywhere else, but waiting on one costs
//! two mutex locks per poll (the token's tree node, then its `Notify`'s waiter list) and a
//! link and unlink of a waiter per iteration: about 650 instructions per request at 50
//! keep-alive VUs, the cost of a whole HTTP/1.1 request head parse. A [`VuStop`] costs one
//! atomic load and a waker comparison per poll: its VU's waker is registered once (again
//! only if the task's waker changes), and the scenario's [`StopHub`] turns the token's
//! cancellation into a flag and a wake for every VU. The flag is on a cache line of the
//! VU's own, which at 1,000 VUs would be a miss per request: the hub counts every stop,
//! and a VU reads its own flag only when that count has moved since it last looked.
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use tokio_util::sync::CancellationToken;

/// One VU's flag and the waker to wake when it is set.
struct Signal {
    stopped: AtomicBool,
    waker: Mutex<Option<Waker>>,
    /// The hub whose count of stops this stop moves.
    hub: Arc<HubInner>,
}

impl Signal {
    fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        // after the flag: a VU that sees the count moved sees the flag set
        self.hub.stops.0.fetch_add(1, Ordering::Release);
        let w = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// The VUs of one scenario (or of one stop token), stopped together when the token is
/// cancelled.
#[derive(Clone)]
pub(crate) struct StopHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    stopped: AtomicBool,
    /// How many VUs have been told to stop: one shared line every VU reads (and finds in
    /// its cache), instead of its own flag's. On a line of its own, apart from this
    /// `Arc`'s counts, which every `StopHandle` made (one per arrival) writes.
    stops: Count,
    vus: Mutex<Vec<Weak<Signal>>>,
}

/// A counter on a cache line of its own.
#[repr(align(64))]
struct Count(AtomicU64);

impl StopHub {
    /// A hub stopped when `token` is cancelled: a task waits for the token (the
    /// executors cancel their stop token when the scenario ends, which ends the task).
    pub(crate) fn new(token: &CancellationToken) -> StopHub {
        let hub = StopHub {
            inner: Arc::new(HubInner {
                stopped: AtomicBool::new(false),
                stops: Count(AtomicU64::new(0)),
                vus: Mutex::new(Vec::new()),
            }),
        };
        let weak = Arc::downgrade(&hub.inner);
        let token = token.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            if let Some(inner) = weak.upgrade() {
                StopHub { inner }.stop_all();
            }
        });
        hub
    }

    /// Stops every VU of the hub, and every VU made from it later.
    pub(crate) fn stop_all(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        let vus = std::mem::take(&mut *self.vus());
        for s in vus.iter().filter_map(Weak::upgrade) {
            s.stop();
        }
    }

    fn vus(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Signal>>> {
        self.inner
            .vus
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A stop for one VU (or one activation of a VU), stopped with the hub or on its own.
    pub(crate) fn vu(&self) -> VuStop {
        let sig = Arc::new(Signal {
            stopped: AtomicBool::new(false),
            waker: Mutex::new(None),
            hub: self.inner.clone(),
        });
        let mut vus = self.vus();
        // a stop made after (or while) the hub stopped starts stopped
        if self.inner.stopped.load(Ordering::Acquire) {
            sig.stopped.store(true, Ordering::Release);
        } else {
            // forget VUs that are gone: amortised over the additions
            if vus.len() == vus.capacity() {
                vus.retain(|w| w.strong_count() > 0);
            }
            vus.push(Arc::downgrade(&sig));
        }
        VuStop {
            flag: Flag::new(sig),
            seen: None,
        }
    }
}

/// A VU's flag as one of its holders reads it: only when the hub's count of stops has
/// moved since this holder last found it unset.
#[derive(Clone)]
struct Flag {
    sig: Arc<Signal>,
    /// The signal's hub, held here too: reached through `sig`, it would cost the line
    /// this saves.
    hub: Arc<HubInner>,
    /// The hub's count when the flag was last read unset (`u64::MAX`: never read).
    looked_at: u64,
}

impl Flag {
    fn new(sig: Arc<Signal>) -> Flag {
        Flag {
            hub: sig.hub.clone(),
            sig,
            looked_at: u64::MAX,
        }
    }

    fn is_set(&mut self) -> bool {
        let stops = self.hub.stops.0.load(Ordering::Acquire);
        if stops == self.looked_at {
            return false;
        }
        if self.sig.stopped.load(Ordering::Acquire) {
            return true;
        }
        self.looked_at = stops;
        false
    }
}

/// A VU's stop: set by its hub (the hard stop) or through a [`StopHandle`] (a ramp-down).
pub(crate) struct VuStop {
    flag: Flag,
    /// The waker last registered, so an unchanged waker is not registered again.
    seen: Option<Waker>,
}

/// Stops one [`VuStop`] from elsewhere (a ramp-down watcher).
#[derive(Clone)]
pub(crate) struct StopHandle(Flag);

impl StopHandle {
    /// Stops the VU.
    pub(crate) fn stop(&self) {
        self.0.sig.stop();
    }

    /// Whether the VU was told to stop.
    pub(crate) fn is_stopped(&mut self) -> bool {
        self.0.is_set()
    }
}

impl VuStop {
    /// Whether the VU has been told to stop.
    pub(crate) fn is_stopped(&mut self) -> bool {
        self.flag.is_set()
    }

    /// A handle that stops this VU.
    pub(crate) fn handle(&self) -> StopHandle {
        StopHandle(Flag::new(self.flag.sig.clone()))
    }

    /// Ready once the VU is told to stop; otherwise registers the task's waker (only
    /// when it differs from the last one registered).
    pub(crate) fn poll_stopped(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_stopped() {
            return Poll::Ready(());
        }
        let w = cx.waker();
        if !self.seen.as_ref().is_some_and(|s| s.will_wake(w)) {
            *self
                .flag
                .sig
                .waker
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(w.clone());
            self.seen = Some(w.clone());
            // set between the first check and the registration: its wake may have found
            // no waker
            if self.is_stopped() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }

    /// Waits until the VU is told to stop.
    pub(crate) async fn stopped(&mut self) {
        poll_fn(|cx| self.poll_stopped(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_cancelled_token_stops_every_vu_and_later_ones() {
        let token = CancellationToken::new();
        let hub = StopHub::new(&token);
        let mut a = hub.vu();
        let mut b = hub.vu();
        assert!(!a.is_stopped());
        let wa = tokio::spawn(async move {
            a.stopped().await;
            a.is_stopped()
        });
        tokio::task::yield_now().await;
        token.cancel();
        assert!(tokio::time::timeout(Duration::from_secs(5), wa)
            .await
            .is_ok_and(|r| r.is_ok_and(|s| s)));
        tokio::time::timeout(Duration::from_secs(5), b.stopped())
            .await
            .ok();
        assert!(b.is_stopped());
        assert!(hub.vu().is_stopped());
    }

    #[tokio::test]
    async fn a_handle_stops_one_vu_only() {
        let token = CancellationToken::new();
        let hub = StopHub::new(&token);
        let mut a = hub.vu();
        let mut b = hub.vu();
        let mut hb = b.handle();
        // each has looked at its flag once: the hub's count of stops is what they read next
        assert!(!b.is_stopped() && !hb.is_stopped());
        let h = a.handle();
        let wa = tokio::spawn(async move { a.stopped().await });
        tokio::task::yield_now().await;
        h.stop();
        assert!(tokio::time::timeout(Duration::from_secs(5), wa)
            .await
            .is_ok());
        // the count moved for a's stop: b reads its own flag, which is unset
        assert!(!b.is_stopped() && !hb.is_stopped());
        assert!(
            !b.is_stopped(),
            "and stays unset while the count does not move"
        );
        // then b's own stop moves the count again, and both of b's holders see it
        b.handle().stop();
        assert!(b.is_stopped() && hb.is_stopped());
    }

    #[tokio::test]
    async fn many_vus_come_and_go_without_growing_the_list() {
        let token = CancellationToken::new();
        let hub = StopHub::new(&token);
        for _ in 0..10_000 {
            drop(hub.vu());
        }
        assert!(hub.vus().len() <= 64, "{}", hub.vus().len());
    }
}
