//! What a shutdown did, step by step: the in-memory report every waiter receives and the
//! versioned `last_shutdown.json` written from it.

use serde::{Deserialize, Serialize};

/// Version of the `last_shutdown.json` format written by this crate.
pub const SUMMARY_VERSION: u32 = 1;

/// How one pipeline step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// The participant answered and reported no failure.
    Completed,
    /// The participant answered with a failure, or could not be reached.
    Failed,
    /// No answer before the step's timeout (capped by the overall deadline).
    TimedOut,
    /// The step was not run (nothing to do, or forced mode skipped it).
    Skipped,
}

/// How one participant inside a step (a resource, a state file, a hook) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantOutcome {
    /// Done without error.
    Completed,
    /// Returned an error (the text is in `error`).
    Failed,
    /// Ran out of its time budget.
    TimedOut,
    /// Panicked; the panic was contained.
    Panicked,
    /// Not run (e.g. non-critical state in a forced shutdown).
    Skipped,
}

impl ParticipantOutcome {
    /// True for every outcome but `Completed` and `Skipped`.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::Panicked)
    }
}

/// How one background task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// The task had returned before the shutdown asked it to stop.
    Finished,
    /// The task returned after its cancellation token fired.
    Cancelled,
    /// The task ignored cancellation past its grace and was aborted.
    Aborted,
    /// The task panicked; the panic was contained.
    Panicked,
    /// The task returned an error.
    Failed,
}

/// One pipeline step in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Step name: `begin`, `cancel_tasks`, `flush_logs`, `persist_state`, `close_resources`,
    /// `write_summary`, `release_lock`, `stop_logging`.
    pub name: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Wall time of the step.
    pub duration_ms: u64,
    /// The failure or timeout, in words.
    pub error: Option<String>,
}

/// One background task in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The name it was spawned with.
    pub name: String,
    /// How it ended.
    pub outcome: TaskOutcome,
    /// Times it was restarted after a crash.
    #[serde(default)]
    pub restarts: u32,
    /// The panic message or error, if any.
    #[serde(default)]
    pub error: Option<String>,
}

/// One persisted state file in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The registered state name.
    pub name: String,
    /// The file written (or that was to be written).
    pub path: String,
    /// How the snapshot and write ended.
    pub outcome: ParticipantOutcome,
    /// Bytes written.
    #[serde(default)]
    pub bytes: u64,
    /// The failure, in words (with the OS error).
    #[serde(default)]
    pub error: Option<String>,
}

/// One closed resource in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// The registered resource name.
    pub name: String,
    /// How its closer ended.
    pub outcome: ParticipantOutcome,
    /// Wall time of the closer.
    #[serde(default)]
    pub duration_ms: u64,
    /// The failure, in words.
    #[serde(default)]
    pub error: Option<String>,
}

/// A hook that canceled a graceful request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetoRecord {
    /// The hook's name.
    pub hook: String,
    /// When it canceled (RFC 3339 UTC).
    pub at: String,
    /// The request it canceled.
    #[serde(default)]
    pub request_id: String,
}

/// A hook that failed, panicked or ran out of time (it never cancels).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRecord {
    /// The hook's name.
    pub hook: String,
    /// `failed`, `panicked` or `timed_out`.
    pub outcome: ParticipantOutcome,
    /// What happened, in words.
    pub error: Option<String>,
}

/// Everything a finished shutdown did; serialized as `last_shutdown.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShutdownReport {
    /// Format version ([`SUMMARY_VERSION`]).
    pub version: u32,
    /// When the pipeline began (RFC 3339 UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Its wall time.
    pub duration_ms: u64,
    /// Why, e.g. `signal:SIGTERM`, `admin:restart`, `director`.
    pub reason: String,
    /// Who asked: `signal`, `admin`, `director`, `watchdog`, `http`, `api`.
    pub source: String,
    /// Whether the run ended in forced mode.
    pub forced: bool,
    /// Whether a graceful run was switched to forced (second signal, forced request, deadline).
    pub escalated: bool,
    /// Whether a restart was requested.
    pub restart: bool,
    /// The process exit code this shutdown asks for.
    pub exit_code: i32,
    /// Jobs still pending when the state was saved, when the bot reports them.
    pub pending_jobs: Option<u64>,
    /// Hooks that canceled earlier graceful requests of this run.
    pub vetoes: Vec<VetoRecord>,
    /// Hooks that failed, panicked or timed out.
    #[serde(default)]
    pub hook_errors: Vec<HookRecord>,
    /// The pipeline steps in order.
    pub steps: Vec<StepRecord>,
    /// The background tasks.
    pub tasks: Vec<TaskRecord>,
    /// The state files.
    pub files: Vec<FileRecord>,
    /// The external resources.
    pub resources: Vec<ResourceRecord>,
    /// Log records dropped (lossy logging only).
    #[serde(default)]
    pub logs_dropped: u64,
}

impl ShutdownReport {
    /// True when every step that ran completed.
    pub fn is_clean(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::Completed | StepOutcome::Skipped))
    }

    /// The step record with this name.
    pub fn step(&self, name: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The exit code as a [`std::process::ExitCode`] (codes outside 0..=255 map to 1).
    pub fn process_exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(u8::try_from(self.exit_code).unwrap_or(1))
    }
}
