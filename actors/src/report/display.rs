//! The human summary of a [`ShutdownReport`]: one table of what the run did, the losses, and
//! a last line that says the exit code and whether the run was clean.

use std::fmt;

use super::{ParticipantOutcome, ShutdownReport};

/// One row of the table: what, its name, how it ended, how long, and any detail.
struct Row<'a> {
    kind: &'static str,
    name: &'a str,
    outcome: String,
    millis: Option<u64>,
    detail: Option<String>,
}

impl fmt::Display for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.millis.map(|ms| format!("{ms} ms")).unwrap_or_default();
        write!(
            f,
            "  {:<9} {:<24} {:<10} {:>9}",
            self.kind, self.name, self.outcome, millis
        )?;
        match &self.detail {
            Some(detail) => write!(f, "  {detail}"),
            None => Ok(()),
        }
    }
}

impl ShutdownReport {
    fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = Vec::new();
        for step in &self.steps {
            rows.push(Row {
                kind: "step",
                name: step.name.name(),
                outcome: step.outcome.to_string(),
                millis: Some(step.duration_ms),
                detail: step.error.clone(),
            });
        }
        for drain in &self.drains {
            rows.push(Row {
                kind: "drain",
                name: &drain.name,
                outcome: drain.outcome.to_string(),
                millis: Some(drain.duration_ms),
                detail: drain.error.clone(),
            });
        }
        for task in &self.tasks {
            let restarts = (task.restarts > 0).then(|| format!("{} restarts", task.restarts));
            rows.push(Row {
                kind: "task",
                name: &task.name,
                outcome: task.outcome.to_string(),
                millis: None,
                detail: join(restarts, task.error.clone()),
            });
        }
        for file in &self.files {
            let bytes = matches!(file.outcome, ParticipantOutcome::Completed)
                .then(|| format!("{} bytes", file.bytes));
            rows.push(Row {
                kind: "state",
                name: &file.name,
                outcome: file.outcome.to_string(),
                millis: None,
                detail: join(bytes, file.error.clone()),
            });
        }
        for resource in &self.resources {
            rows.push(Row {
                kind: "resource",
                name: &resource.name,
                outcome: resource.outcome.to_string(),
                millis: Some(resource.duration_ms),
                detail: resource.error.clone(),
            });
        }
        for hook in &self.hook_errors {
            rows.push(Row {
                kind: "hook",
                name: &hook.hook,
                outcome: hook.outcome.to_string(),
                millis: None,
                detail: hook.error.clone(),
            });
        }
        for veto in &self.vetoes {
            rows.push(Row {
                kind: "veto",
                name: &veto.hook,
                outcome: "canceled".to_owned(),
                millis: None,
                detail: Some(format!("request {} at {}", veto.request_id, veto.at)),
            });
        }
        rows
    }
}

fn join(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// A summary table: the request, then every step, drain, task, state file, resource, failed
/// hook and veto with its outcome, then one `lost:` line per loss, and a last line that says
/// `exit code N (clean)` or `exit code N: K things lost`.
///
/// # Examples
/// ```
/// use actix_shutdown_actors::{RequestSource, ShutdownReport};
///
/// let mut report = ShutdownReport::new("admin:stop", RequestSource::Admin);
/// report.exit_code = 1;
/// report.clean = false;
/// report.lost = vec!["task worker aborted".to_owned()];
/// let text = report.to_string();
/// assert!(text.contains("lost: task worker aborted"));
/// assert!(text.ends_with("exit code 1: 1 thing lost"));
/// ```
impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match (self.forced, self.escalated) {
            (true, true) => "graceful, then forced",
            (true, false) => "forced",
            (false, _) => "graceful",
        };
        write!(
            f,
            "shutdown summary: {} (source {}), {mode}, {} ms",
            crate::escape::escape(&self.reason),
            self.source,
            self.duration_ms
        )?;
        if self.restart {
            f.write_str(", restart requested")?;
        }
        writeln!(f)?;
        for row in self.rows() {
            writeln!(f, "{row}")?;
        }
        if let Some(pending) = self.pending_jobs {
            writeln!(f, "  pending jobs: {pending}")?;
        }
        if self.logs_dropped > 0 {
            writeln!(f, "  log records dropped: {}", self.logs_dropped)?;
        }
        for lost in &self.lost {
            writeln!(f, "lost: {lost}")?;
        }
        match (self.clean, self.lost.len()) {
            (true, _) => write!(f, "exit code {} (clean)", self.exit_code),
            (false, 0) => write!(f, "exit code {} (not clean)", self.exit_code),
            (false, 1) => write!(f, "exit code {}: 1 thing lost", self.exit_code),
            (false, n) => write!(f, "exit code {}: {n} things lost", self.exit_code),
        }
    }
}
