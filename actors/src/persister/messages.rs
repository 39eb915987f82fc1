//! The Persister's messages: registering states, snapshots, writing every state and the
//! summary, and their replies.

use std::fmt;
use std::sync::Arc;

use actix::prelude::*;
use futures::future::LocalBoxFuture;

use crate::report::{FileRecord, ShutdownReport};

/// A state's snapshot: an owned copy of the data, encoded (into its envelope) by the Persister
/// on a blocking thread, so that encoding large states neither blocks the actor thread nor
/// waits for the other states.
pub struct Snapshot {
    encode: EncodeFn,
}

/// Encodes a snapshot's state file from its name and `saved_at`.
type EncodeFn = Box<dyn FnOnce(&str, &str) -> Result<Vec<u8>, crate::PersistError> + Send>;

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
    /// [`PersistError::Serialize`](crate::PersistError::Serialize): the state could not be
    /// serialized (a map with non-string keys, a failing `Serialize` impl).
    pub fn encode(self, name: &str, saved_at: &str) -> Result<Vec<u8>, crate::PersistError> {
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
