//! Where a VU's state is, so that its cache lines are asked for together when it is polled.
//!
//! With a thousand VUs, a request touches some fifty cache lines of its VU's own state
//! (the run future's layers, the VU, its client, the connection and its buffers), and
//! none of them is still in the processor's cache from the VU's last request: each is a
//! miss, taken one after another as the code comes to it. Asked for all at once when the
//! VU is polled, the misses overlap instead of queueing: at 1,000 connections the
//! generator's CPU per request fell to 0.86× (bench/notes.md, "tenth stop"). Asked for
//! earlier, when the VU is woken, they were gone again by its poll (measured, and dropped).
//!
//! [`HotLines`] holds up to [`SLOTS`] regions of a VU's memory (by address: nothing is
//! read through them, so a region that went away since is harmless). The engine keeps one
//! per VU task and asks for its regions before each poll of the VU; the VU says which
//! regions they are ([`crate::Turns::hint`]).

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many regions a VU's [`HotLines`] holds.
pub const SLOTS: usize = 12;

/// The most lines of one region asked for (a larger region is cut to its start).
const MAX_LINES: usize = 63;

/// A VU's regions of memory, each a line-aligned address with its line count in the low
/// six bits (0: none). Atomics (relaxed: plain loads and stores) because the VU sets them
/// while the engine, which asks for them, holds them too.
#[derive(Default)]
pub struct HotLines {
    slots: [AtomicUsize; SLOTS],
}

impl HotLines {
    /// Region `slot` is `len` bytes at `at` from now on (`len` 0: none). Cheap when it is
    /// unchanged (a load and a compare).
    pub fn set(&self, slot: usize, (at, len): (usize, usize)) {
        let Some(cell) = self.slots.get(slot) else {
            return;
        };
        let packed = pack(at, len);
        if cell.load(Ordering::Relaxed) != packed {
            cell.store(packed, Ordering::Relaxed);
        }
    }

    /// Every slot, packed (for tests).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> [usize; SLOTS] {
        std::array::from_fn(|i| self.slots[i].load(Ordering::Relaxed))
    }

    /// Asks for every region's lines.
    pub fn fetch(&self) {
        for cell in &self.slots {
            let packed = cell.load(Ordering::Relaxed);
            let lines = packed & MAX_LINES;
            let base = packed & !MAX_LINES;
            for i in 0..lines {
                prefetch(base.wrapping_add(i * 64));
            }
        }
    }
}

/// Where `value` is and how large: a region for [`HotLines::set`].
pub fn region_of<T: ?Sized>(value: &T) -> (usize, usize) {
    (
        (value as *const T).cast::<u8>() as usize,
        std::mem::size_of_val(value),
    )
}

/// `len` bytes at `at` as a line address and a line count (at most [`MAX_LINES`]).
fn pack(at: usize, len: usize) -> usize {
    if len == 0 || at == 0 {
        return 0;
    }
    let first = at & !63;
    let end = at.saturating_add(len);
    let lines = (end - first).div_ceil(64).min(MAX_LINES);
    first | lines
}

/// Asks the processor to bring the line at `addr` into its cache. The crate's one `unsafe`.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and cannot fault,
    // whatever the address (SSE, which every x86-64 processor has)
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_its_lines_from_the_one_it_starts_in() {
        assert_eq!(pack(0x1000, 1), 0x1000 | 1);
        assert_eq!(pack(0x1000, 64), 0x1000 | 1);
        assert_eq!(pack(0x1000, 65), 0x1000 | 2);
        // 8 bytes across a line boundary are two lines
        assert_eq!(pack(0x103c, 8), 0x1000 | 2);
        assert_eq!(pack(0x1010, 100), 0x1000 | 2);
        // cut to its first 63 lines
        assert_eq!(pack(0x1000, 1 << 20), 0x1000 | 63);
        // none
        assert_eq!(pack(0x1000, 0), 0);
        assert_eq!(pack(0, 64), 0);
        // at the top of the address space, no overflow
        assert_eq!(pack(usize::MAX - 63, 1 << 20), (usize::MAX - 63) | 1);
    }

    #[test]
    fn set_keeps_a_region_per_slot_and_ignores_slots_past_the_last() {
        let hot = HotLines::default();
        let v = [0u64; 40];
        hot.set(0, region_of(&v));
        hot.set(SLOTS, region_of(&v));
        let packed = hot.slots[0].load(Ordering::Relaxed);
        let first = (v.as_ptr() as usize) & !63;
        assert_eq!(packed & !63, first);
        assert!((5..=6).contains(&(packed & 63)), "{packed:#x}");
        hot.set(0, (0, 0));
        assert_eq!(hot.slots[0].load(Ordering::Relaxed), 0);
        // asking for lines reads nothing: any address will do
        hot.set(1, (usize::MAX - 4096, 4096));
        hot.fetch();
    }
}
