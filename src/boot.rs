//! What the boot found: a fresh start or a crash to recover from, the previous shutdown, the
//! saved states, and what was archived or cleaned up.

use std::fmt;
use std::path::PathBuf;

use actix_shutdown_actors::{ArchivedFile, FoundState, escape};

use crate::previous_run::PreviousRun;

/// What the boot found and did. Its `Display` is a few lines of human text.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BootReport {
    /// The state directory.
    pub state_dir: PathBuf,
    /// This process.
    pub pid: u32,
    /// How the previous run ended.
    pub previous: PreviousRun,
    /// States found on disk, ready to load.
    pub states: Vec<FoundState>,
    /// Files that could not be used and were archived as `.broken.<UTC timestamp>`.
    pub archived: Vec<ArchivedFile>,
    /// Leftover temp files of interrupted writes, removed.
    pub removed_temp_files: Vec<String>,
    /// Queues put back by [`ShutdownHandle::load_queue`](crate::ShutdownHandle::load_queue).
    pub restored_queues: Vec<RestoredQueue>,
    /// What an operator should fix though the boot went on (a state directory writable by
    /// its group or owned by another user).
    pub warnings: Vec<String>,
}

/// A queue put back after boot, with what was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoredQueue {
    /// The state's name.
    pub name: String,
    /// Jobs re-queued.
    pub restored: usize,
    /// Jobs dropped, by reason.
    pub dropped: crate::DroppedJobs,
}

impl BootReport {
    /// True when the previous run crashed.
    pub fn recovered_from_crash(&self) -> bool {
        matches!(self.previous, PreviousRun::Crashed { .. })
    }

    /// The state found under this name.
    pub fn state(&self, name: &str) -> Option<&FoundState> {
        self.states.iter().find(|s| s.name == name)
    }
}

impl fmt::Display for BootReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.previous {
            PreviousRun::Fresh => writeln!(f, "boot: fresh start in {}", self.state_dir.display())?,
            previous @ PreviousRun::Crashed { .. } => writeln!(f, "boot: {previous}; recovering")?,
            previous => writeln!(f, "boot: {previous}")?,
        }
        for warning in &self.warnings {
            writeln!(f, "boot: warning: {warning}")?;
        }
        for state in &self.states {
            writeln!(
                f,
                "boot: found state {} ({} entries, saved {})",
                escape(&state.name),
                state.entries,
                escape(&state.saved_at)
            )?;
        }
        for archived in &self.archived {
            writeln!(
                f,
                "boot: archived {} as {}: {}",
                escape(&archived.file.display().to_string()),
                escape(&archived.archived_as.display().to_string()),
                escape(&archived.why)
            )?;
        }
        if !self.removed_temp_files.is_empty() {
            writeln!(
                f,
                "boot: removed {} leftover temp file(s) of an interrupted write",
                self.removed_temp_files.len()
            )?;
        }
        for queue in &self.restored_queues {
            writeln!(
                f,
                "boot: restored {} job(s) of {} ({})",
                queue.restored,
                escape(&queue.name),
                queue.dropped
            )?;
        }
        write!(f, "boot: pid {}, lock held", self.pid)
    }
}
