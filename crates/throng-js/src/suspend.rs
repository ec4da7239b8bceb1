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

/// A VU's coroutine, which the engine's tasks may resume on any of their threads.
pub(crate) struct VuCoroutine(pub(crate) VuCo);

/// The coroutine type of a VU.
pub(crate) type VuCo = corosensei::Coroutine<
    In,
    Op,
    Result<crate::vm::Probe, String>,
    corosensei::stack::DefaultStack,
>;

// SAFETY: everything on the coroutine's stack — the QuickJS runtime and its contexts, the
// natives' `Rc` state, the suspender — is made inside the coroutine body and reachable
// only from it; nothing is shared with the thread that resumes it (no thread-locals are
// held across a suspension, and the stack is the coroutine's own heap allocation, so
// QuickJS's stack bounds stay right). Moving the whole bundle between threads while it is
// suspended is therefore like moving a struct that owns all its `Rc`s; it is only ever
// resumed by the one `JsVu` that owns it, through `&mut`.
#[allow(unsafe_code)]
unsafe impl Send for VuCoroutine {}
