//! The one module with `unsafe`: the VU coroutines that share one QuickJS runtime (a
//! [`Home`]), the yielder QuickJS's natives suspend the running VU with, and the stack
//! bounds QuickJS checks, moved to whichever coroutine stack runs JavaScript now.
#![allow(unsafe_code)]

use crate::msg::{In, Op};
use corosensei::Yielder;
use rquickjs::{qjs, Context, Ctx, Runtime};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

/// One QuickJS runtime and the VUs (a context each) that share it. Every resume of one of
/// its VUs' coroutines, and every drop of one, holds its lock: the runtime is used by one
/// thread at a time, however the engine's tasks move between threads.
pub(crate) struct Home(Mutex<HomeCell>);

/// A Home's runtime, when made.
pub(crate) struct HomeCell(Option<Rc<Hub>>);

// SAFETY: the `Rc<Hub>` (and the runtime inside it) is only touched with the Home's lock
// held: cloned in `Home::hub`, and used, cloned and dropped by coroutines that are only
// resumed or dropped with the lock held (`Home::lock`), so no two threads ever touch it
// at once; nothing in it is tied to a thread (no thread-locals).
unsafe impl Send for HomeCell {}

impl Home {
    /// A home with no runtime yet (the first VU makes it).
    pub(crate) fn new() -> Home {
        Home(Mutex::new(HomeCell(None)))
    }

    /// Holds the runtime for one resume (or drop) of a VU's coroutine.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HomeCell> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether no VU of this runtime runs now.
    pub(crate) fn is_free(&self) -> bool {
        !matches!(self.0.try_lock(), Err(std::sync::TryLockError::WouldBlock))
    }

    /// The runtime's hub for a new VU, made on first use.
    pub(crate) fn hub(&self) -> Result<HubRef, String> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = &g.0 {
            return Ok(HubRef(h.clone()));
        }
        let rt = Runtime::new().map_err(|e| format!("cannot start QuickJS: {e}"))?;
        // no stack check until a VU's coroutine binds it to its own stack
        rt.set_max_stack_size(0);
        let sus = Rc::new(Suspender {
            rtp: Cell::new(std::ptr::null_mut()),
            y: Cell::new(std::ptr::null()),
            base: Cell::new(0),
            turn: RefCell::new(None),
        });
        let s = sus.clone();
        rt.set_interrupt_handler(Some(Box::new(move || crate::vm::interrupt(&s))));
        let hub = Rc::new(Hub {
            ctx: RefCell::new(None),
            loader: Cell::new(false),
            rt,
            sus,
        });
        g.0 = Some(hub.clone());
        Ok(HubRef(hub))
    }
}

/// A hub moved into a VU's coroutine (made and dropped with the Home's lock held).
pub(crate) struct HubRef(pub(crate) Rc<Hub>);

// SAFETY: see `HomeCell`: a HubRef is made under the Home's lock and moved straight into a
// coroutine that only runs (and is only dropped) under that lock.
unsafe impl Send for HubRef {}

/// What the VUs of one runtime share: the runtime, and the suspender of whichever VU
/// runs on it now.
pub(crate) struct Hub {
    /// The context the runtime's VUs share (made by the first; dropped before the runtime).
    pub(crate) ctx: RefCell<Option<Context>>,
    /// Whether the runtime serves the script's local modules (set with the first context
    /// that imports them).
    pub(crate) loader: Cell<bool>,
    /// The runtime.
    pub(crate) rt: Runtime,
    /// Suspends the running VU (natives hold it; it does not hold the runtime).
    pub(crate) sus: Rc<Suspender>,
}

/// Suspends the VU whose coroutine runs JavaScript on the runtime now.
pub(crate) struct Suspender {
    /// The runtime's raw pointer (known once a context is made).
    rtp: Cell<*mut qjs::JSRuntime>,
    /// The yielder of the coroutine running JavaScript now.
    y: Cell<*const Yielder<In, Op>>,
    /// The top of that coroutine's stack.
    base: Cell<usize>,
    /// The running VU's hooks for the runtime's interrupt handler.
    turn: RefCell<Option<Rc<crate::vm::Turn>>>,
}

/// Room QuickJS leaves below its stack limit for Rust natives and the C library.
const STACK_SLACK: usize = 64 * 1024;

impl Suspender {
    /// The coroutine of `y` (whose stack starts at `base`) runs JavaScript now, for the VU
    /// of `turn`. Called at the top of the coroutine body.
    pub(crate) fn enter(&self, y: &Yielder<In, Op>, base: usize, turn: Rc<crate::vm::Turn>) {
        self.y.set(y);
        self.base.set(base);
        *self.turn.borrow_mut() = Some(turn);
        self.rebase();
    }

