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

/// "none" for an empty list, the items joined by commas otherwise.
fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `: error` when there is one.
fn colon(error: Option<&str>) -> String {
    error.map(|e| format!(": {e}")).unwrap_or_default()
}

/// Prints the summary table of a finished shutdown.
pub(crate) fn print_report(report: &ShutdownReport) {
    say!();
    say!(
        "shutdown summary: {} (source {}), {} ms, forced: {}, escalated: {}, restart: {}",
        actix_shutdown::escape(&report.reason),
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
            step.name.to_string(),
            step.outcome.to_string(),
            step.duration_ms,
            step.error.as_deref().unwrap_or("")
        );
    }
    if !report.drains.is_empty() {
        say!(
            "  drains:    {}",
            list(report.drains.iter().map(|d| format!(
                "{} {} ({} ms){}",
                d.name,
                d.outcome,
                d.duration_ms,
                colon(d.error.as_deref())
            )))
        );
    }
    say!(
        "  tasks:     {}",
        list(
            report
                .tasks
                .iter()
                .map(|t| format!("{} {}", t.name, t.outcome))
        )
    );
    say!(
        "  files:     {}",
        list(
            report
                .files
                .iter()
                .map(|f| format!("{} {} ({} bytes)", f.name, f.outcome, f.bytes))
        )
    );
    say!(
        "  resources: {}",
        list(report.resources.iter().map(|r| format!(
            "{} {}{}",
            r.name,
            r.outcome,
            colon(r.error.as_deref())
        )))
    );
    if !report.vetoes.is_empty() {
        say!("  vetoes:    {}", vetoes(report));
    }
    if !report.hook_errors.is_empty() {
        say!(
            "  hook errors: {}",
            list(report.hook_errors.iter().map(|h| format!(
                "{}: {}",
                h.hook,
                h.error.as_deref().unwrap_or("")
            )))
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

/// The vetoes by hook: a hook that defers a signal is asked again every 100 ms, so one entry
/// per hook says how often and when, first to last.
fn vetoes(report: &ShutdownReport) -> String {
    let mut by_hook: Vec<(&str, usize, &str, &str)> = Vec::new();
    for veto in &report.vetoes {
        match by_hook.iter_mut().find(|(hook, ..)| *hook == veto.hook) {
            Some((_, times, _, last)) => {
                *times += 1;
                *last = &veto.at;
            }
            None => by_hook.push((&veto.hook, 1, &veto.at, &veto.at)),
        }
    }
    list(by_hook.into_iter().map(|(hook, times, first, last)| {
        if times == 1 {
            format!("{hook} at {first}")
        } else {
            format!("{hook} {times} times, {first} to {last}")
        }
    }))
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
            colon(file.error.as_deref())
        ),
        None => format!("pending jobs NOT saved: {pending} ({QUEUE_STATE} was not written)"),
    }
}

/// What the run lost, as the report names it (recomputed for a summary written before the
/// report carried `lost`).
fn losses(report: &ShutdownReport) -> Vec<String> {
    if report.lost.is_empty() && !report.clean {
        report.lost_items()
    } else {
        report.lost.clone()
    }
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

#[cfg(test)]
mod tests {
    use actix_shutdown::{RequestSource, VetoRecord};

    use super::*;

    fn veto(hook: &str, at: &str) -> VetoRecord {
        VetoRecord {
            hook: hook.to_owned(),
            at: at.to_owned(),
            request_id: "r1".to_owned(),
        }
    }

    #[test]
    fn vetoes_of_a_deferring_hook_are_counted_in_one_entry() {
        let mut report = ShutdownReport::new("signal:SIGTERM", RequestSource::Signal);
        report.vetoes = vec![
            veto("busy-guard", "t1"),
            veto("other", "t2"),
            veto("busy-guard", "t3"),
            veto("busy-guard", "t4"),
        ];
        assert_eq!(vetoes(&report), "busy-guard 3 times, t1 to t4, other at t2");
    }
}
