//! The hard deadline: an OS thread that ends the process when a shutdown overruns its deadline
//! by more than a margin, even if a participant (or a hook) blocks the actor thread. Armed when
//! a shutdown becomes inevitable, for the time its forced run would end, and again when the
//! run begins. It is also where a third signal ends the process, so that both leave the same
//! traces ([`LastResort`]).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::last_resort::{Activity, LastResort, RunProgress, SummaryClaim};

/// The hard deadline's margin and what it leaves behind.
#[derive(Clone, Debug)]
pub struct HardDeadline {
    /// Time allowed past the pipeline's deadline before the process is ended.
    pub margin: Duration,
    /// What it writes, flushes and removes before it exits, and the exit code.
    pub last_resort: LastResort,
    /// What the blocking participant was doing, when it says (named in the summary).
    pub activity: Option<Activity>,
}

pub(crate) enum Signal {
    /// An inevitable request arrived (its run ends by this deadline, whatever hooks say) or the
    /// shutdown began: enforce this deadline, report from this progress. A later `Arm` replaces
    /// both.
    Arm {
        deadline: Instant,
        progress: RunProgress,
    },
    /// The deadline moved (escalation).
    Deadline(Instant),
    /// The pipeline finished: disarm.
    Done,
    /// The pipeline finished and the process is to end: if it is still alive after the margin
    /// (the runtime waiting for a stuck blocking task), end it with this code.
    Finished(i32),
    /// End the process now (a third signal), leaving the same traces as the hard deadline.
    ExitNow(String),
}

/// A handle on the parked hard-deadline thread: arms it, moves its deadline, or asks it to end
/// the process now.
#[derive(Clone, Debug)]
pub struct HardDeadlineThread {
    tx: Sender<Signal>,
    last_resort: LastResort,
}

impl HardDeadlineThread {
    pub(crate) fn send(&self, signal: Signal) -> bool {
        self.tx.send(signal).is_ok()
    }

    /// Ends the process now through the hard-deadline thread, which writes the summary of a run
    /// under way; if that thread is gone, ends it from here without a summary.
    pub fn exit_now(&self, why: &str) -> ! {
        if self.send(Signal::ExitNow(why.to_owned())) {
            // The thread exits the process (its last resort bounded by a watchdog); wait for it
            // without holding anything. It may have been told `Done` just before and gone: then
            // end the process from here.
            let until = Instant::now() + 2 * crate::defaults::LAST_RESORT_BOUND;
            while Instant::now() < until {
                std::thread::park_timeout(until.saturating_duration_since(Instant::now()));
            }
        }
        self.last_resort.exit(why)
    }
}

/// Starts the thread parked (at boot, so the shutdown does not pay for a thread spawn).
pub(crate) fn spawn_parked(config: HardDeadline, claim: Arc<SummaryClaim>) -> HardDeadlineThread {
    let (tx, rx) = mpsc::channel();
    let last_resort = config.last_resort.clone();
    let spawned = std::thread::Builder::new()
        .name("actix-shutdown-hard-deadline".into())
        .spawn(move || {
            let (mut deadline, mut progress) = loop {
                match rx.recv() {
                    Ok(Signal::Arm { deadline, progress }) => break (deadline, progress),
                    Ok(Signal::ExitNow(why)) => {
                        // Before any shutdown was inevitable (a third signal that overtook
                        // the first): no run writes after this.
                        claim.take_over();
                        config.last_resort.exit(&why)
                    }
                    Ok(Signal::Deadline(_)) => {}
                    Ok(Signal::Done | Signal::Finished(_)) | Err(_) => return,
                }
            };
            let why = loop {
                let wait = (deadline + config.margin).saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(Signal::Deadline(d)) => deadline = d,
                    Ok(Signal::Arm {
                        deadline: armed,
                        progress: run,
                    }) => (deadline, progress) = (armed, run),
                    Ok(Signal::ExitNow(why)) => break why,
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
                    Err(RecvTimeoutError::Timeout) => {
                        let doing = config
                            .activity
                            .as_ref()
                            .and_then(|a| a.lock().unwrap_or_else(|p| p.into_inner()).clone())
                            .map(|doing| format!(", while {doing}"))
                            .unwrap_or_default();
                        break format!(
                            "hard shutdown deadline passed: a participant still blocked {:?} past the shutdown deadline (the hard deadline){doing}",
                            config.margin
                        );
                    }
                }
            };
            config.last_resort.exit_with(&why, Some(&progress))
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the hard-deadline thread: {e}");
    }
    HardDeadlineThread { tx, last_resort }
}
