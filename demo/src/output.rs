//! What the bot prints: each shutdown step as it runs and the summary table at the end.

use actix_shutdown::{ShutdownReport, StepEvent, StepOutcome};

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
        say!("  pending jobs saved: {pending}");
    }
    let meaning = match report.exit_code {
        0 => "clean",
        75 => "restart requested",
        _ => "a step failed",
    };
    say!("exit code {} ({meaning})", report.exit_code);
}
