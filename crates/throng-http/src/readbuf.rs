//! Read buffers lent to HTTP/1.1 connections while they read a response.
//!
//! A connection waits for its response with no buffer (its first read goes to the stack)
//! and gives its buffer back once the response is read, so the 10,000 VUs of a load test
//! that sleep between requests with their connections open hold no read buffer at all.
//! Buffers are kept per thread (no lock): a thread's connections take the one given back
//! last, so a VU that sends request after request reuses the same buffer and allocates
//! nothing (crates/throng-flow/tests/allocs.rs counts it).
use std::cell::RefCell;

/// Largest buffer kept for another response: responses up to about this size reuse a
/// buffer instead of allocating and zero-filling again, while a big one is not kept.
pub(crate) const KEEP: usize = 16 * 1024;
/// Buffers a thread keeps at most: as many connections as read at the same moment on one
/// thread, at most 1 MiB.
const SPARE_MAX: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of at least `min` initialised bytes: the thread's last one given back, or a new
/// zero-filled one.
pub(crate) fn take(min: usize) -> Vec<u8> {
    let mut b = SPARE
        .try_with(|s| s.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    if b.len() < min {
        b.resize(min, 0);
    }
    b
}

/// Gives a buffer back for the thread's next response (dropped if it is larger than
/// [`KEEP`] or the thread keeps enough already).
pub(crate) fn give(b: Vec<u8>) {
    if b.capacity() == 0 || b.len() > KEEP {
        return;
    }
    let _ = SPARE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < SPARE_MAX {
            s.push(b);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again() {
        let a = take(2048);
        assert_eq!(a.len(), 2048);
        let p = a.as_ptr();
        give(a);
        let b = take(1024);
        assert_eq!(b.as_ptr(), p, "the same buffer");
        assert_eq!(b.len(), 2048);
        // too big to keep
        give(vec![0; KEEP * 2]);
        assert_eq!(take(16).len(), 16);
    }
}
