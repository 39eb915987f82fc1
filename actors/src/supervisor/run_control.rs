//! What the Supervisor shares with a running pipeline — whether it is forced, and its deadline,
//! which an escalation or the orchestrator's kill moves — and the one bounded wait every step
//! and drain participant uses.

use std::cell::Cell;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::hard_deadline::{HardDeadlineThread, Signal};

/// What the Supervisor shares with the running pipeline.
pub(super) struct RunControl {
    pub(super) forced: Cell<bool>,
    pub(super) escalated: Cell<bool>,
    pub(super) deadline: watch::Sender<Instant>,
    pub(super) hard: Option<HardDeadlineThread>,
}

impl RunControl {
    /// Switches the run to forced mode once; the deadline moves to `until` when that is sooner.
    /// False when it was forced already.
    pub(super) fn force(&self, until: Instant) -> bool {
        if self.forced.replace(true) {
            return false;
        }
        self.escalated.set(true);
        self.deadline.send_if_modified(|d| {
            let sooner = until < *d;
            *d = (*d).min(until);
            sooner
        });
        if let Some(hard) = &self.hard {
            hard.send(Signal::Deadline(self.deadline.borrow().into_std()));
        }
        true
    }

    /// Moves the deadline to `until` when that is sooner (the orchestrator's kill came into
    /// view), without forcing the run; the hard-deadline thread follows.
    pub(super) fn cap(&self, until: Instant) {
        let sooner = self.deadline.send_if_modified(|d| {
            let sooner = until < *d;
            *d = (*d).min(until);
            sooner
        });
        if sooner && let Some(hard) = &self.hard {
            hard.send(Signal::Deadline(self.deadline.borrow().into_std()));
        }
    }

    /// What is left of the deadline.
    pub(super) fn left(&self) -> Duration {
        self.deadline
            .borrow()
            .saturating_duration_since(Instant::now())
    }
}

/// How a step's round-trip ended when it did not answer.
pub(super) enum StepError {
    TimedOut(Duration),
    Unreachable(String),
    /// Not run, on purpose: why.
    Skipped(String),
}

/// Waits for `fut` within `limit`; a sooner deadline (an escalation) shortens the wait, never
/// below `floor` from the moment it moved.
pub(super) async fn bounded<F: Future>(
    fut: F,
    limit: Duration,
    deadline: &watch::Sender<Instant>,
    floor: Duration,
) -> Result<F::Output, StepError> {
    let mut until = Instant::now() + limit;
    let mut moved = deadline.subscribe();
    let mut fut = std::pin::pin!(fut);
    loop {
        tokio::select! {
            answer = &mut fut => return Ok(answer),
            () = tokio::time::sleep_until(until) => return Err(StepError::TimedOut(limit)),
            changed = moved.changed() => {
                if changed.is_ok() {
                    let sooner = (*moved.borrow()).max(Instant::now() + floor);
                    until = until.min(sooner);
                }
            }
        }
    }
}
