//! Supervisor: asks the hooks, guards the single run, sets `is_closing`, and drives the
//! pipeline — each step one message round-trip with its own timeout, capped by what is left of
//! the overall deadline. A timeout or failure is recorded and the pipeline goes on; flushing
//! the logs, releasing the lock and stopping the logs always run.

use std::cell::Cell;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use futures::FutureExt;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::closing::ClosingFlag;
use crate::files;
use crate::hard_deadline::{self, HardDeadline};
use crate::messages::*;
use crate::panic_message;
use crate::report::*;
use crate::request::{HookFn, RequestSource, ShutdownRequest, ShutdownResponse};
use crate::resource_closer::millis;

/// Exit codes the process ends with (configurable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCodes {
    /// Clean shutdown (0).
    pub clean: i32,
    /// A restart was requested (75, EX_TEMPFAIL).
    pub restart: i32,
    /// The shutdown finished with a failed or timed-out step (1).
    pub failed: i32,
    /// Another live instance holds the lock (73, EX_CANTCREAT).
    pub already_running: i32,
    /// Bad command line or configuration (2).
    pub config: i32,
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

/// Timeouts of the individual steps; each is further capped by the overall deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// Per-step timeouts.
    pub steps: StepTimeouts,
    /// Time every step still gets once the deadline is exhausted (in forced mode).
    pub min_step_time: Duration,
    /// Time each hook may take.
    pub hook_budget: Duration,
    /// How often a signal's vetoed graceful request is retried until the grace deadline.
    pub veto_retry: Duration,
    /// Exit codes.
    pub exit_codes: ExitCodes,
    /// Where the exit marker goes (written at BeginShutdown and at the end).
    pub exit_marker: Option<PathBuf>,
    /// Stop the actix System with the exit code when done. The process is then expected to
    /// end: if it is still alive a hard margin later (the runtime waiting for a stuck blocking
    /// task), the hard-deadline thread ends it with the same code.
    pub stop_system: bool,
    /// The hard deadline thread, if any.
    pub hard_deadline: Option<HardDeadline>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for SupervisorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorConfig")
            .field("grace", &self.grace)
            .field("forced_budget", &self.forced_budget)
            .field("task_grace", &self.task_grace)
            .field("steps", &self.steps)
            .field("hook_budget", &self.hook_budget)
            .field("exit_codes", &self.exit_codes)
            .finish_non_exhaustive()
    }
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(10),
            forced_budget: Duration::from_secs(3),
            task_grace: Duration::from_secs(5),
            steps: StepTimeouts::default(),
            min_step_time: Duration::from_millis(250),
            hook_budget: Duration::from_secs(10),
            veto_retry: Duration::from_secs(1),
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

/// Reports how many jobs are pending, for `pending_jobs` in the summary.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetPendingJobsProbe(pub Box<dyn Fn() -> u64 + Send>);

impl std::fmt::Debug for SetPendingJobsProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetPendingJobsProbe(..)")
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct RetryDeferred;

struct Hook {
    id: HookId,
    name: String,
    hook: Rc<HookFn>,
}

/// Shared with the running pipeline.
struct RunControl {
    forced: Cell<bool>,
    escalated: Cell<bool>,
    deadline: watch::Sender<Instant>,
    hard: Option<std::sync::mpsc::Sender<hard_deadline::Signal>>,
}

enum Phase {
    Idle,
    Running(Rc<RunControl>),
    Done(Arc<ShutdownReport>),
}

/// Where the Supervisor is, readable from any thread without a message round-trip (the
/// Supervisor's mailbox waits while hooks run).
#[derive(Clone, Debug)]
pub struct StatusView {
    closing: ClosingFlag,
    step: Arc<Mutex<String>>,
    exit_code: Arc<Mutex<Option<i32>>>,
}

impl StatusView {
    /// Running, closing (with the step in progress) or finished (with the exit code).
    pub fn get(&self) -> SupervisorState {
        if let Some(exit_code) = *self.exit_code.lock().unwrap_or_else(|p| p.into_inner()) {
            SupervisorState::Finished { exit_code }
        } else if self.closing.is_closing() {
            SupervisorState::Closing {
                step: self.step.lock().map(|s| s.clone()).unwrap_or_default(),
            }
        } else {
            SupervisorState::Running
        }
    }
}

