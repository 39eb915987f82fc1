//! Why a [`Shutdown`](crate::Shutdown) could not start, and the exit code that says so.

use std::process::ExitCode;

use actix_shutdown_actors::{ExitCodes, LockError, LoggerError, PersistError};

use crate::config::ConfigError;

/// What failed at start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartErrorKind {
    /// The configuration cannot work (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state directory could not be created.
    #[error("cannot create the state directory {path}: {source}")]
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
    /// bad configuration or a start outside an actix System, `failed` (1) otherwise.
    pub fn code(&self) -> i32 {
        match &self.kind {
            StartErrorKind::Config(_) | StartErrorKind::NoActixSystem => self.codes.config,
            StartErrorKind::Lock(LockError::AlreadyRunning { .. }) => self.codes.already_running,
            _ => self.codes.failed,
        }
    }

    /// [`code`](Self::code) as a process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(u8::try_from(self.code()).unwrap_or(1))
    }
}
