//! The `is_closing` flag: one atomic, set once when the shutdown becomes inevitable or begins,
//! read on hot paths; and a future for code that waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Shared flag that turns true when the shutdown becomes inevitable or begins, and never turns
/// back. Cloning shares it; checking it is one atomic load; [`closed`](Self::closed) waits for
/// it.
#[derive(Clone, Debug, Default)]
pub struct ClosingFlag {
    flag: Arc<AtomicBool>,
    closed: CancellationToken,
}

impl ClosingFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once the shutdown is inevitable or has begun: stop accepting new work.
    #[inline]
    pub fn is_closing(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the flag and wakes every [`closed`](Self::closed) future; returns true if this
    /// call set it.
    pub fn set(&self) -> bool {
        let first = !self.flag.swap(true, Ordering::AcqRel);
        if first {
            self.closed.cancel();
        }
        first
    }

    /// Resolves once the flag is set (at once if it is). `'static` and `Send`: hand it to
    /// any runtime.
    pub fn closed(&self) -> WaitForCancellationFutureOwned {
        self.closed.clone().cancelled_owned()
    }
}
