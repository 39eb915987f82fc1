//! Errors of the actors, one enum per component; each message says what failed and what to do.

use std::io;
use std::path::PathBuf;

/// A task could not be spawned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The shutdown has begun; no new work is accepted.
    #[error("task {name:?} refused: the shutdown has begun and no new tasks are accepted")]
    Closing {
        /// The refused task.
        name: String,
    },
    /// A task of that name is running.
    #[error("task {name:?} refused: a task of that name is already running; pick another name")]
    Duplicate {
        /// The refused task.
        name: String,
    },
    /// The TaskMonitor is gone.
    #[error("task {name:?} refused: the TaskMonitor has stopped")]
    MonitorGone {
        /// The refused task.
        name: String,
    },
}

/// The Logger failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggerError {
    /// The log file could not be opened.
    #[error(
        "cannot open the log file {path}: {source}; check that the state directory is writable"
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The writer thread reported a write or fsync error.
    #[error("the log writer failed: {0}")]
    Write(String),
    /// The writer thread is gone (it panicked or was stopped).
    #[error("the log writer has stopped")]
    WriterGone,
}

/// The Persister failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// A state name that would escape the state directory or clash with its own files.
    #[error(
        "invalid state name {name:?}: {why}; use letters, digits, '-', '_' and '.', without '..'"
    )]
    InvalidName {
        /// The name.
        name: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// A state of that name is registered already.
    #[error("state {name:?} is registered already; each state needs its own name")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// Writing a file failed; the previous file is intact.
    #[error("cannot write {path}: {source} (the previous file is intact)")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Serializing failed.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        /// What.
        what: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// Reading a file failed (other than its absence).
    #[error("cannot read {path}: {source}; check its permissions")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}