    /// `ctx` is a context of this runtime: the stack bounds can be set from now on.
    pub(crate) fn bind(&self, ctx: &Context) {
        self.rtp.set(ctx.get_runtime_ptr());
        self.rebase();
    }

    /// The running VU's hooks.
    pub(crate) fn turn(&self) -> Option<Rc<crate::vm::Turn>> {
        self.turn.borrow().clone()
    }

    /// QuickJS's stack check bounds the running coroutine's stack: at most
    /// [`crate::STACK_SIZE`] less some slack below its top, wherever JavaScript resumes.
    fn rebase(&self) {
        let rt = self.rtp.get();
        if rt.is_null() {
            return;
        }
        let here = 0u8;
        let sp = std::hint::black_box(&here) as *const u8 as usize;
        let used = self.base.get().saturating_sub(sp);
        let room = (crate::STACK_SIZE - STACK_SLACK)
            .saturating_sub(used)
            .max(1);
        // SAFETY: `rt` is the live runtime of this suspender's hub (the hub owns both, and
        // natives that hold the suspender run only while the runtime does), used by this
        // thread alone (the Home's lock is held by whoever resumed the running coroutine);
        // both calls only set fields of the runtime.
        unsafe {
            qjs::JS_UpdateStackTop(rt);
            qjs::JS_SetMaxStackSize(rt, room as _);
        }
    }

    /// Hands `op` to the running VU's driver and waits for its answer; then this VU runs
    /// JavaScript again (others may have run on the runtime meanwhile).
    pub(crate) fn suspend(&self, op: Op) -> In {
        let (y, base) = (self.y.get(), self.base.get());
        let turn = self.turn.borrow().clone();
        // SAFETY: `y` is the yielder of the coroutine running now: `enter` set it at the
        // top of this coroutine's body, and every suspend puts its own back before
        // returning, so whenever JavaScript (and so this native) runs, `y` is the yielder
        // of the coroutine whose stack it runs on; that body is still running, so the
        // yielder is alive.
        let rt = self.rtp.get();
        // this VU's chain of JavaScript frames and its pending promise jobs leave the
        // runtime while others run on it
        let frames = frames::take(rt);
        let jobs = frames::take_jobs(rt);
        let r = unsafe { (*y).suspend(op) };
        frames::put(rt, frames);
        frames::put_jobs(rt, jobs);
        self.y.set(y);
        self.base.set(base);
        *self.turn.borrow_mut() = turn;
        self.rebase();
        r
    }
}

/// Gives the system back the pages of the running coroutine's stack (whose top is
/// `base`) below the current frame: compiling the init code touches far more stack than
/// iterations do, and every VU would keep those pages resident for the whole run.
pub(crate) fn trim_stack(base: usize) {
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    // SAFETY: sysconf only reads a constant of the system.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    if page == 0 || !page.is_power_of_two() {
        return;
    }
    // two pages above the stack's lowest address (the guard page is below it), and well
    // below this frame (this call's own frames, signal handlers' red zone)
    let lo = (base.saturating_sub(crate::STACK_SIZE) + 2 * page + page - 1) & !(page - 1);
    let hi = sp.saturating_sub(16 * 1024) & !(page - 1);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside this coroutine's own stack mapping, below the
        // running frame: nothing lives there (the stack grows down), so dropping the pages
        // only makes the kernel hand zeroed pages back when the stack grows again.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED);
        }
    }
}

