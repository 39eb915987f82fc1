//! Who writes the run's summary, shared by the pipeline (at `write_summary`, and when the run
//! ends) and the last resort (when the process must end before the pipeline does). One claim
//! per shutdown, from the moment a shutdown is inevitable:
//! - the first to claim writes; the pipeline never writes after the last resort took over;
//! - the last resort arriving while the pipeline's write is under way waits for it (bounded)
//!   and then writes over it, with the final exit code and the steps it cut short;
//! - a pipeline write that timed out is abandoned: the last resort writes without waiting, but
//!   keeps the lock file (the abandoned write may still land after its own: a lock file left
//!   makes the next boot report a run that did not finish, whatever the summary says);
//! - a pipeline write still under way when the wait ends is left to it, and the lock file too;
//! - once the last resort took over, the pipeline writes no summary or marker, releases no lock
//!   and does not end the process itself;
//! - once the pipeline has sealed the run (every step done, its code final), the last resort
//!   writes no summary and ends the process with that code.
//!
//! So the summary on disk, the exit marker, the lock file and the exit code agree whichever
//! order the two threads run in.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Writer {
    /// Nobody has written the summary yet.
    #[default]
    Nobody,
    /// The pipeline is writing it (a message round-trip to the Persister).
    PipelineWriting,
    /// The pipeline's write answered (written or failed).
    PipelineAnswered,
    /// The pipeline's write got no answer in time (the disk may be hung).
    PipelineAbandoned,
    /// The pipeline finished the run with this exit code.
    Sealed(i32),
    /// The last resort owns the file: the pipeline writes no more.
    LastResort,
}

/// What the last resort may do with the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LastResortClaim {
    /// Write it (over the pipeline's, if it wrote one). `sole`: no write of the pipeline can
    /// land after it, so the lock file may go once it is written.
    Write {
        /// No abandoned pipeline write is left behind.
        sole: bool,
    },
    /// A pipeline write is still under way: leave the file (and the lock file) alone.
    LeaveToPipeline,
    /// The run finished with this exit code: write nothing, end with it.
    Sealed(i32),
}

/// The claim on the run's summary file.
#[derive(Debug)]
pub(crate) struct SummaryClaim {
    writer: Mutex<Writer>,
    changed: Condvar,
    /// The sealed run's exit code, readable without the lock (the last resort's watchdog
    /// exits with it); [`NOT_SEALED`] until then.
    sealed: AtomicI64,
}

const NOT_SEALED: i64 = i64::MIN;

impl Default for SummaryClaim {
    fn default() -> Self {
        Self {
            writer: Mutex::default(),
            changed: Condvar::new(),
            sealed: AtomicI64::new(NOT_SEALED),
        }
    }
}

impl SummaryClaim {
    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For the pipeline, before it writes (or writes again): true unless the last resort owns
    /// the file or the run is sealed.
    pub(crate) fn claim_for_pipeline(&self) -> bool {
        let mut writer = self.writer();
        if matches!(*writer, Writer::LastResort | Writer::Sealed(_)) {
            return false;
        }
        *writer = Writer::PipelineWriting;
        true
    }

    /// For the pipeline, once its write ended: `answered` when the Persister answered (written
    /// or failed), false when it timed out (the write is abandoned, not waited for).
    pub(crate) fn pipeline_write_ended(&self, answered: bool) {
        let mut writer = self.writer();
        if *writer == Writer::PipelineWriting {
            *writer = if answered {
                Writer::PipelineAnswered
            } else {
                Writer::PipelineAbandoned
            };
            self.changed.notify_all();
        }
    }

    /// For the pipeline, once every step ran and `code` is final: false when the last resort
    /// owns the file (it is ending the process; the run's own ending must not race it).
    pub(crate) fn seal(&self, code: i32) -> bool {
        let mut writer = self.writer();
        if *writer == Writer::LastResort {
            return false;
        }
        *writer = Writer::Sealed(code);
        self.sealed.store(i64::from(code), Ordering::Release);
        self.changed.notify_all();
        true
    }

    /// The sealed run's exit code, if the run is sealed.
    pub(crate) fn sealed_code(&self) -> Option<i32> {
        let code = self.sealed.load(Ordering::Acquire);
        (code != NOT_SEALED).then(|| i32::try_from(code).unwrap_or(1))
    }

    /// For a last resort that ends the process before any run began (a third signal that came
    /// first): the pipeline must not write after it.
    pub(crate) fn take_over(&self) {
        let mut writer = self.writer();
        if !matches!(*writer, Writer::Sealed(_)) {
            *writer = Writer::LastResort;
        }
    }

    /// True once the last resort owns the file.
    pub(crate) fn taken_by_last_resort(&self) -> bool {
        *self.writer() == Writer::LastResort
    }

