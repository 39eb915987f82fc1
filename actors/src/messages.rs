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

use crate::report::{FileRecord, ResourceRecord, ShutdownReport};
pub use crate::supervisor::messages::*;

// ---------------------------------------------------------------- TaskMonitor

// The TaskMonitor's messages live beside it; re-exported here so that paths through
// `messages` keep working.
pub use crate::task_monitor::{
    AbortAll, CancelAll, CancelReport, CancelTask, GetTasks, SpawnTask, TaskFactory, TaskInfo,
    TaskOptions, TaskResult, TaskState,
};

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
