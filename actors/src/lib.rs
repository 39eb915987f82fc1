//! The actors behind `actix-shutdown`: [`supervisor::Supervisor`], [`TaskMonitor`],
//! [`Persister`], [`ResourceCloser`], [`LockManager`] and [`Logger`], and the typed messages
//! they exchange. Each actor can be started alone and driven by its messages.
//!
//! actix's prelude exports a `Supervisor` of its own; refer to ours as
//! `actix_shutdown_actors::supervisor::Supervisor`.

mod closing;
mod crash_log;
pub mod defaults;
mod errors;
mod escape;
pub mod files;
mod hard_deadline;
mod last_resort;
mod lock_manager;
mod logger;
pub mod messages;
mod persister;
mod report;
mod request;
mod resource_closer;
mod state_store;
mod step;
pub mod supervisor;
mod task_monitor;

pub use closing::ClosingFlag;
pub use crash_log::{CrashLog, CrashWriter};
pub use errors::{LoggerError, PersistError, TaskError};
pub use escape::{EscapedFields, escape};
pub use hard_deadline::{HardDeadline, HardDeadlineThread};
pub use last_resort::{Activity, LastResort, write_exit_marker};
pub use lock_manager::{
    LockError, LockHolder, LockInfo, LockManager, PreviousLock, read_lock_info,
};
pub use logger::{LogOptions, LogQueue, LogWriter, Logger, RecordWriter};
pub use persister::{Persister, write_json_atomic};
pub use report::*;
pub use request::{
    HookFn, RequestSource, ShutdownRequest, ShutdownResponse, async_hook, recipient_hook, sync_hook,
};
pub use resource_closer::ResourceCloser;
pub use state_store::{
    ArchivedFile, DEFAULT_MAX_STATE_BYTES, Envelope, FoundState, Loaded, RESERVED_NAMES,
    ReadOutcome, SCHEMA_VERSION, StateStore, read_bounded, validate_name,
};
pub use step::{Step, UnknownStep};
pub use supervisor::{
    ExitCodes, Participants, ProgressFn, StatusView, StepTimeouts, SupervisorConfig,
};
pub use task_monitor::{BACKOFF_MAX, BACKOFF_START, Cancellation, ENDED_KEPT, TaskMonitor};

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-text payload".to_owned())
}
