//! Why the singleton lock could not be taken or released.

use std::io;
use std::path::PathBuf;

use super::LockInfo;

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
