//! [`Task`]: the user's closure, type-erased where the task is *started* rather than where its
//! future is made. A task that is not restarted then runs its future inline in its tokio task
//! (no boxed future beside the task's own cell, as with `spawn_local`; the closure's box is
//! empty for a closure that captures nothing); a task that may be restarted keeps a factory to
//! call again, under the restart policy (`restart`).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::task::JoinHandle;

use super::restart::{outcome_of, supervise};
use super::table::EndGuard;
use super::{Cancellation, TaskResult};

/// Makes a restartable task's future from its [`Cancellation`]; called again on each restart.
pub(super) type TaskFactory = Box<
    dyn Fn(Cancellation) -> futures::future::LocalBoxFuture<'static, Result<(), String>> + Send,
>;

/// A task to spawn: a closure that makes the task's future from its [`Cancellation`] (again on
/// each restart, for a task spawned with
/// [`TaskOptions::restart_on_failure`](super::TaskOptions::restart_on_failure)). Its future
/// need not be `Send`: it runs on the TaskMonitor's thread.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::{Cancellation, messages::Task};
///
/// let poller = Task::new(|cancel: Cancellation| async move {
///     cancel.cancelled().await;
/// });
/// # drop(poller);
/// ```
pub struct Task(Box<dyn Start>);

impl Task {
    /// The task `task`; its future may return `()` or `Result<(), E>` (an error is reported).
    pub fn new<F, Fut, R>(task: F) -> Self
    where
        F: Fn(Cancellation) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        Task(Box::new(UserTask(task)))
    }

    /// Spawns it on the current thread's local task set, its end recorded through `guard`.
    pub(super) fn start(
        self,
        guard: EndGuard,
        cancel: Cancellation,
        restart_on_failure: bool,
    ) -> JoinHandle<()> {
        self.0.start(guard, cancel, restart_on_failure)
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Task")
    }
}

/// Starting a task of a concrete closure type, behind [`Task`]'s box.
trait Start: Send {
    fn start(
        self: Box<Self>,
        guard: EndGuard,
        cancel: Cancellation,
        restart_on_failure: bool,
    ) -> JoinHandle<()>;
}

struct UserTask<F>(F);

impl<F, Fut, R> Start for UserTask<F>
where
    F: Fn(Cancellation) -> Fut + Send + 'static,
    Fut: Future<Output = R> + 'static,
    R: TaskResult,
{
    fn start(
        self: Box<Self>,
        guard: EndGuard,
        cancel: Cancellation,
        restart_on_failure: bool,
    ) -> JoinHandle<()> {
        let UserTask(task) = *self;
        if restart_on_failure {
            // `map` stores the user's future once (an `async` block would hold it twice).
            let factory: TaskFactory = Box::new(move |cancel| {
                Box::pin(task(cancel).map(|result| result.into_task_result()))
            });
            tokio::task::spawn_local(supervise(guard, factory, cancel))
        } else {
            tokio::task::spawn_local(run_once_inline(guard, task, cancel))
        }
    }
}

/// One run of a task that is not restarted, its future inline: the closure is called inside
/// the task (a panic there is the task's, not the monitor's) and dropped when its future
/// takes its place, so the task holds the guard and the future only.
#[expect(
    clippy::manual_async_fn,
    reason = "as an async fn it would store its arguments twice (benches/compare.rs: bytes_per_task)"
)]
fn run_once_inline<F, Fut, R>(
    guard: EndGuard,
    task: F,
    cancel: Cancellation,
) -> impl Future<Output = ()> + 'static
where
    F: Fn(Cancellation) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
    R: TaskResult,
{
    async move {
        // One future that calls the closure at its first poll and then is the closure's
        // future, so that the two are never stored side by side (a `match` on the closure's
        // result would keep both across the await: 216 bytes instead of 128); the closure's
        // panic is caught like the future's.
        let run = AssertUnwindSafe(futures::future::lazy(move |_| task(cancel)).flatten())
            .catch_unwind()
            .await
            .map(|result| result.into_task_result());
        let (outcome, error) = outcome_of(run, guard.table.is_task_cancelled(guard.index));
        let outcome = guard.after_run(outcome, error);
        guard.table.end(guard.index, outcome, None);
    }
}
