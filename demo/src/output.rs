//! What the bot prints: each shutdown step as it runs and the summary table at the end.

use actix_shutdown::{ParticipantOutcome, ShutdownReport, StepEvent, StepOutcome, TaskOutcome};

use crate::jobs::QUEUE_STATE;

/// Prints one progress event of the shutdown pipeline.
pub(crate) fn print_progress(event: &StepEvent) {
    match event {
        StepEvent::Started { step } if step == "begin" => say!("shutting down..."),
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
                record.name,
                outcome_word(record.outcome),
                record.duration_ms
            );
        }
        StepEvent::Escalated { reason } => say!("  escalated to forced: {reason}"),
        StepEvent::Vetoed { by } => say!(
            "shutdown request canceled by {}; still running",
            by.join(", ")
        ),
        _ => {}
    }
}

/// The word for a step outcome, as `last_shutdown.json` spells it.
fn outcome_word(outcome: StepOutcome) -> &'static str {
    match outcome {
        StepOutcome::Completed => "completed",
        StepOutcome::Failed => "failed",
        StepOutcome::TimedOut => "timed_out",
        StepOutcome::Skipped => "skipped",
    }
}

/// "none" for an empty list, the items joined by commas otherwise.
fn list(items: Vec<String>) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Prints the summary table of a finished shutdown.
pub(crate) fn print_report(report: &ShutdownReport) {
    say!();
    say!(
        "shutdown summary: {} (source {}), {} ms, forced: {}, escalated: {}, restart: {}",
        report.reason,
        report.source,
        report.duration_ms,
        report.forced,
        report.escalated,
        report.restart
    );
    say!("  {:<16} {:<10} {:>8}  error", "step", "outcome", "ms");
    for step in &report.steps {
        say!(
            "  {:<16} {:<10} {:>8}  {}",
            step.name,
            outcome_word(step.outcome),
            step.duration_ms,
            step.error.as_deref().unwrap_or("")
        );
    }
    say!(
        "  tasks:     {}",
        list(
            report
                .tasks
                .iter()
                .map(|t| format!("{} {:?}", t.name, t.outcome).to_lowercase())
                .collect()
        )
    );
    say!(
        "  files:     {}",
        list(
            report
                .files
                .iter()
                .map(|f| format!("{} {:?} ({} bytes)", f.name, f.outcome, f.bytes).to_lowercase())
                .collect()
        )
    );
    say!(
        "  resources: {}",
        list(
            report
                .resources
                .iter()
                .map(|r| {
                    let error = r
                        .error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    format!(
                        "{} {}{error}",
                        r.name,
                        format!("{:?}", r.outcome).to_lowercase()
                    )
                })
                .collect()
        )
    );
    if !report.vetoes.is_empty() {
        say!(
            "  vetoes:    {}",
            list(
                report
                    .vetoes
                    .iter()
                    .map(|v| format!("{} at {}", v.hook, v.at))
                    .collect()
            )
        );
    }
    if !report.hook_errors.is_empty() {
        say!(
            "  hook errors: {}",
            list(
                report
                    .hook_errors
                    .iter()
                    .map(|h| format!("{}: {}", h.hook, h.error.as_deref().unwrap_or("")))
                    .collect()
            )
        );
    }
    if let Some(pending) = report.pending_jobs {
        say!("  {}", pending_line(report, pending));
    }
    let lost = losses(report);
    if lost.is_empty() {
        say!("  lost:      nothing");
    } else {
        say!("  LOST:      {}", lost.join("; "));
    }
    say!(
        "exit code {} ({})",
        report.exit_code,
        meaning(report, &lost)
    );
}

/// Whether the pending jobs were saved: only when `queue_cache` was written.
fn pending_line(report: &ShutdownReport, pending: u64) -> String {
    match report.files.iter().find(|f| f.name == QUEUE_STATE) {
        Some(file) if file.outcome == ParticipantOutcome::Completed => {
            format!("pending jobs saved: {pending}")
        }
        Some(file) => format!(
            "pending jobs NOT saved: {pending} ({QUEUE_STATE} {}{})",
            participant_word(file.outcome),
            file.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        None => format!("pending jobs NOT saved: {pending} ({QUEUE_STATE} was not written)"),
    }
}

/// Every loss of the run, in words: a state not written, a task that did not end on its own
/// terms, a resource that did not close, a step that did not complete.
pub(crate) fn losses(report: &ShutdownReport) -> Vec<String> {
    let steps = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, StepOutcome::Failed | StepOutcome::TimedOut))
        .map(|s| format!("step {} {}", s.name, outcome_word(s.outcome)));
    let files = report
        .files
        .iter()
        .filter(|f| f.outcome != ParticipantOutcome::Completed)
        .map(|f| format!("state {} {}", f.name, participant_word(f.outcome)));
    let tasks = report
        .tasks
        .iter()
        .filter(|t| {
            matches!(
                t.outcome,
                TaskOutcome::Aborted | TaskOutcome::Panicked | TaskOutcome::Failed
            )
        })
        .map(|t| {
            format!(
                "task {} {}",
                t.name,
                format!("{:?}", t.outcome).to_lowercase()
            )
        });
    let resources = report
        .resources
        .iter()
        .filter(|r| r.outcome.is_failure())
        .map(|r| format!("resource {} {}", r.name, participant_word(r.outcome)));
    steps.chain(files).chain(tasks).chain(resources).collect()
}

/// The meaning of the exit code, plainly.
fn meaning(report: &ShutdownReport, lost: &[String]) -> &'static str {
    match (lost.is_empty(), report.restart) {
        (true, false) if report.exit_code == 0 => "clean",
        (true, true) => "restart requested, nothing lost",
        (true, false) => "nothing lost, but the run did not complete",
        (false, _) => "NOT clean: something was lost",
    }
}

/// The word for a participant outcome, as `last_shutdown.json` spells it.
fn participant_word(outcome: ParticipantOutcome) -> &'static str {
    match outcome {
        ParticipantOutcome::Completed => "completed",
        ParticipantOutcome::Failed => "failed",
        ParticipantOutcome::TimedOut => "timed_out",
        ParticipantOutcome::Panicked => "panicked",
        ParticipantOutcome::Skipped => "skipped",
    }
}
