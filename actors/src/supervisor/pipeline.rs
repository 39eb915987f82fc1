//! The pipeline: one method per [`Step`], run in [`Step::ALL`]'s order by a short loop. Each
//! step but `begin` is a message round-trip (or, for `drain`, one per participant) bounded by
//! its own timeout and by what is left of the deadline; a timeout or failure is recorded and
//! the pipeline goes on. The run's control (forced, deadline) and the bounded wait are in
//! `run_control`.
//!
//! Over 400 lines as one concern: the steps in their one order, with the summary's hand-over
//! to the hard deadline's last resort (`SummaryClaim`) where the summary and the marker are
//! written.

use std::cell::Cell;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use tokio::time::Instant;

use super::config::{Participants, ProgressFn, SupervisorConfig};
use super::drain;
use super::run_control::{RunControl, StepError, bounded};
use super::status::StatusView;
use crate::files;
use crate::last_resort::{RunProgress, write_exit_marker};
use crate::messages::{
    CancelAll, CloseAll, Drainer, FlushLogs, PersistAll, ReleaseLock, StepEvent, StopLogging,
    WriteSummary,
};
use crate::panic_message;
use crate::report::{ParticipantOutcome, ShutdownReport, StepOutcome, StepRecord, millis};
use crate::step::Step;

/// What a step ends with: `Ok(None)` completed, `Ok(Some(error))` failed, `Err` no answer.
type StepResult = Result<Option<String>, StepError>;

pub(super) struct Pipeline {
    pub(super) participants: Participants,
    pub(super) config: SupervisorConfig,
    pub(super) control: Rc<RunControl>,
    pub(super) progress: RunProgress,
    pub(super) status: StatusView,
    pub(super) pending_jobs: Option<Rc<dyn Fn() -> u64>>,
    pub(super) drainers: Vec<(String, Drainer)>,
    /// The exit code the summary was written with.
    pub(super) summary_code: Cell<Option<i32>>,
}

impl Pipeline {
    /// Runs every step once, in order, and returns the finished report.
    pub(super) async fn run(mut self) -> ShutdownReport {
        for step in Step::ALL {
            let began = self.start_step(step);
            let result = match step {
                Step::Begin => self.begin(),
                Step::Drain => self.drain().await,
                Step::CancelTasks => self.cancel_tasks().await,
                Step::FlushLogs => self.flush_logs().await,
                Step::PersistState => self.persist_state().await,
                Step::CloseResources => self.close_resources().await,
                Step::WriteSummary => self.write_summary(began).await,
                Step::ReleaseLock => self.release_lock().await,
                Step::StopLogging => self.stop_logging().await,
            };
            self.record(step, began, result);
        }
        self.status.set_step(None);
        let report = self.with_report(|r| {
            self.finalize(r);
            r.clone()
        });
        self.rewrite_summary_if_changed(&report).await;
        if !self.progress.summary.seal(report.exit_code) {
            // The hard deadline passed and its last resort is ending the process: its summary,
            // its marker and its code are the run's.
            let code = self
                .config
                .hard_deadline
                .as_ref()
                .map_or(report.exit_code, |hard| hard.last_resort.exit_code);
            return self
                .progress
                .cut_short("the hard deadline passed before the run ended", code);
        }
        if let Some(e) = self.write_marker(report.exit_code) {
            let _ = writeln!(std::io::stderr(), "actix-shutdown: {e}");
        }
        report
    }

    /// `begin`: `is_closing` is already true; the exit marker gets the planned code, for
    /// watchdogs. The one step without a round-trip.
    fn begin(&self) -> StepResult {
        let planned = self.with_report(|r| r.exit_code);
        Ok(self.write_marker(planned))
    }

    /// `drain`: every drain participant at once, each within `drain_timeout`.
    async fn drain(&mut self) -> StepResult {
        let drainers = std::mem::take(&mut self.drainers);
        let limit = self.limit(self.config.drain_timeout);
        let records = drain::run(
            drainers,
            self.config.inner_budget(limit),
            &self.control.deadline,
        )
        .await;
        let failures = failures(records.iter().map(|d| (&d.name, d.outcome, &d.error)));
        self.with_report(|r| r.drains = records);
        Ok(failures)
    }

    async fn cancel_tasks(&self) -> StepResult {
        let own = self.config.steps.cancel_tasks;
        let msg = CancelAll {
            grace: self.config.task_grace,
            deadline: Instant::now() + self.config.task_budget(self.control.left()),
            forced: self.control.forced.get(),
        };
        let report = self.call(&self.participants.cancel_tasks, msg, own).await?;
        self.with_report(|r| r.tasks = report.tasks);
        Ok(None)
    }

