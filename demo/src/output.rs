//! What the bot prints: each shutdown step as it runs and the summary table at the end, which
//! says plainly whether anything was lost.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_shutdown::{ParticipantOutcome, ShutdownReport, Step, StepEvent, StepOutcome};

use crate::jobs::QUEUE_STATE;

/// Prints one progress event of the shutdown pipeline.
pub(crate) fn print_progress(event: &StepEvent) {
    match event {
        StepEvent::Started { step } if *step == Step::Begin => say!("shutting down..."),
        StepEvent::Started { .. } => {}
        StepEvent::Finished { record } => {
            let mark = if record.outcome == StepOutcome::Completed {
                "ok"
            } else {
                "!!"
            };
            let error = record
                .error
                .as_deref()
                .map(|e| format!("  {e}"))
                .unwrap_or_default();
            say!(
                "  [{mark}] {:<16} {:<10} {:>6} ms{error}",
                record.name.to_string(),
                record.outcome.to_string(),
                record.duration_ms
            );
        }
        StepEvent::Escalated { reason } => say!("  escalated to forced: {reason}"),
        StepEvent::Vetoed { by, deferred: true } => {
            // The hooks are asked again every 100 ms while they defer: say it once.
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::Relaxed) {
                say!(
                    "closing: shutdown canceled by {} for now; deferred until the work in flight ends",
                    by.join(", ")
                );
            }
        }
        StepEvent::Vetoed { by, .. } => say!(
            "shutdown request canceled by {}; still running",
            by.join(", ")
        ),
        _ => {}
    }
}

/// Prints the summary of a finished shutdown: the library's table (every step, drain, task,
/// state, resource and veto, what was lost, the exit code and whether the run was clean), and
/// whether the bot's pending jobs were saved.
pub(crate) fn print_report(report: &ShutdownReport) {
    say!();
    if let Some(pending) = report.pending_jobs {
        say!("{}", pending_line(report, pending));
    }
    say!("{report}");
}

/// Whether the pending jobs were saved: only when `queue_cache` was written.
fn pending_line(report: &ShutdownReport, pending: u64) -> String {
    match report.files.iter().find(|f| f.name == QUEUE_STATE) {
        Some(file) if file.outcome == ParticipantOutcome::Completed => {
            format!("pending jobs saved: {pending}")
        }
        Some(file) => format!(
            "pending jobs NOT saved: {pending} ({QUEUE_STATE} {}{})",
            file.outcome,
            file.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        None => format!("pending jobs NOT saved: {pending} ({QUEUE_STATE} was not written)"),
    }
}

#[cfg(test)]
mod tests {
    use actix_shutdown::{FileRecord, RequestSource};

    use super::*;

    fn queue_file(outcome: &str) -> FileRecord {
        serde_json::from_value(serde_json::json!({
            "name": QUEUE_STATE, "path": "state/queue_cache.json", "outcome": outcome
        }))
        .expect("a file record")
    }

    #[test]
    fn pending_jobs_are_called_saved_only_when_the_queue_file_was_written() {
        let mut report = ShutdownReport::new("signal:SIGTERM", RequestSource::Signal);
        report.files = vec![queue_file("completed")];
        assert_eq!(pending_line(&report, 3), "pending jobs saved: 3");
        report.files = vec![queue_file("skipped")];
        assert_eq!(
            pending_line(&report, 3),
            "pending jobs NOT saved: 3 (queue_cache skipped)"
        );
        report.files.clear();
        assert_eq!(
            pending_line(&report, 3),
            "pending jobs NOT saved: 3 (queue_cache was not written)"
        );
    }
}
