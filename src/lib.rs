#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]

mod boot;
#[cfg(feature = "botica")]
pub mod botica;
mod config;
mod error;
mod handle;
#[cfg(feature = "http")]
pub mod http;
mod logging;
mod previous_run;
mod rehydrate;
mod shutdown;
mod signals;
#[cfg(feature = "systemd")]
pub mod systemd;

pub use actix_shutdown_actors as actors;
pub use actix_shutdown_actors::messages::{
    Drain, HookId, RequestAnswer, Snapshot, StepEvent, SupervisorState, TakeSnapshot, TaskInfo,
    TaskOptions, TaskState,
};
pub use actix_shutdown_actors::{
    ArchivedFile, ClosingFlag, DrainRecord, EscapedFields, ExitCodes, FileRecord, FoundState,
    Loaded, LockError, LockInfo, LogOptions, LoggerError, ParticipantOutcome, PersistError,
    RequestSource, ResourceRecord, ShutdownReport, ShutdownRequest, ShutdownResponse, Step,
    StepOutcome, StepRecord, StepTimeouts, TaskError, TaskOutcome, TaskRecord, VetoRecord, escape,
};
pub use boot::{BootReport, RestoredQueue};
pub use config::{Config, ConfigError};
pub use error::{StartError, StartErrorKind};
pub use handle::{ShutdownHandle, TaskSpawner};
pub use previous_run::{PreviousRun, inspect_previous_run};
pub use rehydrate::{DroppedJobs, QueuedJob, Rehydrated, RequeuePolicy, rehydrate_queue};
pub use shutdown::{Shutdown, ShutdownBuilder};
pub use signals::catch_signals;
pub use tokio_util::sync::CancellationToken;