/// Runs `f` with the VU's context, without rquickjs's runtime lock: that lock would be
/// held across a suspension, while other VUs of the runtime run. The Home's lock, held by
/// whoever resumed this coroutine, gives the exclusive use that rquickjs's lock would.
pub(crate) fn with<R>(ctx: &Context, f: impl for<'js> FnOnce(Ctx<'js>) -> R) -> R {
    let raw: NonNull<qjs::JSContext> = ctx.as_raw();
    // SAFETY: the context is alive (borrowed), the runtime is used by this thread alone
    // (Home's lock), and the closure's `'js` cannot leave it.
    let c = unsafe { Ctx::from_raw(raw) };
    f(c)
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

// SAFETY: everything on the coroutine's stack — its QuickJS context, the natives' `Rc`
// state, its hub — is made inside the coroutine body (the hub under the Home's lock), and
// the coroutine is only resumed and dropped with its Home's lock held (`JsVu`), so nothing
// in it is touched by two threads at once; no thread-locals are held across a suspension,
// and the stack is the coroutine's own heap allocation, so QuickJS's stack bounds stay
// right (`Hub::rebase`).
#[allow(unsafe_code)]
unsafe impl Send for VuCoroutine {}

/// How many VUs share one QuickJS runtime: [`crate::VUS_PER_RUNTIME`] when each VU's
/// chain of JavaScript frames can be taken out of the runtime while it is suspended
/// ([`frames`]), else one (a runtime each).
pub(crate) fn vus_per_runtime() -> usize {
    if frames::slot().is_some() {
        crate::VUS_PER_RUNTIME
    } else {
        1
    }
}

/// A runtime's chain of JavaScript call frames (`JSRuntime::current_stack_frame`) and its
/// pending promise jobs (`job_list`), taken out while a VU is suspended in the middle of
/// its calls and put back when it resumes: another VU's turn neither links its frames to
/// the sleeping VU's nor runs the sleeping VU's `await` continuations as its own.
///
/// QuickJS keeps one chain per runtime and links every new frame to the running one. A VU
/// suspends inside a native (`http.get`, `sleep`), its frames still on its coroutine stack;
/// if another VU of the runtime then ran with that chain in place, its frames would link
/// to the sleeping VU's, and an error's backtrace built after those were gone would walk
/// freed stack. With the chain taken out at every suspension (the runtime's chain is then
/// empty, as it is between calls) each VU's frames link only to its own.
///
/// QuickJS's API does not reach the field, so its place in the runtime is found once per
/// process ([`slot`]) and proved before any VU relies on it; if it cannot be proved, VUs do
/// not share runtimes.
mod frames {
    use rquickjs::qjs;
    use std::sync::OnceLock;

    /// `stack_size`, `stack_top`, `stack_limit`, the frame chain and the job list lie
    /// within the first words of the runtime (`JSRuntime` is over 400 bytes in QuickJS-ng
    /// 0.8): the search reads no further than this and 8 words more.
    const SEARCH_WORDS: usize = 32;
    /// From `stack_size` to `current_stack_frame`: the three stack words, the pending
    /// exception (a 16-byte `JSValue`), three `bool`s padded to a word.
    const FRAME_AFTER_SIZE: usize = 6;
    /// From `current_stack_frame` to `job_list` (the pending promise jobs, a `list_head`
    /// of `prev`, `next`): the interrupt handler and its opaque, the promise rejection
    /// tracker and its opaque.
    const JOBS_AFTER_FRAME: usize = 5;
    /// A stack size no runtime has by chance, set while searching.
    const MARK: usize = 0x0005_3a70;

    /// The word index of `current_stack_frame` in a `JSRuntime`, when found and proved.
    pub(super) fn slot() -> Option<usize> {
        static SLOT: OnceLock<Option<usize>> = OnceLock::new();
        *SLOT.get_or_init(find)
    }

    /// Takes the running chain out of `rt` (leaving it empty): the suspending VU's.
    pub(super) fn take(rt: *mut qjs::JSRuntime) -> usize {
        let Some(i) = slot() else { return 0 };
        if rt.is_null() {
            return 0;
        }
        // SAFETY: `rt` is a live runtime used by this thread alone (see `Suspender`), and
        // word `i` is its `current_stack_frame` (proved by `find`); the word is read and
        // cleared as QuickJS itself does between calls.
        unsafe {
            let p = (rt as *mut usize).add(i);
            let v = p.read();
            p.write(0);
            v
        }
    }

    /// Puts a resuming VU's chain back into `rt`.
    pub(super) fn put(rt: *mut qjs::JSRuntime, chain: usize) {
        let Some(i) = slot() else { return };
        if rt.is_null() {
            return;
        }
        // SAFETY: as in `take`; `chain` is what `take` took from this runtime when this
        // coroutine suspended, and its frames are still on this coroutine's stack.
        unsafe { (rt as *mut usize).add(i).write(chain) }
    }

    /// The runtime's pending promise jobs, taken out (the runtime's list left empty): the
    /// suspending VU's, whose continuations must not run on another VU's turn. `None` when
    /// there are none.
    pub(super) fn take_jobs(rt: *mut qjs::JSRuntime) -> Option<Box<[usize; 2]>> {
        let i = slot()? + JOBS_AFTER_FRAME;
        if rt.is_null() {
            return None;
        }
        // SAFETY: `rt` is a live runtime used by this thread alone, words `i` and `i + 1`
        // are its `job_list` (`prev`, `next`; proved by `find`), and the list is QuickJS's
        // circular doubly linked list of `list_head`s (`prev` at offset 0, `next` at 8):
        // the jobs are moved whole onto a head of our own, as `list_splice` would, and
        // nothing reaches them until `put_jobs` splices them back.
        unsafe {
            let head = (rt as *mut usize).add(i);
            let (prev, next) = (head.read(), head.add(1).read());
            if next == head as usize {
                return None;
            }
            let mine = Box::new([prev, next]);
            let at = mine.as_ptr() as usize;
            (next as *mut usize).write(at);
            (prev as *mut usize).add(1).write(at);
            head.write(head as usize);
            head.add(1).write(head as usize);
            Some(mine)
        }
    }

    /// Puts a resuming VU's jobs back at the end of the runtime's list.
    pub(super) fn put_jobs(rt: *mut qjs::JSRuntime, jobs: Option<Box<[usize; 2]>>) {
        let (Some(frame), Some(mine)) = (slot(), jobs) else {
            return;
        };
        let i = frame + JOBS_AFTER_FRAME;
        if rt.is_null() {
            return;
        }
        // SAFETY: as in `take_jobs`; `mine` holds the jobs `take_jobs` took from this
        // runtime (its first and last entries point back at it), spliced after the
        // runtime's last entry (or its head, when the list is empty).
        unsafe {
            let head = (rt as *mut usize).add(i);
            let (last, first) = (mine[0], mine[1]);
            let tail = head.read();
            (tail as *mut usize).add(1).write(first);
            (first as *mut usize).write(tail);
            (last as *mut usize).add(1).write(head as usize);
            head.write(last);
        }
    }

    fn sp() -> usize {
        let here = 0u8;
        std::hint::black_box(&here) as *const u8 as usize
    }

    /// Finds the chain's word in a fresh runtime from the stack words QuickJS sets, then
    /// proves it: empty between calls, pointing into this thread's stack just above a
    /// native while one runs, and empty again after.
    fn find() -> Option<usize> {
        let rt = rquickjs::Runtime::new().ok()?;
        let ctx = rquickjs::Context::custom::<(rquickjs::context::intrinsic::Eval,)>(&rt).ok()?;
        let raw = ctx.get_runtime_ptr();
        let words = raw as *const usize;
        let read = move |i: usize| -> usize {
            // SAFETY: `raw` is the live runtime made above, at least SEARCH_WORDS + 12 words
            // long, and nothing else runs on it; the words are only read.
            unsafe { words.add(i).read() }
        };
        // SAFETY: both calls only set fields of the runtime made above.
        unsafe {
            qjs::JS_UpdateStackTop(raw);
            qjs::JS_SetMaxStackSize(raw, MARK as _);
        }
        let here = sp();
        let size_at = (0..SEARCH_WORDS).find(|&i| {
            let (size, top, limit) = (read(i), read(i + 1), read(i + 2));
            size == MARK && top.abs_diff(here) < 64 * 1024 && top.checked_sub(MARK) == Some(limit)
        });
        rt.set_max_stack_size(0);
        let i = size_at? + FRAME_AFTER_SIZE;
        // the pending exception's tag (null, undefined or uninitialized), no flags set,
        // and no frames between calls
        let tag = read(i - 2) as i64;
        if !(2..=4).contains(&tag) || read(i - 1) & 0xff_ffff != 0 || read(i) != 0 {
            return None;
        }
        let seen = std::rc::Rc::new(std::cell::Cell::new((0usize, 0usize)));
        let s = seen.clone();
        let proved = ctx.with(|ctx| -> rquickjs::Result<bool> {
            let probe = rquickjs::Function::new(ctx.clone(), move || {
                s.set((read(i), sp()));
            })?;
            ctx.globals().set("__probe", probe)?;
            ctx.eval::<(), _>("(function f() { __probe(); })()")?;
            Ok(true)
        });
        let (chain, native_sp) = seen.get();
        // an empty job list's head points at itself
        let jobs = (raw as usize) + (i + JOBS_AFTER_FRAME) * std::mem::size_of::<usize>();
        let ok = matches!(proved, Ok(true))
            && chain > native_sp
            && chain - native_sp < 64 * 1024
            && read(i) == 0
            && read(i + JOBS_AFTER_FRAME) == jobs
            && read(i + JOBS_AFTER_FRAME + 1) == jobs;
        ok.then_some(i)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_frame_chain_is_found_in_this_quickjs() {
            // if this fails after a QuickJS upgrade, VUs fall back to a runtime each
            assert!(
                super::slot().is_some(),
                "JSRuntime::current_stack_frame not found"
            );
        }
    }
}
