//! The counting global allocator: bytes requested and not yet freed, and their peak, while
//! counting is switched on around a measurement.

use std::alloc::{GlobalAlloc, Layout, System as Heap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Duration;

// ---------------------------------------------------------------- counting allocator

/// Forwards to the system allocator; while [`COUNTING`] is on, keeps the balance of bytes
/// requested minus bytes freed in [`LIVE`], and its highest value in [`PEAK`].
pub(crate) struct CountingAllocator;

pub(crate) static COUNTING: AtomicBool = AtomicBool::new(false);
pub(crate) static LIVE: AtomicIsize = AtomicIsize::new(0);
pub(crate) static PEAK: AtomicIsize = AtomicIsize::new(0);

pub(crate) fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        if delta > 0 {
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
    }
}

pub(crate) fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every call forwards to the system allocator with the caller's arguments unchanged;
// the bookkeeping touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(signed(new_size) - signed(layout.size()));
        // SAFETY: forwarded as is.
        unsafe { Heap.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
pub(crate) static GLOBAL: CountingAllocator = CountingAllocator;

/// Lets tasks and actors that just finished be freed, so that their frees do not land in the
/// next measurement.
pub(crate) async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Bytes still allocated that were requested while `f` ran (and `f`'s result, kept alive).
pub(crate) async fn live_bytes_after<T, F: Future<Output = T>>(f: F) -> (isize, T) {
    LIVE.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    let kept = f.await;
    COUNTING.store(false, Ordering::SeqCst);
    (LIVE.load(Ordering::Relaxed), kept)
}

/// Runs `f` with the balance at zero: the highest balance while it ran (its peak memory above
/// the baseline), the balance after it (what its result keeps), and its result.
pub(crate) fn peak_bytes_during<T>(f: impl FnOnce() -> T) -> (isize, isize, T) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    let kept = f();
    COUNTING.store(false, Ordering::SeqCst);
    (
        PEAK.load(Ordering::Relaxed),
        LIVE.load(Ordering::Relaxed),
        kept,
    )
}
