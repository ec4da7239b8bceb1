//! A request's timeout, on a timer kept from request to request.
//!
//! `tokio::time::timeout` per request makes a timer, puts it in the runtime's timer wheel
//! (a lock), takes it out again when the response comes (another) and reads the clock for
//! its deadline: about 1,200 instructions on a keep-alive request whose whole exchange is
//! 17,000. A client's timer here is made once and left where it is while its deadline is
//! still ahead of the request's own: deadlines only grow from one request to the next, so
//! it fires (or is moved) about once per timeout period, not once per request. When it
//! fires early (it was set for an earlier request) it is moved to the request's deadline.
//!
//! Nor is it polled at every request: while it is set for a deadline still ahead and holds
//! the waker of the task that polls it, it has not fired and will wake that task, so the
//! request's first wait does not touch it (with a thousand VUs, its two cache lines are
//! two misses per request). The request's start, read anyway, tells whether the deadline
//! is still ahead; a later wait reads the clock.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use tokio::time::{Instant, Sleep};

/// A client's request timer: none until a request first has to wait.
#[derive(Default)]
pub(crate) struct Timer {
    sleep: Option<Pin<Box<Sleep>>>,
    /// The deadline `sleep` is set to and the waker it holds, as it was last polled.
    armed: Option<(Instant, Waker)>,
}

pin_project_lite::pin_project! {
    /// `fut`, ended as `None` when `deadline` passes first (see [`within`]).
    pub(crate) struct Within<'t, F> {
        timer: &'t mut Timer,
        start: Instant,
        deadline: Instant,
        // the next wait is the request's first (whose `start` is as good as the clock)
        first: bool,
        #[pin]
        fut: F,
    }
}

