//! The restart policy: a restartable task's future runs under a guard that records its end; a
//! crash (panic or error) restarts it with exponential backoff.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use tokio::time::Instant;

use super::start::TaskFactory;
use super::table::EndGuard;
use super::{Cancellation, TaskState};
use crate::panic_message;
use crate::report::TaskOutcome;

/// First restart delay after a crash.
pub const BACKOFF_START: Duration = Duration::from_secs(1);
/// Longest restart delay; a run that lasted longer than this resets the backoff.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Runs a restartable task's factory until it ends for good, restarting crashes with backoff.
/// The guard records the end, or an abort if this future is dropped first.
///
/// A plain function returning an `async move` block that uses its captures in place (an
/// `async fn` would store its arguments twice), with the restart loop boxed.
#[expect(
    clippy::manual_async_fn,
    reason = "as an async fn it would store its arguments twice (benches/compare.rs: bytes_per_task)"
)]
pub(super) fn supervise(
    guard: EndGuard,
    factory: TaskFactory,
    cancel: Cancellation,
) -> impl Future<Output = ()> + 'static {
    async move {
        let started = Instant::now();
        let (outcome, error) = run_once(&guard, &factory, &cancel).await;
        let mut outcome = guard.after_run(outcome, error);
        if is_crash(outcome) && !guard.table.is_task_cancelled(guard.index) {
            outcome = Box::pin(restart(&guard, &factory, &cancel, outcome, started)).await;
        }
        guard.table.end(guard.index, outcome, None);
    }
}

/// One run of the task: its outcome, and the error of a crash. The factory itself may panic
/// before it returns a future: it is called inside the guard too.
async fn run_once(
    guard: &EndGuard,
    factory: &TaskFactory,
    cancel: &Cancellation,
) -> (TaskOutcome, Option<String>) {
    let run = match std::panic::catch_unwind(AssertUnwindSafe(|| factory(cancel.clone()))) {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    outcome_of(run, guard.table.is_task_cancelled(guard.index))
}

/// What a run ended with: its outcome (`cancelled` rather than `finished` when its cancellation
/// had fired), and the error of a crash.
pub(super) fn outcome_of(
    run: Result<Result<(), String>, Box<dyn Any + Send>>,
    cancelled: bool,
) -> (TaskOutcome, Option<String>) {
    match run {
        Ok(Ok(())) if cancelled => (TaskOutcome::Cancelled, None),
        Ok(Ok(())) => (TaskOutcome::Finished, None),
        Ok(Err(e)) => (TaskOutcome::Failed, Some(e)),
        Err(panic) => (TaskOutcome::Panicked, Some(panic_message(&*panic))),
    }
}

fn is_crash(outcome: TaskOutcome) -> bool {
    matches!(outcome, TaskOutcome::Failed | TaskOutcome::Panicked)
}

/// Restarts a crashed task with backoff (1 s doubling to 60 s, back to 1 s after a run longer
/// than that) until a run ends without crashing or its cancellation fires; the final outcome.
async fn restart(
    guard: &EndGuard,
    factory: &TaskFactory,
    cancel: &Cancellation,
    mut outcome: TaskOutcome,
    mut started: Instant,
) -> TaskOutcome {
    let mut backoff = BACKOFF_START;
    loop {
        if started.elapsed() > BACKOFF_MAX {
            backoff = BACKOFF_START;
        }
        guard
            .table
            .update(guard.index, |slot| slot.state = TaskState::Restarting);
        tracing::info!(task = %guard.table.name(guard.index), "restarting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = cancel.cancelled() => return outcome,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        guard.table.update(guard.index, |slot| {
            slot.extra_mut().restarts += 1;
            slot.state = TaskState::Running;
        });
        started = Instant::now();
        let (ran, error) = run_once(guard, factory, cancel).await;
        outcome = guard.after_run(ran, error);
        if !is_crash(outcome) || guard.table.is_task_cancelled(guard.index) {
            return outcome;
        }
    }
}
