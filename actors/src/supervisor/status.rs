//! Where the Supervisor is, shared with any thread: the control plane answers `/status` and
//! `/readyz` from it without a mailbox round-trip (the mailbox waits while hooks run), and the
//! hard-deadline thread reads the step in progress from it.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::closing::ClosingFlag;
use crate::messages::SupervisorState;
use crate::report::ShutdownReport;
use crate::step::Step;

/// The step in progress and when it started (`None` between steps and outside a run).
pub(crate) type CurrentStep = Arc<Mutex<Option<(Step, Instant)>>>;

/// Where the Supervisor is, readable from any thread without a message round-trip.
#[derive(Clone, Debug, Default)]
pub struct StatusView {
    pub(crate) closing: ClosingFlag,
    pub(crate) current: CurrentStep,
    pub(crate) finished: Arc<OnceLock<Arc<ShutdownReport>>>,
}

impl StatusView {
    pub(crate) fn new(closing: ClosingFlag) -> Self {
        Self {
            closing,
            ..Self::default()
        }
    }

    /// Running, closing (with the step in progress) or finished (with the exit code).
    pub fn get(&self) -> SupervisorState {
        if let Some(report) = self.finished.get() {
            SupervisorState::Finished {
                exit_code: report.exit_code,
            }
        } else if self.closing.is_closing() {
            SupervisorState::Closing { step: self.step() }
        } else {
            SupervisorState::Running
        }
    }

    /// The step in progress.
    pub fn step(&self) -> Option<Step> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(step, _)| step)
    }

    /// The finished run's report, once there is one.
    pub fn report(&self) -> Option<Arc<ShutdownReport>> {
        self.finished.get().cloned()
    }

    pub(crate) fn set_step(&self, step: Option<Step>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) =
            step.map(|step| (step, Instant::now()));
    }
}
