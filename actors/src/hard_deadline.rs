//! The hard deadline: an OS thread that ends the process when the pipeline overruns its
//! deadline by more than a margin, even if a participant blocks the actor thread. Before it
//! exits it writes what is known to `last_shutdown.json`, flushes the log queue (its writer is
//! a thread of its own) and removes the lock file.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::files;
use crate::logger::LogQueue;
use crate::persister::write_json_atomic;
use crate::report::{ShutdownReport, StepOutcome, StepRecord};

/// What the hard-deadline thread needs to leave things in order before it exits.
#[derive(Clone, Debug)]
pub struct HardDeadline {
    /// Time allowed past the pipeline's deadline before the process is ended.
    pub margin: Duration,
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

pub(crate) enum Signal {
    /// The shutdown began: enforce this deadline, report from these.
    Arm {
        deadline: Instant,
        progress: Arc<Mutex<ShutdownReport>>,
        current_step: Arc<Mutex<String>>,
    },
    /// The deadline moved (escalation).
    Deadline(Instant),
    /// The pipeline finished: disarm.
    Done,
    /// The pipeline finished and the process is to end: if it is still alive after the margin
    /// (the runtime waiting for a stuck blocking task), end it with this code.
    Finished(i32),
}

/// Starts the thread parked (at boot, so the shutdown does not pay for a thread spawn); send
/// [`Signal::Arm`] when the shutdown begins, [`Signal::Deadline`] to move the deadline,
/// [`Signal::Done`] to disarm.
pub(crate) fn spawn_parked(config: HardDeadline) -> Sender<Signal> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("actix-shutdown-hard-deadline".into())
        .spawn(move || {
            let (mut deadline, progress, current_step) = loop {
                match rx.recv() {
                    Ok(Signal::Arm { deadline, progress, current_step }) => break (deadline, progress, current_step),
                    Ok(Signal::Deadline(_)) => {}
                    Ok(Signal::Done | Signal::Finished(_)) | Err(_) => return,
                }
            };
            loop {
                let wait = (deadline + config.margin).saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(Signal::Deadline(d)) => deadline = d,
                    Ok(Signal::Arm { .. }) => {}
                    Ok(Signal::Finished(code)) => {
                        // Dropping the runtime drops our sender too: only time decides now.
                        std::thread::sleep(config.margin);
                        let _ = writeln!(
                            std::io::stderr(),
                            "actix-shutdown: the process was still running {:?} after its shutdown finished (a blocking task held the runtime); exiting with code {code}",
                            config.margin
                        );
                        std::process::exit(code);
                    }
                    Ok(Signal::Done) | Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            let step = current_step.lock().map(|s| s.clone()).unwrap_or_default();
            let report = {
                let mut r = progress.lock().unwrap_or_else(|p| p.into_inner());
                r.steps.push(StepRecord {
                    name: step.clone(),
                    outcome: StepOutcome::TimedOut,
                    duration_ms: 0,
                    error: Some(format!(
                        "the hard deadline passed during this step (a participant blocked past {:?}); the process was ended",
                        config.margin
                    )),
                });
                r.exit_code = config.exit_code;
                r.escalated = true;
                r.forced = true;
                r.finished_at = files::rfc3339(SystemTime::now());
                r.clone()
            };
            tracing::error!(step = %step, "hard shutdown deadline passed; ending the process");
            let _ = write_json_atomic(&config.summary_path, &report);
            if let Some(marker) = &config.exit_marker {
                let _ = files::write_atomic(marker, format!("{}\n", config.exit_code).as_bytes());
            }
            if let Some(queue) = &config.log_queue {
                let _ = queue.flush_blocking(Duration::from_millis(500));
            }
            if let Some(lock) = &config.lock_path {
                let _ = std::fs::remove_file(lock);
            }
            let _ = writeln!(
                std::io::stderr(),
                "actix-shutdown: hard deadline passed during step {step:?}; exiting with code {}",
                config.exit_code
            );
            std::process::exit(config.exit_code);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the hard-deadline thread: {e}");
    }
    tx
}