    async fn flush_logs(&self) -> StepResult {
        let own = self.config.steps.flush_logs;
        Ok(
            match self
                .call(&self.participants.flush_logs, FlushLogs, own)
                .await?
            {
                Ok(ack) => {
                    self.with_report(|r| r.logs_dropped = ack.dropped);
                    None
                }
                Err(e) => Some(e.to_string()),
            },
        )
    }

    async fn persist_state(&self) -> StepResult {
        let own = self.config.steps.persist_state;
        let critical_only = self.control.forced.get();
        let result = self
            .call(
                &self.participants.persist,
                PersistAll { critical_only },
                own,
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
        result
    }

    async fn close_resources(&self) -> StepResult {
        let own = self.config.steps.close_resources;
        let msg = CloseAll {
            deadline: Instant::now() + self.config.inner_budget(self.limit(own)),
        };
        let report = self.call(&self.participants.close, msg, own).await?;
        let failures = failures(
            report
                .resources
                .iter()
                .map(|r| (&r.name, r.outcome, &r.error)),
        );
        self.with_report(|r| r.resources = report.resources);
        Ok(failures)
    }

    /// `write_summary`: the summary lists the steps up to and including its own write (as
    /// completed: had it failed, there would be no summary to say so); `release_lock` and
    /// `stop_logging` are in the in-memory report only.
    async fn write_summary(&self, began: Instant) -> StepResult {
        if !self.progress.summary.claim_for_pipeline() {
            return Err(StepError::Skipped(
                "the hard deadline ended the run first and wrote its summary".to_owned(),
            ));
        }
        let summary = self.with_report(|r| {
            let mut summary = r.clone();
            summary.steps.push(StepRecord {
                name: Step::WriteSummary,
                outcome: StepOutcome::Completed,
                duration_ms: millis(began.elapsed()),
                error: None,
            });
            self.finalize(&mut summary);
            Arc::new(summary)
        });
        self.summary_code.set(Some(summary.exit_code));
        let own = self.config.steps.write_summary;
        let written = self
            .call(&self.participants.write_summary, WriteSummary(summary), own)
            .await?;
        Ok(written.err().map(|e| e.to_string()))
    }

    /// When a step after `write_summary` changed the exit code (the lock could not be released,
    /// the logs could not be stopped), the summary is written again, so that the file, the exit
    /// marker and the process agree.
    async fn rewrite_summary_if_changed(&self, report: &ShutdownReport) {
        let written = report
            .step(Step::WriteSummary)
            .is_some_and(|s| s.outcome == StepOutcome::Completed);
        if !written
            || self.summary_code.get() == Some(report.exit_code)
            || !self.progress.summary.claim_for_pipeline()
        {
            return;
        }
        let own = self.config.steps.write_summary;
        let summary = Arc::new(report.clone());
        let answer = self
            .call(&self.participants.write_summary, WriteSummary(summary), own)
            .await;
        self.progress
            .summary
            .pipeline_write_ended(!matches!(answer, Err(StepError::TimedOut(_))));
        match answer {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let _ = writeln!(std::io::stderr(), "actix-shutdown: {e}");
            }
            Err(_) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "actix-shutdown: the summary could not be written again with the final exit code"
                );
            }
        }
    }

    /// `release_lock`, unless the summary could not be written: then the lock file stays
    /// (the OS lock ends with the process), so that the next boot finds it and reports a run
    /// that did not record its end instead of a fresh start.
    async fn release_lock(&self) -> StepResult {
        if self.progress.summary.taken_by_last_resort() {
            return Err(StepError::Skipped(
                "the hard deadline's last resort took over: it keeps or removes the lock file"
                    .to_owned(),
            ));
        }
        let summary_written = self.with_report(|r| {
            r.step(Step::WriteSummary)
                .is_some_and(|s| s.outcome == StepOutcome::Completed)
        });
        if !summary_written {
            return Err(StepError::Skipped(
                "the lock file is kept: the summary was not written, so the next boot reports this run as unfinished".to_owned(),
            ));
        }
        let own = self.config.steps.release_lock;
        let released = self
            .call(&self.participants.release_lock, ReleaseLock, own)
            .await?;
        Ok(released.err().map(|e| e.to_string()))
    }

    async fn stop_logging(&self) -> StepResult {
        let own = self.config.steps.stop_logging;
        Ok(
            match self
                .call(&self.participants.stop_logging, StopLogging, own)
                .await?
            {
                Ok(stopped) => {
                    self.with_report(|r| r.logs_dropped = stopped.dropped);
                    None
                }
                Err(e) => Some(e.to_string()),
            },
        )
    }

    fn with_report<R>(&self, f: impl FnOnce(&mut ShutdownReport) -> R) -> R {
        f(&mut self
            .progress
            .report
            .lock()
            .unwrap_or_else(|p| p.into_inner()))
    }

    fn emit(&self, event: &StepEvent) {
        notify(self.config.progress.as_ref(), event);
    }

    /// Time this step may take: its own timeout, capped by the deadline, never below the
    /// floor (once the deadline is exhausted the run switches to forced mode).
    fn limit(&self, own: Duration) -> Duration {
        let left = self.control.left();
        if left.is_zero() && self.control.force(Instant::now()) {
            tracing::warn!("shutdown deadline exhausted; the remaining steps run in forced mode");
            self.emit(&StepEvent::Escalated {
                reason: "deadline exhausted".to_owned(),
            });
        }
        own.min(left).max(self.config.min_step_time)
    }

    /// Sends `msg` and waits for the answer within the step's limit; a sooner deadline (an
    /// escalation) shortens the wait.
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
        bounded(
            to.send(msg),
            limit,
            &self.control.deadline,
            self.config.min_step_time,
        )
        .await?
        .map_err(|e| StepError::Unreachable(format!("the participant is unreachable: {e}")))
    }

    fn record(&self, step: Step, began: Instant, result: StepResult) {
        let (outcome, error) = match result {
            Ok(None) => (StepOutcome::Completed, None),
            Ok(Some(e)) => (StepOutcome::Failed, Some(e)),
            Err(StepError::TimedOut(limit)) => (
                StepOutcome::TimedOut,
                Some(format!("no answer within {limit:?}")),
            ),
            Err(StepError::Unreachable(e)) => (StepOutcome::Failed, Some(e)),
            Err(StepError::Skipped(why)) => (StepOutcome::Skipped, Some(why)),
        };
        let record = StepRecord {
            name: step,
            outcome,
            duration_ms: millis(began.elapsed()),
            error,
        };
        match &record.error {
            Some(e) => tracing::warn!(
                %step,
                %outcome,
                duration_ms = record.duration_ms,
                "shutdown step: {e}"
            ),
            // Once the logs are stopped, a record would only reach stderr: the report has it.
            None if step == Step::StopLogging => {}
            None => tracing::info!(
                %step,
                duration_ms = record.duration_ms,
                "shutdown step completed"
            ),
        }
        self.with_report(|r| r.steps.push(record.clone()));
        if step == Step::WriteSummary {
            // Once its record is in the report the last resort builds from: the Persister
            // answered, or the write is abandoned (timed out; it may never land).
            self.progress
                .summary
                .pipeline_write_ended(outcome != StepOutcome::TimedOut);
        }
        self.status.set_step(None);
        self.emit(&StepEvent::Finished { record });
    }

    fn start_step(&self, step: Step) -> Instant {
        self.status.set_step(Some(step));
        self.emit(&StepEvent::Started { step });
        Instant::now()
    }

    /// Fills in what the run knows at the end: forced, escalated, times, losses and the exit
    /// code, which is decided here only.
    fn finalize(&self, r: &mut ShutdownReport) {
        r.forced = self.control.forced.get();
        r.escalated = r.escalated || self.control.escalated.get();
        r.finished_at = files::rfc3339(SystemTime::now());
        r.duration_ms = millis(self.progress.started.elapsed());
        r.lost = r.lost_items();
        r.clean = r.lost.is_empty();
        r.exit_code = self.config.exit_codes.for_run(r.clean, r.restart);
    }

    /// Writes the exit marker, unless the hard deadline's last resort has taken over (its
    /// marker, with its code, stands).
    fn write_marker(&self, code: i32) -> Option<String> {
        let path = self.config.exit_marker.as_ref()?;
        self.progress
            .summary
            .unless_last_resort(|| write_exit_marker(path, code))?
            .err()
            .map(|e| format!("cannot write the exit marker {}: {e}", path.display()))
    }
}

/// Tells a progress listener; a listener that panics (say, printing to a closed pipe) is
/// logged and cannot take the pipeline down with it.
pub(super) fn notify(progress: Option<&ProgressFn>, event: &StepEvent) {
    if let Some(progress) = progress
        && let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| progress(event)))
    {
        tracing::error!("a progress listener panicked: {}", panic_message(&*panic));
    }
}

/// The failed participants of a step, in words; `None` when none failed.
fn failures<'a>(
    items: impl Iterator<Item = (&'a String, ParticipantOutcome, &'a Option<String>)>,
) -> Option<String> {
    let failed: Vec<String> = items
        .filter(|(_, outcome, _)| outcome.is_failure())
        .map(|(name, outcome, error)| match error {
            Some(error) => format!("{name}: {error}"),
            None => format!("{name}: {outcome}"),
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}
