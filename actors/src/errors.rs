//! Errors of the actors, one enum per component; each message says what failed and what to do.

use std::io;
use std::path::PathBuf;

use crate::lock_manager::LockInfo;

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

/// The singleton lock could not be taken or released.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// A live process holds the lock. Its pid is named only when the lock file names a live
    /// process that is not this one; otherwise the message says how to find the holder.
    #[error(
        "already running: {holder} holds the lock {path}{}; stop that instance first, or use another state directory",
        holder.how_to_check(path)
    )]
    AlreadyRunning {
        /// The lock file.
        path: PathBuf,
        /// What the lock file says about its holder.
        holder: LockHolder,
    },
    /// The lock path is a symlink; refused so that nobody can redirect our writes.
    #[error("refusing the lock {path}: it is a symbolic link; remove it and start again")]
    Symlink {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock path is not a regular file of ours with one link.
    #[error(transparent)]
    Unsafe(crate::files::UnsafePath),
    /// Another I/O error.
    #[error("cannot use the lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The holder of a lock: `Some` only when its file names a live process (on this host) that
/// is not the one asking; `None` when it could not be identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder(pub Option<Box<LockInfo>>);

impl LockHolder {
    /// For an unidentified holder, how an operator finds it (empty otherwise).
    fn how_to_check(&self, path: &std::path::Path) -> String {
        match self.0 {
            Some(_) => String::new(),
            None => format!(
                " (its lock file does not name a live process; find it with `fuser -v {0}` or `lsof {0}`)",
                path.display()
            ),
        }
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(info) => write!(
                f,
                "pid {} (started {} on {})",
                info.pid,
                crate::escape::escape(&info.started_at),
                crate::escape::escape(&info.hostname)
            ),
            None => f.write_str("another process that could not be identified"),
        }
    }
}
