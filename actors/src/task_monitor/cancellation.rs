//! [`Cancellation`]: what a task is handed to learn that it should stop. A read-only view of a
//! token: it can be waited on and checked, never fired, so a task cannot cancel the others
//! through it.

use std::future::Future;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// Tells a task that it should stop: fires at [`CancelAll`](super::CancelAll) (or, for a task
/// spawned with [`TaskOptions::own_cancellation`](super::TaskOptions::own_cancellation), at a
/// [`CancelTask`](super::CancelTask) naming it).
///
/// A read-only view: it has no `cancel()`. Every task of a monitor shares one token behind
/// its view (so a task costs what a clone of a `CancellationToken` costs), and no task can
/// fire it. A task that needs a token of its own to fire, for its sub-tasks, takes a
/// [`child_token`](Self::child_token): firing that one stops only its own children.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::Cancellation;
///
/// async fn reminders(cancel: Cancellation) {
///     while cancel.run_until_cancelled(tick()).await.is_some() {}
/// }
/// # async fn tick() {}
/// ```
///
/// A task cannot fire it (there is no `cancel()`):
/// ```compile_fail
/// fn stop_everyone(cancel: actix_shutdown_actors::Cancellation) {
///     cancel.cancel();
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Cancellation {
    token: CancellationToken,
}

impl Cancellation {
    /// A view of `token`: whoever holds the token can fire it, holders of the view can only
    /// watch it.
    pub fn new(token: CancellationToken) -> Self {
        Self { token }
    }

    /// True once the task has been asked to stop.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when the task is asked to stop (at once if it has been already).
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// Runs `fut` until it completes (`Some(output)`) or the task is asked to stop (`None`,
    /// and `fut` is dropped).
    pub async fn run_until_cancelled<F: Future>(&self, fut: F) -> Option<F::Output> {
        self.token.run_until_cancelled(fut).await
    }

    /// A token of the task's own that fires with this one; cancelling it stops only what was
    /// handed it (its children), never the other tasks.
    pub fn child_token(&self) -> CancellationToken {
        self.token.child_token()
    }
}
