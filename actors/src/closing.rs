//! The `is_closing` flag: one atomic, set once at BeginShutdown, read on hot paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared flag that turns true when the shutdown begins and never turns back. Cloning shares
/// it; checking it is one atomic load.
#[derive(Clone, Debug, Default)]
pub struct ClosingFlag(Arc<AtomicBool>);

impl ClosingFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once the shutdown has begun: stop accepting new work.
    #[inline]
    pub fn is_closing(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Sets the flag; returns true if this call set it.
    pub fn set(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }
}
