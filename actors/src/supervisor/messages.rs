//! The Supervisor's messages: requests and their answers, hooks, drain participants,
//! waiting for the report, status and progress events.

use std::fmt;
use std::sync::Arc;

use actix::prelude::*;
use futures::future::LocalBoxFuture;
use tokio::time::Instant;

use crate::report::{ShutdownReport, StepRecord};
use crate::request::{HookFn, ShutdownRequest};
use crate::step::Step;

/// Asks the Supervisor to shut down. Hooks run first; a graceful request that any hook cancels
/// is answered `ready: false` and the bot keeps running. Otherwise the pipeline starts (or the
/// request joins the run already going) and the answer is `ready: true` at once, without
/// waiting for the pipeline; use [`WaitForShutdown`] for the report.
#[derive(Debug, Message)]
#[rtype(result = "RequestAnswer")]
pub struct RequestShutdown(pub ShutdownRequest);

/// The answer to a [`RequestShutdown`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAnswer {
    /// The request's id.
    pub request_id: String,
    /// False exactly when a hook canceled a graceful request.
    pub ready: bool,
    /// The hooks that canceled (empty when `ready`).
    pub vetoed_by: Vec<String>,
    /// True when the request joined a shutdown that was already running or finished.
    pub joined: bool,
}

/// Resolves with the report once the pipeline has finished (at once if it already has).
#[derive(Debug, Message)]
#[rtype(result = "Arc<ShutdownReport>")]
pub struct WaitForShutdown;

/// Sent to every subscriber when the pipeline has finished.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub struct ShutdownComplete {
    /// What the shutdown did.
    pub report: Arc<ShutdownReport>,
}

/// Subscribes a recipient to [`ShutdownComplete`].
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<ShutdownComplete>);

/// Registers a named shutdown hook; hooks run in registration order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterHook {
    /// Identifies it for [`UnregisterHook`] (see [`HookId::next`]).
    pub id: HookId,
    /// Name used in vetoes and reports.
    pub name: String,
    /// The hook.
    pub hook: HookFn,
}

impl fmt::Debug for RegisterHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterHook")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Sent to an actor registered as a hook (see [`crate::recipient_hook`]): answer after
/// deciding, calling `response.cancel()` to cancel a graceful request.
#[derive(Clone, Debug, Message)]
#[rtype(result = "Result<(), String>")]
pub struct ShutdownRequested {
    /// The request.
    pub request: ShutdownRequest,
    /// Where to cancel.
    pub response: crate::ShutdownResponse,
}

/// Identifies a registered hook, for [`UnregisterHook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HookId(pub u64);

impl HookId {
    /// A process-wide fresh id.
    pub fn next() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Removes a hook; unknown ids are ignored.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct UnregisterHook(pub HookId);

/// Where the Supervisor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupervisorState {
    /// Running normally.
    Running,
    /// Closing: `is_closing` is true; the step in progress, or `None` while hooks defer the
    /// pipeline of an inevitable request.
    Closing {
        /// The step in progress.
        step: Option<Step>,
    },
    /// Finished; the exit code.
    Finished {
        /// Exit code.
        exit_code: i32,
    },
}

/// Asks the Supervisor where it is.
#[derive(Debug, Message)]
#[rtype(result = "SupervisorState")]
pub struct GetStatus;

/// Progress of the pipeline, for consoles and notifiers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StepEvent {
    /// A step started.
    Started {
        /// The step.
        step: Step,
    },
    /// A step ended.
    Finished {
        /// Its record.
        record: StepRecord,
    },
    /// The run switched to forced mode.
    Escalated {
        /// Why.
        reason: String,
    },
    /// A graceful request was canceled by hooks.
    Vetoed {
        /// The hooks.
        by: Vec<String>,
        /// True when the request is inevitable: `is_closing` is already true and the pipeline
        /// only waits for the hooks (or the time it is forced at).
        deferred: bool,
    },
}

/// Reports how many jobs are pending, for `pending_jobs` in the summary.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetPendingJobsProbe(pub Box<dyn Fn() -> u64 + Send>);

impl fmt::Debug for SetPendingJobsProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetPendingJobsProbe(..)")
    }
}

/// Sent to a drain participant at the `drain` step: stop taking new work, finish what is in
/// flight and answer once it is done (or with the error that stopped it). The participant has
/// until `deadline`; past it the step records it `timed_out` and goes on.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Result<(), String>")]
pub struct Drain {
    /// When the Supervisor stops waiting for this participant.
    pub deadline: Instant,
}

/// A custom drainer's closure: called once at the `drain` step, on the actor thread.
pub type DrainerFn = Box<dyn FnOnce() -> LocalBoxFuture<'static, Result<(), String>> + Send>;

/// How a drain participant is reached.
pub enum Drainer {
    /// An actor answering [`Drain`].
    Actor(Recipient<Drain>),
    /// A closure whose future ends when the work in flight has ended.
    Fn(DrainerFn),
}

impl fmt::Debug for Drainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Actor(_) => "Drainer::Actor(..)",
            Self::Fn(_) => "Drainer::Fn(..)",
        })
    }
}

/// Registers a drain participant; all of them are drained at once at the `drain` step, each
/// within `drain_timeout` (capped by the deadline).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RegisterDrain {
    /// Name used in the report's `drains`.
    pub name: String,
    /// The participant.
    pub drainer: Drainer,
}
