//! Why the singleton lock could not be taken or released.

use std::io;
use std::path::PathBuf;

use super::LockInfo;

/// The singleton lock could not be taken or released.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// A live process holds the lock.
    #[error(
        "already running: {holder} holds the lock {path}; stop that instance first, or use another state directory"
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
    /// Another I/O error.
    #[error("cannot use the lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The holder of a lock, as far as its file tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder(pub Option<Box<LockInfo>>);

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(info) => write!(
                f,
                "pid {} (started {} on {})",
                info.pid, info.started_at, info.hostname
            ),
            None => f.write_str("another process (its lock file is still being written)"),
        }
    }
}
