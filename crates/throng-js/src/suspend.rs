//! The one place that keeps a coroutine's yielder for the JavaScript natives to suspend
//! the VU with (QuickJS calls them deep inside the coroutine's own stack).
#![allow(unsafe_code)]

use crate::msg::{In, Op};
use corosensei::Yielder;

/// Suspends the coroutine it was made in.
pub(crate) struct Suspender {
    y: *const Yielder<In, Op>,
}

impl Suspender {
    /// Keeps `y`: the suspender must not outlive the coroutine body that was handed `y`
    /// (the VM holds it only in natives of a runtime dropped before the body returns).
    pub(crate) fn new(y: &Yielder<In, Op>) -> Suspender {
        Suspender { y }
    }

    /// Hands `op` to the VU's driver and waits for its answer.
    pub(crate) fn suspend(&self, op: Op) -> In {
        // SAFETY: `y` points at the yielder of the coroutine that is running now: a
        // Suspender is only made in a coroutine body, only reachable from the QuickJS
        // runtime made in that body, and that runtime is dropped before the body returns,
        // so the yielder outlives every call; natives only run on the coroutine's stack.
        unsafe { (*self.y).suspend(op) }
    }
}
