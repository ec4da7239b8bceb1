//! A request's timeout, on a timer kept from request to request.
//!
//! `tokio::time::timeout` per request makes a timer, puts it in the runtime's timer wheel
//! (a lock), takes it out again when the response comes (another) and reads the clock for
//! its deadline: about 1,200 instructions on a keep-alive request whose whole exchange is
//! 17,000. A client's timer here is made once and left where it is while its deadline is
//! still ahead of the request's own: deadlines only grow from one request to the next, so
//! it fires (or is moved) about once per timeout period, not once per request. When it
//! fires early (it was set for an earlier request) it is moved to the request's deadline.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep};

/// A client's request timer: none until a request first has to wait.
pub(crate) type Timer = Option<Pin<Box<Sleep>>>;

pin_project_lite::pin_project! {
    /// `fut`, ended as `None` when `deadline` passes first (see [`within`]).
    pub(crate) struct Within<'t, F> {
        timer: &'t mut Timer,
        deadline: Instant,
        #[pin]
        fut: F,
    }
}

/// Runs `fut` until it ends (`Some` of its output) or `deadline` passes (`None`; `fut` is
/// dropped), on `timer`.
pub(crate) fn within<F: Future>(timer: &mut Timer, deadline: Instant, fut: F) -> Within<'_, F> {
    Within {
        timer,
        deadline,
        fut,
    }
}

impl<F: Future> Future for Within<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(Some(v));
        }
        let deadline = *this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // set for a later deadline (a request with a shorter timeout than the last one's)
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        // fired: for this request's deadline, or early (set for an earlier request's)
        while timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= deadline {
                return Poll::Ready(None);
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_request_past_its_deadline_ends_at_the_deadline() {
        let mut timer = None;
        let deadline = Instant::now() + Duration::from_millis(20);
        let out = within(
            &mut timer,
            deadline,
            tokio::time::sleep(Duration::from_secs(600)),
        )
        .await;
        assert!(out.is_none());
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn a_timer_set_for_an_earlier_request_does_not_end_a_later_one() {
        let mut timer = None;
        // the first request waits 10 ms: the timer is made for its deadline, 50 ms
        let t0 = Instant::now();
        let a = within(
            &mut timer,
            t0 + Duration::from_millis(50),
            tokio::time::sleep(Duration::from_millis(10)),
        )
        .await;
        assert_eq!(a, Some(()));
        // the second runs past the first's deadline: the timer fires then, is moved to
        // the second's deadline, and the request ends by itself (the future is polled
        // before the timer, so even a stalled machine gives its output)
        let b = within(
            &mut timer,
            Instant::now() + Duration::from_secs(600),
            tokio::time::sleep_until(t0 + Duration::from_millis(120)),
        )
        .await;
        assert_eq!(b, Some(()));
        // a third with a shorter timeout than the timer's deadline is still held to it
        let deadline = Instant::now() + Duration::from_millis(5);
        let c = within(
            &mut timer,
            deadline,
            tokio::time::sleep(Duration::from_secs(600)),
        )
        .await;
        assert!(c.is_none());
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn a_request_that_never_waits_makes_no_timer() {
        let mut timer = None;
        let out = within(&mut timer, Instant::now() + Duration::from_secs(1), async {
            7
        })
        .await;
        assert_eq!(out, Some(7));
        assert!(timer.is_none());
    }
}
