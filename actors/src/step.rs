//! The steps of a shutdown, in the order the pipeline runs them. Every place that names a step
//! (the pipeline, the report, `last_shutdown.json`, systemd's status line, the demo, the tests)
//! uses [`Step`], so a step's name is written once, here.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One step of the shutdown pipeline. [`Step::ALL`] lists them in the order they run; each runs
/// once per shutdown.
///
/// Why this order: work in flight must end (`Drain`) before the state it changes is snapshotted
/// (`PersistState`), background tasks stop before that too (`CancelTasks`), and external
/// resources close (`CloseResources`) only once the state is safe. The summary is written last
/// among what reaches the disk; the lock is released and the logs stopped after it.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::Step;
///
/// assert_eq!(Step::ALL[1], Step::Drain);
/// assert_eq!(Step::PersistState.name(), "persist_state");
/// assert_eq!("close_resources".parse::<Step>(), Ok(Step::CloseResources));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `is_closing` turns true and the exit marker is written with the planned code.
    Begin,
    /// Drain participants (servers, tracked futures, drainers) finish the work in flight.
    Drain,
    /// The TaskMonitor cancels every task, aborting those that outlive their grace.
    CancelTasks,
    /// The Logger writes and fsyncs what is queued.
    FlushLogs,
    /// The Persister writes every registered state atomically.
    PersistState,
    /// The ResourceCloser closes the registered resources, newest first.
    CloseResources,
    /// `last_shutdown.json` is written.
    WriteSummary,
    /// The LockManager releases and removes the lock file.
    ReleaseLock,
    /// The Logger stops; later records go to stderr.
    StopLogging,
}

impl Step {
    /// Every step, in the order the pipeline runs them.
    pub const ALL: [Step; 9] = [
        Step::Begin,
        Step::Drain,
        Step::CancelTasks,
        Step::FlushLogs,
        Step::PersistState,
        Step::CloseResources,
        Step::WriteSummary,
        Step::ReleaseLock,
        Step::StopLogging,
    ];

    /// The step's name as reports and logs spell it (`persist_state`).
    pub const fn name(self) -> &'static str {
        match self {
            Step::Begin => "begin",
            Step::Drain => "drain",
            Step::CancelTasks => "cancel_tasks",
            Step::FlushLogs => "flush_logs",
            Step::PersistState => "persist_state",
            Step::CloseResources => "close_resources",
            Step::WriteSummary => "write_summary",
            Step::ReleaseLock => "release_lock",
            Step::StopLogging => "stop_logging",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A name that is not one of [`Step::ALL`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown shutdown step {0:?}")]
pub struct UnknownStep(pub String);

impl std::str::FromStr for Step {
    type Err = UnknownStep;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Step::ALL
            .into_iter()
            .find(|step| step.name() == name)
            .ok_or_else(|| UnknownStep(name.to_owned()))
    }
}
