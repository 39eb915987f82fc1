//! Why a [`Shutdown`](crate::Shutdown) could not start, and the exit code that says so.

use std::process::ExitCode;

use actix_shutdown_actors::files::UnsafePath;
use actix_shutdown_actors::{ExitCodes, LockError, LoggerError, PersistError};

use crate::config::ConfigError;

/// What failed at start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartErrorKind {
    /// The configuration cannot work (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state directory could not be created or examined.
    #[error("cannot use the state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The singleton lock: another live instance holds it (exit code 73), or it is unusable.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The Logger could not start.
    #[error(transparent)]
    Logger(#[from] LoggerError),
    /// The state directory could not be read.
    #[error(transparent)]
    State(#[from] PersistError),
    /// A file or directory the library would write is unsafe (a link, not a regular file,
    /// another owner, a state directory writable by others): exit code 2, like a bad
    /// configuration, since only an operator can fix it.
    #[error(transparent)]
    Unsafe(actix_shutdown_actors::files::UnsafePath),
    /// The signal handlers could not be installed.
    #[error("cannot install the signal handlers: {0}")]
    Signals(std::io::Error),
    /// [`ShutdownBuilder::start`](crate::ShutdownBuilder::start) was awaited outside a running
    /// actix System (say, under `#[tokio::main]`): the actors have nowhere to run. Exit code 2,
    /// as for a bad configuration: restarting the same program cannot fix it. Nothing was
    /// created: no lock, no log.
    #[error(
        "actix-shutdown must start inside a running actix System: use #[actix::main] (or actix::System::new().block_on) instead of #[tokio::main]"
    )]
    NoActixSystem,
}

impl StartErrorKind {
    /// `error` as [`Unsafe`](Self::Unsafe) when it is a refusal, otherwise through `other`.
    pub(crate) fn from_io(
        error: std::io::Error,
        other: impl FnOnce(std::io::Error) -> Self,
    ) -> Self {
        match UnsafePath::take(error) {
            Ok(refusal) => Self::Unsafe(refusal),
            Err(error) => other(error),
        }
    }

    /// A Logger error, as [`Unsafe`](Self::Unsafe) when its file was refused.
    pub(crate) fn from_logger(error: LoggerError) -> Self {
        match error {
            LoggerError::Open { path, source } => {
                Self::from_io(source, |source| LoggerError::Open { path, source }.into())
            }
            other => other.into(),
        }
    }
}

/// Start failed; [`exit_code`](Self::exit_code) says how the process should end.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct StartError {
    kind: StartErrorKind,
    codes: ExitCodes,
}

impl StartError {
    pub(crate) fn new(kind: impl Into<StartErrorKind>, codes: ExitCodes) -> Self {
        Self {
            kind: kind.into(),
            codes,
        }
    }

    /// What failed.
    pub fn kind(&self) -> &StartErrorKind {
        &self.kind
    }

    /// True when another live instance holds the lock.
    pub fn is_already_running(&self) -> bool {
        matches!(
            self.kind,
            StartErrorKind::Lock(LockError::AlreadyRunning { .. })
        )
    }

    /// The numeric exit code: `already_running` (73) for a live lock holder, `config` (2) for
    /// bad configuration, a start outside an actix System, and an unsafe state directory or
    /// file in it (a link, another owner, writable by others: restarting cannot fix it),
    /// `failed` (1) otherwise (an I/O failure at boot: the state directory or a log file cannot
    /// be created or written).
    pub fn code(&self) -> i32 {
        match &self.kind {
            StartErrorKind::Config(_)
            | StartErrorKind::NoActixSystem
            | StartErrorKind::Unsafe(_)
            | StartErrorKind::Lock(LockError::Symlink { .. } | LockError::Unsafe(_)) => {
                self.codes.config
            }
            StartErrorKind::Lock(LockError::AlreadyRunning { .. }) => self.codes.already_running,
            _ => self.codes.failed,
        }
    }

    /// [`code`](Self::code) as a process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(u8::try_from(self.code()).unwrap_or(1))
    }
}
