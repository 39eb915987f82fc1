//! Who writes the run's summary: the pipeline (at `write_summary`) or the last resort (when the
//! process must end before the pipeline does). Whichever comes first writes it; the last resort
//! arriving while the pipeline's write is under way waits for it (bounded) and then writes over
//! it, with the final exit code and the steps it cut short, so that the file on disk, the exit
//! code and the lock file agree whichever order the two threads ran in.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Writer {
    /// Nobody has written the summary yet.
    #[default]
    Nobody,
    /// The pipeline is writing it (a message round-trip to the Persister).
    PipelineWriting,
    /// The pipeline's write answered (written or failed); it writes no more unless it claims
    /// again.
    PipelineAnswered,
    /// The last resort owns the file: the pipeline writes no more.
    LastResort,
}

/// The claim on the run's summary file, shared by the pipeline and the hard-deadline thread.
#[derive(Debug, Default)]
pub(crate) struct SummaryClaim {
    writer: Mutex<Writer>,
    changed: Condvar,
}

impl SummaryClaim {
    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For the pipeline, before it writes (or writes again): true unless the last resort owns
    /// the file.
    pub(crate) fn claim_for_pipeline(&self) -> bool {
        let mut writer = self.writer();
        if *writer == Writer::LastResort {
            return false;
        }
        *writer = Writer::PipelineWriting;
        true
    }

    /// For the pipeline, once the Persister answered its write (a write left unanswered keeps
    /// the claim: the file may still change under the last resort).
    pub(crate) fn pipeline_answered(&self) {
        let mut writer = self.writer();
        if *writer == Writer::PipelineWriting {
            *writer = Writer::PipelineAnswered;
            self.changed.notify_all();
        }
    }

    /// For the last resort: true when it may write the summary now. A pipeline write under way
    /// is waited for up to `wait`; still unanswered then, the file is left to it (false).
    pub(crate) fn claim_for_last_resort(&self, wait: Duration) -> bool {
        let writer = self.writer();
        let (mut writer, _) = self
            .changed
            .wait_timeout_while(writer, wait, |w| *w == Writer::PipelineWriting)
            .unwrap_or_else(|p| p.into_inner());
        if *writer == Writer::PipelineWriting {
            return false;
        }
        *writer = Writer::LastResort;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_first_to_claim_writes_and_the_pipeline_never_writes_after_the_last_resort() {
        let claim = SummaryClaim::default();
        assert!(claim.claim_for_last_resort(Duration::ZERO));
        assert!(!claim.claim_for_pipeline(), "the last resort owns the file");
    }

    #[test]
    fn the_last_resort_writes_over_an_answered_pipeline_write() {
        let claim = SummaryClaim::default();
        assert!(claim.claim_for_pipeline());
        claim.pipeline_answered();
        assert!(claim.claim_for_last_resort(Duration::ZERO));
        assert!(
            !claim.claim_for_pipeline(),
            "no rewrite after the last resort"
        );
    }

    #[test]
    fn the_last_resort_waits_for_a_pipeline_write_under_way() {
        let claim = Arc::new(SummaryClaim::default());
        assert!(claim.claim_for_pipeline());
        let pipeline = Arc::clone(&claim);
        // Whichever thread runs first, the last resort ends up writing after the pipeline.
        let waiter =
            std::thread::spawn(move || claim.claim_for_last_resort(Duration::from_secs(60)));
        pipeline.pipeline_answered();
        assert!(waiter.join().expect("no panic"));
    }

    #[test]
    fn a_pipeline_write_left_unanswered_keeps_the_file_from_the_last_resort() {
        let claim = SummaryClaim::default();
        assert!(claim.claim_for_pipeline());
        assert!(!claim.claim_for_last_resort(Duration::from_millis(20)));
    }
}