    /// Runs `write` (the pipeline's exit marker) unless the last resort owns the run's traces,
    /// holding the claim meanwhile: a marker the pipeline writes is never written after the
    /// last resort's.
    pub(crate) fn unless_last_resort<R>(&self, write: impl FnOnce() -> R) -> Option<R> {
        let writer = self.writer();
        (*writer != Writer::LastResort).then(write)
    }

    /// For the last resort. A pipeline write under way is waited for up to `wait`.
    pub(crate) fn claim_for_last_resort(&self, wait: Duration) -> LastResortClaim {
        let writer = self.writer();
        let (mut writer, _) = self
            .changed
            .wait_timeout_while(writer, wait, |w| *w == Writer::PipelineWriting)
            .unwrap_or_else(|p| p.into_inner());
        let claim = match *writer {
            Writer::Sealed(code) => return LastResortClaim::Sealed(code),
            Writer::PipelineWriting => LastResortClaim::LeaveToPipeline,
            Writer::PipelineAbandoned => LastResortClaim::Write { sole: false },
            Writer::Nobody | Writer::PipelineAnswered | Writer::LastResort => {
                LastResortClaim::Write { sole: true }
            }
        };
        *writer = Writer::LastResort;
        claim
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_first_to_claim_writes_and_the_pipeline_never_writes_after_the_last_resort() {
        let claim = SummaryClaim::default();
        assert_eq!(
            claim.claim_for_last_resort(Duration::ZERO),
            LastResortClaim::Write { sole: true }
        );
        assert!(!claim.claim_for_pipeline(), "the last resort owns the file");
        assert!(!claim.seal(0), "nor does the run seal it");
        assert!(claim.taken_by_last_resort());
    }

    #[test]
    fn the_last_resort_writes_over_an_answered_or_abandoned_pipeline_write() {
        // An abandoned write may still land: the lock file is then kept.
        for (answered, sole) in [(true, true), (false, false)] {
            let claim = SummaryClaim::default();
            assert!(claim.claim_for_pipeline());
            claim.pipeline_write_ended(answered);
            assert_eq!(
                claim.claim_for_last_resort(Duration::from_secs(60)),
                LastResortClaim::Write { sole },
                "answered: {answered}"
            );
            assert!(
                !claim.claim_for_pipeline(),
                "no rewrite after the last resort"
            );
        }
    }

    #[test]
    fn the_last_resort_waits_for_a_pipeline_write_under_way() {
        let claim = Arc::new(SummaryClaim::default());
        assert!(claim.claim_for_pipeline());
        let pipeline = Arc::clone(&claim);
        // Whichever thread runs first, the last resort ends up writing after the pipeline.
        let waiter =
            std::thread::spawn(move || claim.claim_for_last_resort(Duration::from_secs(60)));
        pipeline.pipeline_write_ended(true);
        assert_eq!(
            waiter.join().expect("no panic"),
            LastResortClaim::Write { sole: true }
        );
    }

    #[test]
    fn a_pipeline_write_left_unanswered_keeps_the_file_from_the_last_resort() {
        let claim = SummaryClaim::default();
        assert!(claim.claim_for_pipeline());
        assert_eq!(
            claim.claim_for_last_resort(Duration::from_millis(20)),
            LastResortClaim::LeaveToPipeline
        );
        // Left to its write, the pipeline still ends nothing itself: the last resort does.
        assert!(claim.taken_by_last_resort());
        assert!(!claim.seal(0));
        assert_eq!(claim.unless_last_resort(|| ()), None);
    }

    #[test]
    fn a_last_resort_before_any_run_keeps_the_pipeline_from_writing() {
        let claim = SummaryClaim::default();
        claim.take_over();
        assert!(!claim.claim_for_pipeline());
        assert!(!claim.seal(0));
        assert_eq!(claim.unless_last_resort(|| ()), None);
    }

    #[test]
    fn the_pipeline_writes_no_marker_once_the_last_resort_took_over() {
        let claim = SummaryClaim::default();
        assert_eq!(claim.unless_last_resort(|| "written"), Some("written"));
        assert_eq!(
            claim.claim_for_last_resort(Duration::ZERO),
            LastResortClaim::Write { sole: true }
        );
        assert_eq!(claim.unless_last_resort(|| "written"), None);
    }

    #[test]
    fn a_sealed_run_is_left_as_it_is_and_ends_with_its_code() {
        let claim = SummaryClaim::default();
        assert!(claim.claim_for_pipeline());
        claim.pipeline_write_ended(true);
        assert_eq!(claim.sealed_code(), None);
        assert!(claim.seal(0));
        assert_eq!(claim.sealed_code(), Some(0));
        assert_eq!(
            claim.claim_for_last_resort(Duration::ZERO),
            LastResortClaim::Sealed(0)
        );
        assert!(!claim.claim_for_pipeline());
        assert!(!claim.taken_by_last_resort());
    }
}
