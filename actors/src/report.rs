//! What a shutdown did, step by step: the in-memory report every waiter receives and the
//! versioned `last_shutdown.json` written from it. One thing: the report's records and the
//! one rule that says what was lost (`lost_items`); its human table is in `display`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::request::RequestSource;
use crate::step::Step;

mod display;

/// Version of the `last_shutdown.json` format written by this crate.
pub const SUMMARY_VERSION: u32 = 2;

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
    /// The step was not run: the hard deadline ended the process before it, or running it
    /// would hide a loss (the lock file is kept when the summary could not be written).
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
    /// Which step (serialized as its name, e.g. `persist_state`).
    pub name: Step,
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

/// One drain participant in the report: a server, the tracked futures, a custom drainer or an
/// actor answering [`Drain`](crate::messages::Drain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DrainRecord {
    /// The name it was registered with.
    pub name: String,
    /// `completed`, `failed`, `timed_out` or `panicked`.
    pub outcome: ParticipantOutcome,
    /// Wall time until it finished or was given up on.
    #[serde(default)]
    pub duration_ms: u64,
    /// The failure, in words.
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
#[non_exhaustive]
pub struct VetoRecord {
    /// The hook's name.
    pub hook: String,
    /// When it canceled (RFC 3339 UTC).
    pub at: String,
    /// The request it canceled.
    #[serde(default)]
    pub request_id: String,
}

impl VetoRecord {
    /// `hook` canceled request `request_id` at `at` (RFC 3339 UTC).
    pub fn new(
        hook: impl Into<String>,
        at: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Self {
        Self {
            hook: hook.into(),
            at: at.into(),
            request_id: request_id.into(),
        }
    }
}

/// A hook that failed, panicked or ran out of time (it never cancels).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    pub source: RequestSource,
    /// Whether the run ended in forced mode.
    pub forced: bool,
    /// Whether a graceful run was switched to forced (second signal, forced request, deadline).
    pub escalated: bool,
    /// Whether a restart was requested.
    pub restart: bool,
    /// The process exit code this shutdown asks for: the clean (or restart) code only when
    /// `clean`.
    pub exit_code: i32,
    /// True when nothing was lost: every step completed, no state skipped or failed, no task
    /// aborted, panicked or failed, no drain or resource timed out or failed.
    #[serde(default)]
    pub clean: bool,
    /// Each thing lost, in words an operator understands (`state reminder_tracking skipped
    /// (forced)`, `task worker-1 aborted`, `drain api timed out`); empty when `clean`.
    #[serde(default)]
    pub lost: Vec<String>,
    /// Jobs still pending when the state was saved, when the bot reports them.
    pub pending_jobs: Option<u64>,
    /// Hooks that canceled earlier graceful requests of this run.
    pub vetoes: Vec<VetoRecord>,
    /// Hooks that failed, panicked or timed out.
    #[serde(default)]
    pub hook_errors: Vec<HookRecord>,
    /// The pipeline steps in order, each once.
    pub steps: Vec<StepRecord>,
    /// The drain participants.
    #[serde(default)]
    pub drains: Vec<DrainRecord>,
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
    /// A report of a run that starts now, for `reason` from `source`: nothing recorded yet,
    /// clean until something is lost, exit code 0 until the run decides it.
    pub fn new(reason: impl Into<String>, source: RequestSource) -> Self {
        Self {
            version: SUMMARY_VERSION,
            started_at: crate::files::rfc3339(std::time::SystemTime::now()),
            finished_at: String::new(),
            duration_ms: 0,
            reason: reason.into(),
            source,
            forced: false,
            escalated: false,
            restart: false,
            exit_code: 0,
            clean: true,
            lost: Vec::new(),
            pending_jobs: None,
            vetoes: Vec::new(),
            hook_errors: Vec::new(),
            steps: Vec::new(),
            drains: Vec::new(),
            tasks: Vec::new(),
            files: Vec::new(),
            resources: Vec::new(),
            logs_dropped: 0,
        }
    }

    /// True when nothing was lost (see [`lost_items`](Self::lost_items)).
    pub fn is_clean(&self) -> bool {
        self.lost_items().is_empty()
    }

    /// Every loss this report records, in words: a step that did not complete, a state that
    /// was skipped or not written, a task aborted, panicked or failed, a drain or a resource
    /// that timed out, failed or panicked, log records dropped. Empty exactly when the run lost
    /// nothing.
    pub fn lost_items(&self) -> Vec<String> {
        let mut lost = Vec::new();
        for step in &self.steps {
            // A step that failed because of its participants is told by their lines below.
            let told_below = step.outcome == StepOutcome::Failed
                && match step.name {
                    Step::Drain => self.drains.iter().any(|d| d.outcome.is_failure()),
                    Step::PersistState => self.files.iter().any(|f| f.outcome.is_failure()),
                    Step::CloseResources => self.resources.iter().any(|r| r.outcome.is_failure()),
                    _ => false,
                };
            if step.outcome != StepOutcome::Completed && !told_below {
                lost.push(with_error(
                    format!("step {} {}", step.name, step.outcome),
                    &step.error,
                ));
            }
        }
        for drain in &self.drains {
            if drain.outcome.is_failure() {
                lost.push(with_error(
                    format!("drain {} {}", drain.name, drain.outcome),
                    &drain.error,
                ));
            }
        }
        for task in &self.tasks {
            if !matches!(task.outcome, TaskOutcome::Finished | TaskOutcome::Cancelled) {
                lost.push(with_error(
                    format!("task {} {}", task.name, task.outcome),
                    &task.error,
                ));
            }
        }
        for file in &self.files {
            match file.outcome {
                ParticipantOutcome::Completed => {}
                ParticipantOutcome::Skipped => lost.push(format!(
                    "state {} skipped ({})",
                    file.name,
                    file.error.as_deref().unwrap_or(if self.forced {
                        "forced"
                    } else {
                        "not written"
                    })
                )),
                outcome => lost.push(with_error(
                    format!("state {} {}", file.name, outcome),
                    &file.error,
                )),
            }
        }
        for resource in &self.resources {
            if resource.outcome.is_failure() {
                lost.push(with_error(
                    format!("resource {} {}", resource.name, resource.outcome),
                    &resource.error,
                ));
            }
        }
        if self.logs_dropped > 0 {
            lost.push(format!("{} log records dropped", self.logs_dropped));
        }
        lost
    }

    /// The step record for this step, if it ran.
    pub fn step(&self, step: Step) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.name == step)
    }

    /// The exit code as a [`std::process::ExitCode`] (codes outside 0..=255 map to 1).
    pub fn process_exit_code(&self) -> std::process::ExitCode {
        std::process::ExitCode::from(u8::try_from(self.exit_code).unwrap_or(1))
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn with_error(what: String, error: &Option<String>) -> String {
    match error {
        Some(error) => format!("{what}: {error}"),
        None => what,
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::TimedOut => "timed out",
            Self::Skipped => "skipped",
        })
    }
}

impl fmt::Display for ParticipantOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::TimedOut => "timed out",
            Self::Panicked => "panicked",
            Self::Skipped => "skipped",
        })
    }
}

impl fmt::Display for TaskOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
            Self::Aborted => "aborted",
            Self::Panicked => "panicked",
            Self::Failed => "failed",
        })
    }
}
