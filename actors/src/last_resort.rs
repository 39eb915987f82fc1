//! The last resort: what the process leaves behind when it must end before the pipeline does —
//! the hard deadline passed (a participant blocked the actor thread), or a third signal asked to
//! exit at once. One routine for both, so both leave the same things: the summary as far as the
//! run got (every step once, in order, the one cut short `timed_out`, the rest `skipped`), the
//! exit marker, the flushed log queue, and no lock file once that summary is written (without
//! one, the lock file stays so that the next boot reports an unfinished shutdown). It is armed
//! from the moment a shutdown is inevitable: ended before the run began, its summary lists
//! every step `skipped`. Whoever of it and the pipeline writes the summary is decided by one
//! [`SummaryClaim`] per shutdown. Its own work is bounded: a watchdog ends the process
//! [`LAST_RESORT_BOUND`](crate::defaults::LAST_RESORT_BOUND) after it began, whatever the disk.

mod summary_claim;
#[cfg(test)]
mod tests;

pub(crate) use summary_claim::{LastResortClaim, SummaryClaim};

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::files;
use crate::logger::LogQueue;
use crate::persister::write_json_atomic;
use crate::report::{ShutdownReport, StepOutcome, StepRecord, millis};
use crate::step::Step;

/// What a participant is doing right now, in words (`closing resource db`), for the last
/// resort to name when it cuts a step short. Participants that can block (the ResourceCloser)
/// set it before each piece of work and clear it after.
pub type Activity = Arc<Mutex<Option<String>>>;

/// Writes the exit marker: the code and a newline, atomically. The only writer of that file.
///
/// # Errors
/// The write error.
pub fn write_exit_marker(path: &Path, code: i32) -> io::Result<()> {
    files::write_atomic(path, format!("{code}\n").as_bytes())
}

/// Where the last resort leaves its traces.
#[derive(Clone, Debug)]
pub struct LastResort {
    /// Where the summary goes.
    pub summary_path: PathBuf,
    /// The lock file to remove.
    pub lock_path: Option<PathBuf>,
    /// The exit marker to update.
    pub exit_marker: Option<PathBuf>,
    /// The log queue to flush.
    pub log_queue: Option<LogQueue>,
    /// The exit code to end with.
    pub exit_code: i32,
}

/// What the running pipeline shares with the last resort.
#[derive(Clone, Debug)]
pub(crate) struct RunProgress {
    /// The report as far as the run got.
    pub(crate) report: Arc<Mutex<ShutdownReport>>,
    /// The step in progress and when it started.
    pub(crate) current: Arc<Mutex<Option<(Step, Instant)>>>,
    /// When the run started.
    pub(crate) started: Instant,
    /// Who writes the run's summary: the pipeline, or the last resort after (or instead of) it.
    pub(crate) summary: Arc<SummaryClaim>,
}

/// How long the last resort waits for a summary the pipeline is writing before it leaves the
/// file to it (and the lock file in place).
const PIPELINE_WRITE_WAIT: Duration = Duration::from_millis(250);

/// How long the last resort waits for the log writer to flush.
const LOG_FLUSH_WAIT: Duration = Duration::from_millis(100);

impl RunProgress {
    /// A run's progress, starting now from `report`.
    pub(crate) fn new(
        report: ShutdownReport,
        current: Arc<Mutex<Option<(Step, Instant)>>>,
        summary: Arc<SummaryClaim>,
    ) -> Self {
        RunProgress {
            report: Arc::new(Mutex::new(report)),
            current,
            started: Instant::now(),
            summary,
        }
    }

    /// The report completed for a process that ends now: every step once, in order; the step
    /// in progress `timed_out` (with `why`), those that never ran `skipped`.
    pub(crate) fn cut_short(&self, why: &str, exit_code: i32) -> ShutdownReport {
        let current = *self.current.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut recorded = std::mem::take(&mut report.steps);
        report.steps = Step::ALL
            .into_iter()
            .map(|step| {
                if let Some(at) = recorded.iter().position(|r| r.name == step) {
                    return recorded.swap_remove(at);
                }
                match current {
                    Some((running, since)) if running == step => StepRecord {
                        name: step,
                        outcome: StepOutcome::TimedOut,
                        duration_ms: millis(since.elapsed()),
                        error: Some(format!("cut short: {why}")),
                    },
                    _ => StepRecord {
                        name: step,
                        outcome: StepOutcome::Skipped,
                        duration_ms: 0,
                        error: Some("not run: the process was ended before it".to_owned()),
                    },
                }
            })
            .collect();
        report.forced = true;
        report.escalated = true;
        report.finished_at = files::rfc3339(SystemTime::now());
        report.duration_ms = millis(self.started.elapsed());
        report.lost = report.lost_items();
        // Ended from outside the run, the run is a loss even when every step it recorded
        // completed (the process was stopped past its deadline just before its end, say).
        report.lost.push(format!("the run was cut short: {why}"));
        report.clean = false;
        report.exit_code = exit_code;
        report
    }
}

