//! The LockManager's messages: release the lock, and the reply.

use actix::prelude::*;

/// Removes the lock file and releases the OS lock; idempotent.
#[derive(Debug, Message)]
#[rtype(result = "Result<LockReleased, crate::LockError>")]
pub struct ReleaseLock;

/// The reply to [`ReleaseLock`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockReleased {
    /// False when it had been released already.
    pub removed: bool,
}
