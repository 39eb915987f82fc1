//! The typed messages the actors exchange. Commands are imperative (`CancelAll`), queries start
//! with `Get`, notifications are past tense (`ShutdownComplete`), replies name their content
//! (`CancelReport`, `FlushAck`). The Supervisor's messages live beside it
//! (`supervisor/messages.rs`) and are re-exported here so that every message has one path.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures::future::LocalBoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::report::{FileRecord, ResourceRecord, ShutdownReport, TaskRecord};
pub use crate::supervisor::messages::*;

// ---------------------------------------------------------------- TaskMonitor

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

/// Makes a task's future from its cancellation token; called again on each restart.
pub type TaskFactory =
    Box<dyn Fn(CancellationToken) -> LocalBoxFuture<'static, Result<(), String>> + Send>;

/// How a task is treated at cancel time and when it crashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskOptions {
    /// Grace between the token firing and the abort; `None`: the TaskMonitor's default.
    pub grace: Option<Duration>,
    /// Restart after a panic or error, with backoff 1 s doubling to 60 s (reset after a run
    /// that lasted longer than 60 s).
    pub restart_on_failure: bool,
}

/// Spawns a named task on the actor's thread (futures need not be `Send`).
#[derive(Message)]
#[rtype(result = "Result<(), crate::TaskError>")]
pub struct SpawnTask {
    /// Unique among running tasks.
    pub name: String,
    /// The task.
    pub factory: TaskFactory,
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

/// Fires every task's token, waits for each up to its grace (capped by `deadline`), aborts the
/// rest. `forced`: abort at once. New tasks are refused from here on.
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
    Ended(crate::report::TaskOutcome),
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

// ---------------------------------------------------------------- Logger

/// Acknowledged once every record queued before this message was sent is written (and
/// fsynced, unless disabled).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlushAck, crate::LoggerError>")]
pub struct FlushLogs;

/// The reply to [`FlushLogs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlushAck {
    /// Records written since start.
    pub written: u64,
    /// Records dropped since start (lossy mode only).
    pub dropped: u64,
}

/// Drains the queue, stops the writer; idempotent. Later records go to stderr.
#[derive(Debug, Message)]
#[rtype(result = "Result<LoggingStopped, crate::LoggerError>")]
pub struct StopLogging;

/// The reply to [`StopLogging`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoggingStopped {
    /// Records written in all.
    pub written: u64,
    /// Records dropped in all.
    pub dropped: u64,
}

// ---------------------------------------------------------------- Persister

/// A state's snapshot: an owned copy of the data, encoded (into its envelope) by the Persister
/// on a blocking thread, so that encoding large states neither blocks the actor thread nor
/// waits for the other states.
pub struct Snapshot {
    encode: EncodeFn,
}

/// Encodes a snapshot's state file from its name and `saved_at`.
type EncodeFn = Box<dyn FnOnce(&str, &str) -> Result<Vec<u8>, String> + Send>;

impl Snapshot {
    /// A snapshot of any owned serializable value (typically a clone of the bot's state).
    pub fn of<T: serde::Serialize + Send + 'static>(data: T) -> Self {
        Self {
            encode: Box::new(move |name, saved_at| {
                crate::state_store::encode_envelope(name, saved_at, &data)
            }),
        }
    }

    /// A snapshot already built as JSON.
    pub fn json(value: serde_json::Value) -> Self {
        Self::of(value)
    }

    /// Encodes the state file: `{"schema", "name", "saved_at", "data"}`.
    ///
    /// # Errors
    /// The serializer's error, in words.
    pub fn encode(self, name: &str, saved_at: &str) -> Result<Vec<u8>, String> {
        (self.encode)(name, saved_at)
    }
}

impl From<serde_json::Value> for Snapshot {
    fn from(value: serde_json::Value) -> Self {
        Self::json(value)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Snapshot(..)")
    }
}

/// A state source's answer: its snapshot, or why it has none.
pub type SnapshotResult = Result<Snapshot, String>;

/// Asks an actor registered as a state source for its snapshot.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "SnapshotResult")]
pub struct TakeSnapshot;

/// Produces a snapshot; boxed so closures and actor recipients register alike.
pub type SnapshotFn = Box<dyn Fn() -> LocalBoxFuture<'static, SnapshotResult> + Send>;

/// Registers a named state, written to `<state_dir>/<name>.json` at every [`PersistAll`].
#[derive(Message)]
#[rtype(result = "Result<(), crate::PersistError>")]
pub struct RegisterState {
    /// File stem; letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// The source.
    pub source: SnapshotFn,
    /// Written even in a forced shutdown.
    pub critical: bool,
}

impl fmt::Debug for RegisterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterState")
            .field("name", &self.name)
            .field("critical", &self.critical)
            .finish_non_exhaustive()
    }
}

/// Snapshots every registered state and writes each atomically (one directory fsync for the
/// batch). `critical_only`: the forced mode, critical states only.
#[derive(Debug, Message)]
#[rtype(result = "PersistReport")]
pub struct PersistAll {
    /// Write only states registered as critical.
    pub critical_only: bool,
}

/// The outcome of every state file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistReport {
    /// One record per state, in registration order.
    pub files: Vec<FileRecord>,
}

/// Writes `last_shutdown.json` atomically.
#[derive(Debug, Message)]
#[rtype(result = "Result<SummaryWritten, crate::PersistError>")]
pub struct WriteSummary(pub Arc<ShutdownReport>);

/// The reply to [`WriteSummary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryWritten {
    /// Where.
    pub path: std::path::PathBuf,
}

// ---------------------------------------------------------------- ResourceCloser

/// Closes a resource; its error is reported.
pub type CloserFn = Box<dyn FnOnce() -> LocalBoxFuture<'static, Result<(), String>> + Send>;

/// Registers a named resource closer; closers run in reverse registration order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterResource {
    /// Name used in the report.
    pub name: String,
    /// The closer.
    pub closer: CloserFn,
    /// Its own timeout; `None`: the ResourceCloser's default.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for RegisterResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterResource")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Runs every closer, newest first, each bounded by its timeout and by `deadline`.
#[derive(Debug, Message)]
#[rtype(result = "CloseReport")]
pub struct CloseAll {
    /// No closer runs past this instant.
    pub deadline: Instant,
}

/// The outcome of every resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// One record per resource, in the order they were closed.
    pub resources: Vec<ResourceRecord>,
}

// ---------------------------------------------------------------- LockManager

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
