//! TaskMonitor: named background tasks on the actor's thread. Each task is handed a
//! [`Cancellation`], a read-only view of one shared token (so a task cannot cancel the
//! others); a task may ask for a cancellation of its own ([`TaskOptions::own_cancellation`]),
//! which [`CancelTask`] fires for it alone. At [`CancelAll`] the cancellation fires, each task
//! gets its grace, then it is aborted; panics are contained; crashed tasks may restart with
//! exponential backoff.
//!
//! Cost model (see `benches/compare/tasks.rs`): a task costs one tokio task with its future
//! inline (unless it may be restarted), a clone of one token, a 48-byte slot in one shared
//! table where it records its own end, and its name in a hash index (spawning stays O(1)).
//! CancelAll fires one token, waits on a single counter rather than on one join handle and
//! one timer per task, and needs one timer per distinct deadline.
//!
//! Parts: `messages` (what the monitor answers), `cancellation` (the view), `table` (the
//! slots and the end guard), `start` (a task, started with its future inline unless it may
//! be restarted), `restart` (the restart policy), `actor` (the monitor).

mod actor;
mod cancellation;
mod messages;
mod restart;
mod start;
mod table;

pub use actor::TaskMonitor;
pub use cancellation::Cancellation;
pub use messages::{
    AbortAll, CancelAll, CancelReport, CancelTask, GetTasks, SpawnTask, TaskInfo, TaskOptions,
    TaskResult, TaskState,
};
pub use restart::{BACKOFF_MAX, BACKOFF_START};
pub use start::Task;
pub use table::ENDED_KEPT;
