//! The `drain` step's participants, all at once: each finishes its work in flight within the
//! drain budget, or is recorded `timed_out`, `failed` or `panicked` and given up on.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, join_all};
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::run_control::bounded;
use crate::messages::{Drain, Drainer};
use crate::panic_message;
use crate::report::{DrainRecord, ParticipantOutcome, millis};

/// Drains every participant concurrently, each within `budget` (shortened when the deadline
/// moves), and returns one record per participant in registration order.
pub(super) async fn run(
    drainers: Vec<(String, Drainer)>,
    budget: Duration,
    deadline: &watch::Sender<Instant>,
) -> Vec<DrainRecord> {
    let until = Instant::now() + budget;
    join_all(drainers.into_iter().map(|(name, drainer)| async move {
        let began = Instant::now();
        let work: LocalBoxFuture<'static, Ended> =
            match drainer {
                Drainer::Actor(recipient) => {
                    let sent = recipient.send(Drain { deadline: until });
                    Box::pin(async move {
                        Ended::Returned(sent.await.unwrap_or_else(|e| {
                            Err(format!("the drain actor is unreachable: {e}"))
                        }))
                    })
                }
                Drainer::Fn(drain) => match std::panic::catch_unwind(AssertUnwindSafe(drain)) {
                    Ok(fut) => Box::pin(AssertUnwindSafe(fut).catch_unwind().map(|ended| {
                        ended.map_or_else(
                            |panic| Ended::Panicked(panic_message(&*panic)),
                            Ended::Returned,
                        )
                    })),
                    Err(panic) => Box::pin(futures::future::ready(Ended::Panicked(panic_message(
                        &*panic,
                    )))),
                },
            };
        let (outcome, error) = match bounded(work, budget, deadline, Duration::ZERO).await {
            Ok(Ended::Returned(Ok(()))) => (ParticipantOutcome::Completed, None),
            Ok(Ended::Returned(Err(e))) => (ParticipantOutcome::Failed, Some(e)),
            Ok(Ended::Panicked(panic)) => (ParticipantOutcome::Panicked, Some(panic)),
            Err(_) => (
                ParticipantOutcome::TimedOut,
                Some(format!(
                    "work still in flight after {} ms",
                    millis(began.elapsed())
                )),
            ),
        };
        match &error {
            Some(e) => {
                tracing::warn!(drain = %crate::escape::escape(&name), %outcome, "drain: {e}")
            }
            None => tracing::info!(drain = %crate::escape::escape(&name), "drained"),
        }
        DrainRecord {
            name,
            outcome,
            duration_ms: millis(began.elapsed()),
            error,
        }
    }))
    .await
}

/// How a participant's drain ended, when it did.
enum Ended {
    Returned(Result<(), String>),
    Panicked(String),
}