/// The Supervisor actor. See the module docs.
pub struct Supervisor {
    config: SupervisorConfig,
    participants: Participants,
    closing: ClosingFlag,
    hooks: Vec<Hook>,
    phase: Phase,
    waiters: Vec<oneshot::Sender<Arc<ShutdownReport>>>,
    subscribers: Vec<Recipient<ShutdownComplete>>,
    vetoes: Vec<VetoRecord>,
    hook_errors: Vec<HookRecord>,
    deferred: Option<(ShutdownRequest, Instant)>,
    pending_jobs: Option<Rc<dyn Fn() -> u64>>,
    current_step: Arc<Mutex<String>>,
    exit_code: Arc<Mutex<Option<i32>>>,
    /// The parked hard-deadline thread, until the shutdown arms it.
    hard: Option<std::sync::mpsc::Sender<hard_deadline::Signal>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("config", &self.config)
            .field("closing", &self.closing.is_closing())
            .field(
                "hooks",
                &self.hooks.iter().map(|h| &h.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What one round of hooks decided.
struct HookRound {
    vetoed_by: Vec<String>,
    errors: Vec<HookRecord>,
    at: SystemTime,
}

impl Supervisor {
    /// A Supervisor driving `participants`, setting `closing` at BeginShutdown.
    pub fn new(config: SupervisorConfig, participants: Participants, closing: ClosingFlag) -> Self {
        Self {
            config,
            participants,
            closing,
            hooks: Vec::new(),
            phase: Phase::Idle,
            waiters: Vec::new(),
            subscribers: Vec::new(),
            vetoes: Vec::new(),
            hook_errors: Vec::new(),
            deferred: None,
            pending_jobs: None,
            current_step: Arc::new(Mutex::new(String::new())),
            exit_code: Arc::new(Mutex::new(None)),
            hard: None,
        }
    }

    /// A view of where this Supervisor is, for any thread.
    pub fn status_view(&self) -> StatusView {
        StatusView {
            closing: self.closing.clone(),
            step: Arc::clone(&self.current_step),
            exit_code: Arc::clone(&self.exit_code),
        }
    }

    fn emit(&self, event: &StepEvent) {
        notify(self.config.progress.as_ref(), event);
    }

    fn ask_hooks(&self, request: &ShutdownRequest) -> impl Future<Output = HookRound> + 'static {
        let hooks: Vec<(String, Rc<HookFn>)> = self
            .hooks
            .iter()
            .map(|h| (h.name.clone(), Rc::clone(&h.hook)))
            .collect();
        // A forced request must not wait a whole hook budget per hook: its hooks share the
        // forced budget.
        let budget = if request.forced {
            self.config.hook_budget.min(self.config.forced_budget)
        } else {
            self.config.hook_budget
        };
        let request = request.clone();
        async move {
            let mut round = HookRound {
                vetoed_by: Vec::new(),
                errors: Vec::new(),
                at: SystemTime::now(),
            };
            for (name, hook) in hooks {
                let response = ShutdownResponse::new();
                let failure = run_hook(&hook, &request, &response, budget).await.err();
                match failure {
                    Some((outcome, error)) => {
                        tracing::error!(hook = %name, ?outcome, "shutdown hook: {error}; it does not cancel");
                        round.errors.push(HookRecord {
                            hook: name,
                            outcome,
                            error: Some(error),
                        });
                    }
                    None if response.is_canceled() => {
                        if request.forced {
                            tracing::info!(hook = %name, "hook asked to cancel a forced shutdown; ignored");
                        } else {
                            tracing::info!(hook = %name, "hook canceled the graceful shutdown request");
                        }
                        round.vetoed_by.push(name);
                    }
                    None => {}
                }
            }
            round.at = SystemTime::now();
            round
        }
    }

    fn decide(
        &mut self,
        request: ShutdownRequest,
        round: HookRound,
        ctx: &mut Context<Self>,
    ) -> RequestAnswer {
        self.hook_errors.extend(round.errors);
        let id = request.id.clone();
        if !matches!(self.phase, Phase::Idle) {
            return self.join(&request);
        }
        if request.forced || round.vetoed_by.is_empty() {
            // A forced request after vetoed graceful ones (a second signal, a director's
            // force after a "not ready") is an escalation.
            let escalated = request.forced && (self.deferred.is_some() || !self.vetoes.is_empty());
            self.begin(request, escalated, ctx);
            return RequestAnswer {
                request_id: id,
                ready: true,
                vetoed_by: Vec::new(),
                joined: false,
            };
        }
        let at = files::rfc3339(round.at);
        self.vetoes
            .extend(round.vetoed_by.iter().map(|hook| VetoRecord {
                hook: hook.clone(),
                at: at.clone(),
                request_id: id.clone(),
            }));
        self.emit(&StepEvent::Vetoed {
            by: round.vetoed_by.clone(),
        });
        if request.source == RequestSource::Signal {
            self.defer(request, ctx);
        }
        RequestAnswer {
            request_id: id,
            ready: false,
            vetoed_by: round.vetoed_by,
            joined: false,
        }
    }

    /// A vetoed signal is retried until the grace deadline, then escalated to forced.
    fn defer(&mut self, request: ShutdownRequest, ctx: &mut Context<Self>) {
        let deadline = match &self.deferred {
            Some((_, deadline)) => *deadline,
            None => {
                let deadline = Instant::now() + self.config.grace;
                self.deferred = Some((request, deadline));
                deadline
            }
        };
        if Instant::now() >= deadline {
            let (request, _) = self.deferred.take().expect("deferred request is set");
            tracing::warn!(
                "graceful shutdown deferred by hooks until the grace deadline; forcing it"
            );
            let forced = ShutdownRequest {
                forced: true,
                reason: format!("{} (escalated after vetoes)", request.reason),
                ..request
            };
            self.begin(forced, true, ctx);
        } else {
            let wait = self.config.veto_retry.min(deadline - Instant::now());
            ctx.notify_later(RetryDeferred, wait);
        }
    }

    fn join(&mut self, request: &ShutdownRequest) -> RequestAnswer {
        if request.forced {
            self.escalate(&request.reason);
        }
        RequestAnswer {
            request_id: request.id.clone(),
            ready: true,
            vetoed_by: Vec::new(),
            joined: true,
        }
    }

    fn escalate(&mut self, reason: &str) {
        let Phase::Running(control) = &self.phase else {
            return;
        };
        if control.forced.get() {
            return;
        }
        control.forced.set(true);
        control.escalated.set(true);
        let budget_end = Instant::now() + self.config.forced_budget;
        control.deadline.send_if_modified(|d| {
            let changed = budget_end < *d;
            *d = (*d).min(budget_end);
            changed
        });
        if let Some(hard) = &control.hard {
            let _ = hard.send(hard_deadline::Signal::Deadline(
                control.deadline.borrow().into_std(),
            ));
        }
        self.participants.abort_tasks.do_send(AbortAll);
        tracing::warn!("shutdown escalated to forced: {reason}");
        self.emit(&StepEvent::Escalated {
            reason: reason.to_owned(),
        });
    }

    fn begin(&mut self, request: ShutdownRequest, escalated: bool, ctx: &mut Context<Self>) {
        if !matches!(self.phase, Phase::Idle) {
            self.join(&request);
            return;
        }
        let deferred_until = self.deferred.take().map(|(_, until)| until);
        self.closing.set();
        let started = Instant::now();
        let budget = if request.forced {
            self.config.forced_budget
        } else {
            self.config.grace
        };
        // A signal deferred by vetoes already used part of its grace: what is left of it
        // (at least the forced budget) bounds the run, not a fresh grace.
        let deadline = match deferred_until {
            Some(until) => (started + budget).min(until.max(started + self.config.forced_budget)),
            None => started + budget,
        };
        let codes = self.config.exit_codes;
        let progress = Arc::new(Mutex::new(ShutdownReport {
            version: SUMMARY_VERSION,
            started_at: files::rfc3339(SystemTime::now()),
            finished_at: String::new(),
            duration_ms: 0,
            reason: request.reason.clone(),
            source: request.source.as_str().to_owned(),
            forced: request.forced,
            escalated,
            restart: request.restart,
            exit_code: if request.restart {
                codes.restart
            } else {
                codes.clean
            },
            pending_jobs: None,
            vetoes: self.vetoes.clone(),
            hook_errors: self.hook_errors.clone(),
            steps: Vec::new(),
            tasks: Vec::new(),
            files: Vec::new(),
            resources: Vec::new(),
            logs_dropped: 0,
        }));
        let hard = self.hard.take().inspect(|hard| {
            let armed = hard.send(hard_deadline::Signal::Arm {
                deadline: deadline.into_std(),
                progress: Arc::clone(&progress),
                current_step: Arc::clone(&self.current_step),
            });
            if armed.is_err() {
                tracing::error!(
                    "the hard-deadline thread is not running; only the step timeouts bound this shutdown"
                );
            }
        });
        let control = Rc::new(RunControl {
            forced: Cell::new(request.forced),
            escalated: Cell::new(escalated),
            deadline: watch::Sender::new(deadline),
            hard,
        });
        self.phase = Phase::Running(Rc::clone(&control));
        tracing::info!(reason = %request.reason, source = %request.source, forced = request.forced, restart = request.restart, "shutdown begins");
        let run = Pipeline {
            participants: self.participants.clone(),
            config: self.config.clone(),
            control,
            report: progress,
            current_step: Arc::clone(&self.current_step),
            pending_jobs: self.pending_jobs.clone(),
            started,
        };
        ctx.spawn(
            run.run()
                .into_actor(self)
                .map(|report, this, ctx| this.finish(report, ctx)),
        );
    }

    fn finish(&mut self, report: ShutdownReport, _: &mut Context<Self>) {
        if let Phase::Running(control) = &self.phase
            && let Some(hard) = &control.hard
        {
            let signal = if self.config.stop_system {
                hard_deadline::Signal::Finished(report.exit_code)
            } else {
                hard_deadline::Signal::Done
            };
            let _ = hard.send(signal);
        }
        let report = Arc::new(report);
        *self.exit_code.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.exit_code);
        self.phase = Phase::Done(Arc::clone(&report));
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Arc::clone(&report));
        }
        for subscriber in &self.subscribers {
            subscriber.do_send(ShutdownComplete {
                report: Arc::clone(&report),
            });
        }
        if self.config.stop_system
            && let Some(system) = actix::System::try_current()
        {
            system.stop_with_code(report.exit_code);
        }
    }
}

