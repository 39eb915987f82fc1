//! The messages the [`TaskMonitor`](super::TaskMonitor) answers, and what they carry.

use std::fmt;
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::Task;
use crate::report::{TaskOutcome, TaskRecord};

/// What a task's future may return: `()` or a `Result` whose error is reported.
pub trait TaskResult {
    /// `Err(text)` for a failure.
    fn into_task_result(self) -> Result<(), String>;
}

impl TaskResult for () {
    fn into_task_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> TaskResult for Result<(), E> {
    fn into_task_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// How a task is treated at cancel time and when it crashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskOptions {
    /// Grace between the cancellation firing and the abort; `None`: the TaskMonitor's default.
    pub grace: Option<Duration>,
    /// Restart after a panic or error, with backoff 1 s doubling to 60 s (reset after a run
    /// that lasted longer than 60 s).
    pub restart_on_failure: bool,
    /// Give the task a cancellation of its own, which [`CancelTask`] fires for it alone (it
    /// still fires at [`CancelAll`] too). Off by default: every task then watches one shared
    /// cancellation, the cheapest; a task can never fire it either way.
    pub own_cancellation: bool,
}

/// Spawns a named task on the actor's thread (futures need not be `Send`).
#[derive(Message)]
#[rtype(result = "Result<(), crate::TaskError>")]
pub struct SpawnTask {
    /// Unique among running tasks.
    pub name: String,
    /// The task.
    pub task: Task,
    /// Grace and restart policy.
    pub options: TaskOptions,
}

impl fmt::Debug for SpawnTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnTask")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Fires the cancellation of one running task spawned with
/// [`TaskOptions::own_cancellation`]; the others keep running. Answers `true` when it fired
/// one, `false` when no running task of that name has a cancellation of its own. The task
/// ends as it would at CancelAll (its outcome `cancelled` when it returns), but is not
/// aborted: CancelAll still bounds it.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct CancelTask {
    /// The task's name.
    pub name: String,
}

/// Fires every task's cancellation, waits for each up to its grace (capped by `deadline`),
/// aborts the rest. `forced`: abort at once. New tasks are refused from here on.
#[derive(Debug, Message)]
#[rtype(result = "CancelReport")]
pub struct CancelAll {
    /// Default grace per task.
    pub grace: Duration,
    /// No task waits past this instant.
    pub deadline: Instant,
    /// Abort without waiting.
    pub forced: bool,
}

/// Aborts every task still running at once (an escalation during [`CancelAll`]).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct AbortAll;

/// The outcome of every task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CancelReport {
    /// One record per task, in spawn order.
    pub tasks: Vec<TaskRecord>,
}

/// Lists the tasks.
#[derive(Debug, Message)]
#[rtype(result = "Vec<TaskInfo>")]
pub struct GetTasks;

/// Where a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Running.
    Running,
    /// Waiting for its restart backoff.
    Restarting,
    /// Ended (see the outcome in the report).
    Ended(TaskOutcome),
}

/// One line of [`GetTasks`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// Task name.
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// Times restarted.
    pub restarts: u32,
    /// The last panic or error.
    pub last_error: Option<String>,
}
