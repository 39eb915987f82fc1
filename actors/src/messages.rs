//! The typed messages the actors exchange, every one under one path. Commands are imperative
//! (`CancelAll`), queries start with `Get`, notifications are past tense (`ShutdownComplete`),
//! replies name their content (`CancelReport`, `FlushAck`). Each actor's messages live beside
//! it (`supervisor/messages.rs`, `task_monitor/messages.rs`, `logger/messages.rs`,
//! `persister/messages.rs`, `resource_closer/messages.rs`, `lock_manager/messages.rs`) and are
//! re-exported here.

pub use crate::lock_manager::{LockReleased, ReleaseLock};
pub use crate::logger::{FlushAck, FlushLogs, LoggingStopped, StopLogging};
pub use crate::persister::{
    PersistAll, PersistReport, RegisterState, Snapshot, SnapshotFn, SnapshotResult, SummaryWritten,
    TakeSnapshot, WriteSummary,
};
pub use crate::resource_closer::{CloseAll, CloseReport, CloserFn, RegisterResource};
pub use crate::supervisor::messages::*;
pub use crate::task_monitor::{
    AbortAll, CancelAll, CancelReport, CancelTask, GetTasks, SpawnTask, Task, TaskInfo,
    TaskOptions, TaskResult, TaskState,
};