struct Pipeline {
    participants: Participants,
    config: SupervisorConfig,
    control: Rc<RunControl>,
    report: Arc<Mutex<ShutdownReport>>,
    current_step: Arc<Mutex<String>>,
    pending_jobs: Option<Rc<dyn Fn() -> u64>>,
    started: Instant,
}

enum StepError {
    TimedOut(Duration),
    Unreachable(String),
}

impl Pipeline {
    fn with_report<R>(&self, f: impl FnOnce(&mut ShutdownReport) -> R) -> R {
        f(&mut self.report.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn emit(&self, event: &StepEvent) {
        notify(self.config.progress.as_ref(), event);
    }

    /// Time this step may take: its own timeout, capped by the deadline, never below the
    /// floor (once the deadline is exhausted the run switches to forced mode).
    fn limit(&self, own: Duration) -> Duration {
        let left = self
            .control
            .deadline
            .borrow()
            .saturating_duration_since(Instant::now());
        if left.is_zero() && !self.control.forced.get() {
            self.control.forced.set(true);
            self.control.escalated.set(true);
            tracing::warn!("shutdown deadline exhausted; the remaining steps run in forced mode");
            self.emit(&StepEvent::Escalated {
                reason: "deadline exhausted".to_owned(),
            });
        }
        own.min(left).max(self.config.min_step_time)
    }

    /// What a participant may spend of a step's `limit`: a little less, so that it can still
    /// answer with its report (which resource hung, which task was aborted) before the step
    /// itself times out.
    fn inner_budget(&self, limit: Duration) -> Duration {
        limit - self.config.min_step_time.min(limit / 4)
    }

    async fn call<M>(
        &self,
        to: &Recipient<M>,
        msg: M,
        own: Duration,
    ) -> Result<M::Result, StepError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
    {
        let limit = self.limit(own);
        let mut until = Instant::now() + limit;
        let mut deadline = self.control.deadline.subscribe();
        let mut reply = Box::pin(to.send(msg));
        loop {
            tokio::select! {
                answer = &mut reply => {
                    return answer.map_err(|e| StepError::Unreachable(format!("the participant is unreachable: {e}")));
                }
                () = tokio::time::sleep_until(until) => return Err(StepError::TimedOut(limit)),
                changed = deadline.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let floor = Instant::now() + self.config.min_step_time;
                    until = until.min((*deadline.borrow()).max(floor));
                }
            }
        }
    }

    fn record(&self, name: &str, began: Instant, result: Result<Option<String>, StepError>) {
        let (outcome, error) = match result {
            Ok(None) => (StepOutcome::Completed, None),
            Ok(Some(e)) => (StepOutcome::Failed, Some(e)),
            Err(StepError::TimedOut(limit)) => (
                StepOutcome::TimedOut,
                Some(format!("no answer within {limit:?}")),
            ),
            Err(StepError::Unreachable(e)) => (StepOutcome::Failed, Some(e)),
        };
        let record = StepRecord {
            name: name.to_owned(),
            outcome,
            duration_ms: millis(began.elapsed()),
            error,
        };
        match &record.error {
            Some(e) => tracing::warn!(
                step = name,
                ?outcome,
                duration_ms = record.duration_ms,
                "shutdown step: {e}"
            ),
            // Once the logs are stopped, a record would only reach stderr: the report has it.
            None if name == "stop_logging" => {}
            None => tracing::info!(
                step = name,
                duration_ms = record.duration_ms,
                "shutdown step completed"
            ),
        }
        self.with_report(|r| r.steps.push(record.clone()));
        self.emit(&StepEvent::Finished { record });
    }

    fn start_step(&self, name: &str) -> Instant {
        if let Ok(mut step) = self.current_step.lock() {
            name.clone_into(&mut step);
        }
        self.emit(&StepEvent::Started {
            step: name.to_owned(),
        });
        Instant::now()
    }

    async fn run(self) -> ShutdownReport {
        let steps = self.config.steps;
        let p = self.participants.clone();

        let began = self.start_step("begin");
        let planned = self.with_report(|r| r.exit_code);
        let marker = self.write_marker(planned);
        self.record("begin", began, Ok(marker));

        let began = self.start_step("cancel_tasks");
        let now = Instant::now();
        let left = self
            .control
            .deadline
            .borrow()
            .saturating_duration_since(now);
        let msg = CancelAll {
            grace: self.config.task_grace,
            deadline: now + (left / 2).min(self.inner_budget(steps.cancel_tasks)),
            forced: self.control.forced.get(),
        };
        let result = self
            .call(&p.cancel_tasks, msg, steps.cancel_tasks)
            .await
            .map(|report| {
                self.with_report(|r| r.tasks = report.tasks);
                None
            });
        self.record("cancel_tasks", began, result);

        let began = self.start_step("flush_logs");
        let result = self
            .call(&p.flush_logs, FlushLogs, steps.flush_logs)
            .await
            .map(|ack| match ack {
                Ok(ack) => {
                    self.with_report(|r| r.logs_dropped = ack.dropped);
                    None
                }
                Err(e) => Some(e.to_string()),
            });
        self.record("flush_logs", began, result);

        let began = self.start_step("persist_state");
        let critical_only = self.control.forced.get();
        let result = self
            .call(
                &p.persist,
                PersistAll { critical_only },
                steps.persist_state,
            )
            .await
            .map(|report| {
                let failures =
                    failures(report.files.iter().map(|f| (&f.name, f.outcome, &f.error)));
                self.with_report(|r| r.files = report.files);
                failures
            });
        if let Some(pending) = &self.pending_jobs {
            match std::panic::catch_unwind(AssertUnwindSafe(|| pending())) {
                Ok(pending) => self.with_report(|r| r.pending_jobs = Some(pending)),
                Err(panic) => tracing::error!(
                    "the pending-jobs probe panicked: {}",
                    panic_message(&*panic)
                ),
            }
        }
        self.record("persist_state", began, result);

        let began = self.start_step("close_resources");
        let limit = self.limit(steps.close_resources);
        let msg = CloseAll {
            deadline: Instant::now() + self.inner_budget(limit),
        };
        let result = self
            .call(&p.close, msg, steps.close_resources)
            .await
            .map(|report| {
                let failures = failures(
                    report
                        .resources
                        .iter()
                        .map(|r| (&r.name, r.outcome, &r.error)),
                );
                self.with_report(|r| r.resources = report.resources);
                failures
            });
        self.record("close_resources", began, result);

        let began = self.start_step("write_summary");
        let summary = self.with_report(|r| {
            // The summary lists the steps up to and including its own write.
            r.steps.push(StepRecord {
                name: "write_summary".to_owned(),
                outcome: StepOutcome::Completed,
                duration_ms: 0,
                error: None,
            });
            self.finalize(r);
            let summary = Arc::new(r.clone());
            r.steps.pop();
            summary
        });
        let result = self
            .call(&p.write_summary, WriteSummary(summary), steps.write_summary)
            .await
            .map(|written| written.err().map(|e| e.to_string()));
        self.record("write_summary", began, result);

        let began = self.start_step("release_lock");
        let result = self
            .call(&p.release_lock, ReleaseLock, steps.release_lock)
            .await
            .map(|released| released.err().map(|e| e.to_string()));
        self.record("release_lock", began, result);

        let began = self.start_step("stop_logging");
        let result = self
            .call(&p.stop_logging, StopLogging, steps.stop_logging)
            .await
            .map(|stopped| match stopped {
                Ok(stopped) => {
                    self.with_report(|r| r.logs_dropped = stopped.dropped);
                    None
                }
                Err(e) => Some(e.to_string()),
            });
        self.record("stop_logging", began, result);

        if let Ok(mut step) = self.current_step.lock() {
            step.clear();
        }
        let report = self.with_report(|r| {
            self.finalize(r);
            r.clone()
        });
        if let Some(e) = self.write_marker(report.exit_code) {
            let _ = writeln!(std::io::stderr(), "actix-shutdown: {e}");
        }
        report
    }

    fn finalize(&self, r: &mut ShutdownReport) {
        let codes = self.config.exit_codes;
        r.forced = self.control.forced.get();
        r.escalated = r.escalated || self.control.escalated.get();
        r.finished_at = files::rfc3339(SystemTime::now());
        r.duration_ms = millis(self.started.elapsed());
        r.exit_code = if !r.is_clean() {
            codes.failed
        } else if r.restart {
            codes.restart
        } else {
            codes.clean
        };
    }

    fn write_marker(&self, code: i32) -> Option<String> {
        let path = self.config.exit_marker.as_ref()?;
        files::write_atomic(path, format!("{code}\n").as_bytes())
            .err()
            .map(|e| format!("cannot write the exit marker {}: {e}", path.display()))
    }
}

/// Runs one hook within `budget`; the error is how it failed (it then does not cancel).
async fn run_hook(
    hook: &HookFn,
    request: &ShutdownRequest,
    response: &ShutdownResponse,
    budget: Duration,
) -> Result<(), (ParticipantOutcome, String)> {
    let timed_out = || {
        (
            ParticipantOutcome::TimedOut,
            format!("did not answer within the hook budget of {budget:?}"),
        )
    };
    match hook {
        HookFn::Sync(hook) => {
            let (hook, request, response) = (Arc::clone(hook), request.clone(), response.clone());
            let run = tokio::task::spawn_blocking(move || {
                let hook = hook.lock().unwrap_or_else(|p| p.into_inner());
                std::panic::catch_unwind(AssertUnwindSafe(|| hook(&request, &response)))
            });
            match tokio::time::timeout(budget, run).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(panic))) => Err((ParticipantOutcome::Panicked, panic_message(&*panic))),
                Ok(Err(e)) => Err((ParticipantOutcome::Failed, e.to_string())),
                Err(_) => Err(timed_out()),
            }
        }
        HookFn::Async(hook) => {
            let (request, response) = (request.clone(), response.clone());
            let run = AssertUnwindSafe(async { hook(request, response).await }).catch_unwind();
            match tokio::time::timeout(budget, run).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err((ParticipantOutcome::Failed, e)),
                Ok(Err(panic)) => Err((ParticipantOutcome::Panicked, panic_message(&*panic))),
                Err(_) => Err(timed_out()),
            }
        }
    }
}

