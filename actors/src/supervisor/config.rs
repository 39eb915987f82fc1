//! How the Supervisor runs a shutdown: deadlines, step timeouts, exit codes, and the actors it
//! talks to.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::defaults;
use crate::hard_deadline::HardDeadline;
use crate::messages::{
    AbortAll, CancelAll, CloseAll, FlushLogs, PersistAll, ReleaseLock, StepEvent, StopLogging,
    WriteSummary,
};

/// Exit codes the process ends with (configurable). Fields may be added: start from
/// [`ExitCodes::default`] and assign the codes you change.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::ExitCodes;
///
/// let mut codes = ExitCodes::default();
/// codes.restart = 76;
/// assert_eq!((codes.clean, codes.restart, codes.failed), (0, 76, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExitCodes {
    /// Clean shutdown: nothing was lost (0).
    pub clean: i32,
    /// A restart was requested and nothing was lost (75, EX_TEMPFAIL).
    pub restart: i32,
    /// The shutdown finished but something was lost or failed, forced or not (1).
    pub failed: i32,
    /// Another live instance holds the lock (73, EX_CANTCREAT).
    pub already_running: i32,
    /// Bad command line or configuration (2).
    pub config: i32,
}

impl ExitCodes {
    /// The code a finished shutdown ends with: `clean` (or `restart` when one was asked for)
    /// only when nothing was lost, `failed` otherwise. The one place this decision is made.
    pub fn for_run(&self, clean: bool, restart: bool) -> i32 {
        match (clean, restart) {
            (false, _) => self.failed,
            (true, true) => self.restart,
            (true, false) => self.clean,
        }
    }
}

impl Default for ExitCodes {
    fn default() -> Self {
        Self {
            clean: 0,
            restart: 75,
            failed: 1,
            already_running: 73,
            config: 2,
        }
    }
}

/// Timeouts of the individual steps; each is further capped by the overall deadline. Fields
/// may be added: start from [`StepTimeouts::default`] and assign the ones you change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepTimeouts {
    /// CancelAll (tasks get at most half of what is left of the deadline).
    pub cancel_tasks: Duration,
    /// FlushLogs.
    pub flush_logs: Duration,
    /// PersistAll.
    pub persist_state: Duration,
    /// CloseAll.
    pub close_resources: Duration,
    /// WriteSummary.
    pub write_summary: Duration,
    /// ReleaseLock.
    pub release_lock: Duration,
    /// StopLogging.
    pub stop_logging: Duration,
}

impl Default for StepTimeouts {
    fn default() -> Self {
        Self {
            cancel_tasks: Duration::from_secs(10),
            flush_logs: Duration::from_secs(2),
            persist_state: Duration::from_secs(5),
            close_resources: Duration::from_secs(5),
            write_summary: Duration::from_secs(2),
            release_lock: Duration::from_secs(1),
            stop_logging: Duration::from_secs(2),
        }
    }
}

/// Receives [`StepEvent`]s as the pipeline runs.
pub type ProgressFn = Arc<dyn Fn(&StepEvent) + Send + Sync>;

