//! The one-line heartbeat the bot prints while it works, every second:
//! `heartbeat: taken 12, done 10, in flight 2, queued 3`. Whole-process tests wait on it to
//! know that jobs are in flight.

use std::fmt;
use std::time::Duration;

use actix_shutdown::{Cancellation, ShutdownHandle, TaskError};

use crate::jobs::{QueueCounts, QueueGauges};

/// Time between two heartbeat lines.
pub(crate) const PERIOD: Duration = Duration::from_secs(1);

impl fmt::Display for QueueCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heartbeat: taken {}, done {}, in flight {}, queued {}",
            self.taken, self.done, self.in_flight, self.queued
        )
    }
}

/// Spawns the `heartbeat` task: a line every [`PERIOD`] until the tasks are cancelled.
pub(crate) fn spawn(shutdown: &ShutdownHandle, gauges: &QueueGauges) -> Result<(), TaskError> {
    let gauges = gauges.clone();
    shutdown
        .tasks()
        .spawn("heartbeat", move |cancel: Cancellation| {
            let gauges = gauges.clone();
            async move {
                let start = tokio::time::Instant::now() + PERIOD;
                let mut tick = tokio::time::interval_at(start, PERIOD);
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        _ = tick.tick() => say!("{}", gauges.read()),
                    }
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_line_names_every_count() {
        let counts = QueueCounts {
            taken: 12,
            done: 10,
            in_flight: 2,
            queued: 3,
        };
        assert_eq!(
            counts.to_string(),
            "heartbeat: taken 12, done 10, in flight 2, queued 3"
        );
    }
}