/// Tells a progress listener; a listener that panics (say, printing to a closed pipe) is
/// logged and cannot take the pipeline down with it.
fn notify(progress: Option<&ProgressFn>, event: &StepEvent) {
    if let Some(progress) = progress
        && let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| progress(event)))
    {
        tracing::error!("a progress listener panicked: {}", panic_message(&*panic));
    }
}

fn failures<'a>(
    items: impl Iterator<Item = (&'a String, ParticipantOutcome, &'a Option<String>)>,
) -> Option<String> {
    let failed: Vec<String> = items
        .filter(|(_, outcome, _)| outcome.is_failure())
        .map(|(name, outcome, error)| {
            format!(
                "{name}: {}",
                error.as_deref().unwrap_or(match outcome {
                    ParticipantOutcome::TimedOut => "timed out",
                    ParticipantOutcome::Panicked => "panicked",
                    _ => "failed",
                })
            )
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.hard = self
            .config
            .hard_deadline
            .clone()
            .map(hard_deadline::spawn_parked);
    }
}

impl Handler<RequestShutdown> for Supervisor {
    type Result = AtomicResponse<Self, RequestAnswer>;

    fn handle(&mut self, msg: RequestShutdown, _: &mut Context<Self>) -> Self::Result {
        let request = msg.0;
        if !matches!(self.phase, Phase::Idle) {
            let answer = self.join(&request);
            return AtomicResponse::new(Box::pin(fut::ready(answer)));
        }
        let round = self.ask_hooks(&request);
        AtomicResponse::new(Box::pin(
            round
                .into_actor(self)
                .map(move |round, this, ctx| this.decide(request, round, ctx)),
        ))
    }
}

impl Handler<RetryDeferred> for Supervisor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: RetryDeferred, _: &mut Context<Self>) -> Self::Result {
        let Some((request, _)) = self
            .deferred
            .clone()
            .filter(|_| matches!(self.phase, Phase::Idle))
        else {
            return AtomicResponse::new(Box::pin(fut::ready(())));
        };
        let round = self.ask_hooks(&request);
        AtomicResponse::new(Box::pin(round.into_actor(self).map(
            move |round, this, ctx| {
                this.decide(request, round, ctx);
            },
        )))
    }
}