/// How the Supervisor runs a shutdown.
#[derive(Clone)]
pub struct SupervisorConfig {
    /// Overall deadline of a graceful shutdown.
    pub grace: Duration,
    /// Deadline once forced (from the moment it becomes forced, never later than `grace`'s).
    pub forced_budget: Duration,
    /// Default grace per task between cancellation and abort.
    pub task_grace: Duration,
    /// Time each drain participant may take (capped by the deadline).
    pub drain_timeout: Duration,
    /// Per-step timeouts.
    pub steps: StepTimeouts,
    /// Time every step still gets once the deadline is exhausted (in forced mode).
    pub min_step_time: Duration,
    /// Time each hook may take.
    pub hook_budget: Duration,
    /// How often the hooks are asked again while they defer an inevitable request.
    pub veto_retry: Duration,
    /// The orchestrator's SIGKILL deadline, counted from the first inevitable request: a
    /// deferred request is forced early enough that the forced run and the hard margin end
    /// before it (with [`kill_reserve`](Self::kill_reserve) kept free), and no run's deadline
    /// passes it.
    pub stop_timeout: Option<Duration>,
    /// Exit codes.
    pub exit_codes: ExitCodes,
    /// Where the exit marker goes (written at `begin` with the planned code, and at the end).
    pub exit_marker: Option<PathBuf>,
    /// Stop the actix System with the exit code when done. The process is then expected to
    /// end: if it is still alive a hard margin later (the runtime waiting for a stuck blocking
    /// task), the hard-deadline thread ends it with the same code.
    pub stop_system: bool,
    /// The hard deadline thread and what it writes before it ends the process, if any.
    pub hard_deadline: Option<HardDeadline>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl SupervisorConfig {
    /// What a participant may spend of a step's `limit`: a little less, so that it can still
    /// answer with its report (which resource hung, which task was aborted) before the step
    /// itself times out.
    pub fn inner_budget(&self, limit: Duration) -> Duration {
        limit - self.min_step_time.min(limit / 4)
    }

    /// The time tasks get between cancellation and abort when `left` remains of the deadline:
    /// half of it (the state must still be saved after them), within the `cancel_tasks` step.
    /// A task whose own grace is longer is aborted at this point; at best (a graceful run
    /// that begins with its whole grace) it is `task_budget(grace)`.
    pub fn task_budget(&self, left: Duration) -> Duration {
        (left / 2).min(self.inner_budget(self.steps.cancel_tasks))
    }

    /// What a run keeps free before the orchestrator's kill: the hard margin and, with a
    /// hard-deadline thread, [`KILL_SLACK`](crate::defaults::KILL_SLACK) for its last resort.
    pub fn kill_reserve(&self) -> Duration {
        match &self.hard_deadline {
            Some(hard) => hard.margin + crate::defaults::KILL_SLACK,
            None => Duration::ZERO,
        }
    }
}

impl fmt::Debug for SupervisorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorConfig")
            .field("grace", &self.grace)
            .field("forced_budget", &self.forced_budget)
            .field("task_grace", &self.task_grace)
            .field("drain_timeout", &self.drain_timeout)
            .field("steps", &self.steps)
            .field("hook_budget", &self.hook_budget)
            .field("veto_retry", &self.veto_retry)
            .field("stop_timeout", &self.stop_timeout)
            .field("exit_codes", &self.exit_codes)
            .finish_non_exhaustive()
    }
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            grace: defaults::GRACE,
            forced_budget: defaults::FORCED_BUDGET,
            task_grace: defaults::TASK_GRACE,
            drain_timeout: defaults::DRAIN_TIMEOUT,
            steps: StepTimeouts::default(),
            min_step_time: defaults::MIN_STEP_TIME,
            hook_budget: defaults::HOOK_BUDGET,
            veto_retry: defaults::VETO_RETRY,
            stop_timeout: None,
            exit_codes: ExitCodes::default(),
            exit_marker: None,
            stop_system: false,
            hard_deadline: None,
            progress: None,
        }
    }
}

/// The actors the pipeline talks to, as recipients so that tests can inject their own.
#[derive(Clone, Debug)]
pub struct Participants {
    /// TaskMonitor.
    pub cancel_tasks: Recipient<CancelAll>,
    /// TaskMonitor, on escalation.
    pub abort_tasks: Recipient<AbortAll>,
    /// Logger.
    pub flush_logs: Recipient<FlushLogs>,
    /// Persister.
    pub persist: Recipient<PersistAll>,
    /// ResourceCloser.
    pub close: Recipient<CloseAll>,
    /// Persister.
    pub write_summary: Recipient<WriteSummary>,
    /// LockManager.
    pub release_lock: Recipient<ReleaseLock>,
    /// Logger.
    pub stop_logging: Recipient<StopLogging>,
}