/// Runs `fut`, a request that started at `start`, until it ends (`Some` of its output) or
/// `deadline` passes (`None`; `fut` is dropped), on `timer`.
pub(crate) fn within<F: Future>(
    timer: &mut Timer,
    start: Instant,
    deadline: Instant,
    fut: F,
) -> Within<'_, F> {
    Within {
        timer,
        start,
        deadline,
        first: true,
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
        let first = std::mem::replace(this.first, false);
        let timer = &mut **this.timer;
        // set no later than this deadline and holding this task's waker: if its deadline is
        // still ahead it has not fired, and it will wake this task when it does
        if let Some((at, w)) = &timer.armed {
            if *at <= deadline && w.will_wake(cx.waker()) {
                let now = if first { *this.start } else { Instant::now() };
                if now < *at {
                    return Poll::Pending;
                }
            }
        }
        let sleep = timer
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // set for a later deadline (a request with a shorter timeout than the last one's)
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        // fired: for this request's deadline, or early (set for an earlier request's)
        while fired(sleep, cx) {
            if Instant::now() >= deadline {
                timer.armed = None;
                return Poll::Ready(None);
            }
            sleep.as_mut().reset(deadline);
        }
        let at = sleep.deadline();
        match &mut timer.armed {
            Some((a, w)) if w.will_wake(cx.waker()) => *a = at,
            armed => *armed = Some((at, cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// Polls `sleep` outside the task's coop budget, so that a pending timer always holds the
/// task's waker: a poll that found the budget spent (a request that read many chunks in
/// this poll) would return `Pending` without registering it, and `armed` would then claim
/// a waker the timer does not hold — the request's timeout would never fire.
fn fired(sleep: &mut Pin<Box<Sleep>>, cx: &mut Context<'_>) -> bool {
    let mut poll = std::pin::pin!(tokio::task::unconstrained(sleep.as_mut()));
    poll.as_mut().poll(cx).is_ready()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_request_past_its_deadline_ends_at_the_deadline() {
        let mut timer = Timer::default();
        let deadline = Instant::now() + Duration::from_millis(20);
        let out = within(
            &mut timer,
            Instant::now(),
            deadline,
            tokio::time::sleep(Duration::from_secs(600)),
        )
        .await;
        assert!(out.is_none());
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn a_timer_set_for_an_earlier_request_does_not_end_a_later_one() {
        let mut timer = Timer::default();
        // the first request waits 10 ms: the timer is made for its deadline, 50 ms
        let t0 = Instant::now();
        let a = within(
            &mut timer,
            t0,
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
            Instant::now(),
            Instant::now() + Duration::from_secs(600),
            tokio::time::sleep_until(t0 + Duration::from_millis(120)),
        )
        .await;
        assert_eq!(b, Some(()));
        // a third with a shorter timeout than the timer's deadline is still held to it
        let deadline = Instant::now() + Duration::from_millis(5);
        let c = within(
            &mut timer,
            Instant::now(),
            deadline,
            tokio::time::sleep(Duration::from_secs(600)),
        )
        .await;
        assert!(c.is_none());
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn a_request_that_never_waits_makes_no_timer() {
        let mut timer = Timer::default();
        let now = Instant::now();
        let out = within(&mut timer, now, now + Duration::from_secs(1), async { 7 }).await;
        assert_eq!(out, Some(7));
        assert!(timer.sleep.is_none());
    }

    #[tokio::test]
    async fn a_timer_left_unpolled_still_ends_a_later_request() {
        // in a task of its own: a task's waker is the same from poll to poll (the test's
        // `block_on` lends one that does not compare equal to its clones)
        let ended = tokio::spawn(async {
            let mut timer = Timer::default();
            // the first request arms the timer for its deadline, 40 ms, and ends at 10 ms
            let t0 = Instant::now();
            let a = within(
                &mut timer,
                t0,
                t0 + Duration::from_millis(40),
                tokio::time::sleep(Duration::from_millis(10)),
            )
            .await;
            assert_eq!(a, Some(()));
            assert!(timer.armed.is_some());
            // the second, due to end at 45 ms, never gets an answer. Its first wait leaves
            // the timer as it is (armed for 40 ms, still ahead); the timer fires at 40 ms,
            // is moved to 45 ms, and ends the request there
            let deadline = t0 + Duration::from_millis(45);
            let b = within(
                &mut timer,
                Instant::now(),
                deadline,
                tokio::time::sleep(Duration::from_secs(2)),
            )
            .await;
            assert!(b.is_none());
            assert!(Instant::now() >= deadline);
            t0.elapsed()
        })
        .await
        .expect("the test task");
        assert!(ended < Duration::from_secs(1), "{ended:?}");
    }

    /// Never ends, and spends the task's whole coop budget at every poll (as a request
    /// reading many chunks does before it waits again).
    struct SpendsBudget;

    impl Future for SpendsBudget {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            loop {
                let spend = std::pin::pin!(tokio::task::consume_budget());
                if spend.poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
    }

    /// Runs `request` (which never ends by itself) in a task of its own with a 30 ms
    /// timeout, and checks that the timeout ended it, at its deadline: not when something
    /// else happened to wake the task (tokio's own 2 s timeout bounds the test, polling its
    /// timer outside the budget).
    async fn ends_at_its_deadline(request: impl Future<Output = ()> + Send + 'static) {
        let (out, took) = tokio::spawn(async {
            let mut timer = Timer::default();
            let start = Instant::now();
            let deadline = start + Duration::from_millis(30);
            let out = tokio::time::timeout(
                Duration::from_secs(2),
                within(&mut timer, start, deadline, request),
            )
            .await;
            (out, start.elapsed())
        })
        .await
        .expect("the test task");
        assert_eq!(out, Ok(None), "the request's own timeout did not end it");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }

    #[tokio::test]
    async fn a_request_that_spends_the_budget_still_times_out() {
        ends_at_its_deadline(SpendsBudget).await;
    }

    /// Spends the task's whole coop budget at its first poll, then waits forever without
    /// waking anyone (a request that read many chunks, then met a stalled server).
    struct SpendsBudgetOnce(bool);

    impl Future for SpendsBudgetOnce {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if !self.0 {
                self.0 = true;
                let _ = Pin::new(&mut SpendsBudget).poll(cx);
            }
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_request_that_spent_the_budget_and_stalls_still_times_out() {
        // the timer is made and first polled with the budget spent; the next poll (the
        // budget's own wake-up) finds it armed and still ahead, and does not poll it again:
        // it must hold the waker all the same
        ends_at_its_deadline(SpendsBudgetOnce(false)).await;
    }
}