impl LastResort {
    /// Ends the process with [`exit_code`](Self::exit_code) outside a run: the exit marker and
    /// the flushed log queue; the lock file stays, so that the next boot reports a run that did
    /// not finish its shutdown. (Once a shutdown is inevitable, the hard-deadline thread also
    /// writes the summary: see [`HardDeadlineThread::exit_now`](crate::HardDeadlineThread::exit_now).)
    pub fn exit(&self, why: &str) -> ! {
        self.exit_with(why, None)
    }

    /// Leaves the traces and ends the process: the summary (when a run is under way), the exit
    /// marker, the flushed log queue, and no lock file once the summary is written. A watchdog
    /// ends the process [`LAST_RESORT_BOUND`](crate::defaults::LAST_RESORT_BOUND) from now if
    /// the traces cannot be written (a hung disk).
    pub(crate) fn exit_with(&self, why: &str, run: Option<&RunProgress>) -> ! {
        let failed = self.exit_code;
        // A run sealed meanwhile ends with its own code, even from here.
        let claim = run.map(|run| Arc::clone(&run.summary));
        let _ = std::thread::Builder::new()
            .name("actix-shutdown-last-resort-watchdog".into())
            .spawn(move || {
                std::thread::sleep(crate::defaults::LAST_RESORT_BOUND);
                let code = claim
                    .and_then(|claim| claim.sealed_code())
                    .unwrap_or(failed);
                let _ = writeln!(
                    io::stderr(),
                    "actix-shutdown: the last traces could not be written within {:?} (a hung disk?); exiting with code {code}",
                    crate::defaults::LAST_RESORT_BOUND
                );
                std::process::exit(code)
            });
        // Nothing below may wait on a stalled log writer: the records that do not fit go to
        // stderr.
        if let Some(queue) = &self.log_queue {
            queue.never_wait();
        }
        let step = run.and_then(|run| *run.current.lock().unwrap_or_else(|p| p.into_inner()));
        match step {
            Some((step, _)) => tracing::error!(%step, "{why}; ending the process"),
            None => tracing::error!("{why}; ending the process"),
        }
        let code = self.leave_traces(why, run);
        let at = step
            .map(|(step, _)| format!(" during step {step}"))
            .unwrap_or_default();
        let _ = writeln!(
            io::stderr(),
            "actix-shutdown: {why}{at}; exiting with code {code}"
        );
        std::process::exit(code)
    }

    /// Everything [`exit_with`](Self::exit_with) leaves but the exit itself; returns the code
    /// to exit with. The summary is written when a shutdown is under way, also over one the
    /// pipeline already wrote (whose exit code the process is about to contradict); a pipeline
    /// write still unanswered after [`PIPELINE_WRITE_WAIT`] is left alone; a run the pipeline
    /// sealed is left as it is, and its code is the one to exit with.
    pub(crate) fn leave_traces(&self, why: &str, run: Option<&RunProgress>) -> i32 {
        // The lock file goes only with a summary of this run: otherwise it stays, so that the
        // next boot reports a run that did not finish its shutdown, not an older summary.
        let mut recorded = false;
        let mut code = self.exit_code;
        let claim = run.map(|run| (run, run.summary.claim_for_last_resort(PIPELINE_WRITE_WAIT)));
        match claim {
            Some((run, LastResortClaim::Write { sole })) => {
                let report = run.cut_short(why, code);
                match write_json_atomic(&self.summary_path, &report) {
                    // With a pipeline write abandoned (it may still land), the lock file stays.
                    Ok(()) => recorded = sole,
                    Err(e) => {
                        let _ = writeln!(io::stderr(), "actix-shutdown: {e}");
                    }
                }
            }
            // Every step ran: the summary and the lock are as the run left them.
            Some((_, LastResortClaim::Sealed(sealed))) => code = sealed,
            Some((_, LastResortClaim::LeaveToPipeline)) | None => {}
        }
        if let Some(marker) = &self.exit_marker
            && let Err(e) = write_exit_marker(marker, code)
        {
            let _ = writeln!(
                io::stderr(),
                "actix-shutdown: cannot write the exit marker {}: {e}",
                marker.display()
            );
        }
        if let Some(queue) = &self.log_queue {
            let _ = queue.flush_blocking(LOG_FLUSH_WAIT);
        }
        if let Some(lock) = &self.lock_path
            && recorded
        {
            let _ = std::fs::remove_file(lock);
        }
        code
    }
}