impl Handler<BeginShutdown> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: BeginShutdown, ctx: &mut Context<Self>) {
        self.begin(msg.0, false, ctx);
    }
}

impl Handler<WaitForShutdown> for Supervisor {
    type Result = ResponseFuture<Arc<ShutdownReport>>;

    fn handle(&mut self, _: WaitForShutdown, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        match &self.phase {
            Phase::Done(report) => {
                let _ = tx.send(Arc::clone(report));
            }
            _ => self.waiters.push(tx),
        }
        Box::pin(async move {
            rx.await
                .expect("the Supervisor answers every waiter before it stops")
        })
    }
}

impl Handler<Subscribe> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        if let Phase::Done(report) = &self.phase {
            msg.0.do_send(ShutdownComplete {
                report: Arc::clone(report),
            });
        } else {
            self.subscribers.push(msg.0);
        }
    }
}

impl Handler<RegisterHook> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RegisterHook, _: &mut Context<Self>) {
        self.hooks.push(Hook {
            id: msg.id,
            name: msg.name,
            hook: Rc::new(msg.hook),
        });
    }
}

impl Handler<UnregisterHook> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: UnregisterHook, _: &mut Context<Self>) {
        self.hooks.retain(|h| h.id != msg.0);
    }
}

impl Handler<SetPendingJobsProbe> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: SetPendingJobsProbe, _: &mut Context<Self>) {
        let probe = msg.0;
        self.pending_jobs = Some(Rc::new(probe));
    }
}

impl Handler<GetStatus> for Supervisor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.status_view().get())
    }
}
