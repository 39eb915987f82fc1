//! Hook rounds: every registered hook answers a request in registration order, each within the
//! hook budget; any cancel of a graceful request vetoes it. A hook that fails, panics or runs out
//! of time is recorded and does not cancel.

use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::FutureExt;

use crate::messages::HookId;
use crate::panic_message;
use crate::report::{HookRecord, ParticipantOutcome};
use crate::request::{HookFn, ShutdownRequest, ShutdownResponse};

/// A registered hook.
pub(super) struct Hook {
    pub(super) id: HookId,
    pub(super) name: String,
    pub(super) hook: Rc<HookFn>,
}

/// What one round of hooks decided.
pub(super) struct HookRound {
    pub(super) vetoed_by: Vec<String>,
    pub(super) errors: Vec<HookRecord>,
    pub(super) at: SystemTime,
}

/// Asks every hook about `request`, each within `budget`, in registration order; the whole
/// round ends by `round_until` when given (a hook not reached by then is recorded timed out).
pub(super) fn ask(
    hooks: &[Hook],
    request: &ShutdownRequest,
    budget: Duration,
    round_until: Option<tokio::time::Instant>,
) -> impl Future<Output = HookRound> + 'static {
    let hooks: Vec<(String, Rc<HookFn>)> = hooks
        .iter()
        .map(|h| (h.name.clone(), Rc::clone(&h.hook)))
        .collect();
    let request = request.clone();
    async move {
        let mut round = HookRound {
            vetoed_by: Vec::new(),
            errors: Vec::new(),
            at: SystemTime::now(),
        };
        for (name, hook) in hooks {
            let response = ShutdownResponse::new();
            let budget = match round_until {
                Some(until) => {
                    budget.min(until.saturating_duration_since(tokio::time::Instant::now()))
                }
                None => budget,
            };
            let asked = if budget.is_zero() {
                Err((
                    ParticipantOutcome::TimedOut,
                    "not asked: the round's time ran out before its turn".to_owned(),
                ))
            } else {
                run_hook(&hook, &request, &response, budget).await
            };
            match asked {
                Err((outcome, error)) => {
                    tracing::error!(hook = %crate::escape::escape(&name), %outcome, "shutdown hook: {}; it does not cancel", crate::escape::escape(&error));
                    round.errors.push(HookRecord {
                        hook: name,
                        outcome,
                        error: Some(error),
                    });
                }
                Ok(()) if response.is_canceled() => {
                    if request.forced {
                        tracing::info!(hook = %crate::escape::escape(&name), "hook asked to cancel a forced shutdown; ignored");
                    } else {
                        tracing::info!(hook = %crate::escape::escape(&name), "hook canceled the graceful shutdown request");
                    }
                    round.vetoed_by.push(name);
                }
                Ok(()) => {}
            }
        }
        round.at = SystemTime::now();
        round
    }
}

/// Runs one hook within `budget`; the error is how it failed (it then does not cancel).
async fn run_hook(
    hook: &HookFn,
    request: &ShutdownRequest,
    response: &ShutdownResponse,
    budget: Duration,
) -> Result<(), (ParticipantOutcome, String)> {
    let timed_out = || {
        (
            ParticipantOutcome::TimedOut,
            format!("did not answer within the hook budget of {budget:?}"),
        )
    };
    match hook {
        HookFn::Sync(hook) => {
            let (hook, request, response) = (Arc::clone(hook), request.clone(), response.clone());
            let run = tokio::task::spawn_blocking(move || {
                let hook = hook.lock().unwrap_or_else(|p| p.into_inner());
                std::panic::catch_unwind(AssertUnwindSafe(|| hook(&request, &response)))
            });
            match tokio::time::timeout(budget, run).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(panic))) => Err((ParticipantOutcome::Panicked, panic_message(&*panic))),
                Ok(Err(e)) => Err((ParticipantOutcome::Failed, e.to_string())),
                Err(_) => Err(timed_out()),
            }
        }
        HookFn::Async(hook) => {
            let (request, response) = (request.clone(), response.clone());
            let run = AssertUnwindSafe(async { hook(request, response).await }).catch_unwind();
            match tokio::time::timeout(budget, run).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err((ParticipantOutcome::Failed, e)),
                Ok(Err(panic)) => Err((ParticipantOutcome::Panicked, panic_message(&*panic))),
                Err(_) => Err(timed_out()),
            }
        }
    }
}
