//! Supervisor: asks the hooks, guards the single run, sets `is_closing`, and drives the
//! pipeline — each step one message round-trip with its own timeout, capped by what is left of
//! the overall deadline. A timeout or failure is recorded and the pipeline goes on; flushing
//! the logs, releasing the lock and stopping the logs always run.
//!
//! Its rooms: [`config`] (deadlines, step timeouts, exit codes, participants), `hooks` (hook
//! rounds), `admission` (what a request does: veto, defer, begin, join, escalate), `pipeline`
//! (one method per [`Step`](crate::Step)), `run_control` (forced, deadline, the bounded
//! wait), `drain` (the drain participants), [`status`] (where
//! it is, for any thread) and [`messages`].

pub mod config;
pub mod messages;
pub mod status;

mod admission;
mod drain;
mod hooks;
mod pipeline;
mod run_control;

use std::rc::Rc;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub use self::config::{ExitCodes, Participants, ProgressFn, StepTimeouts, SupervisorConfig};
use self::hooks::Hook;
use self::messages::*;
use self::run_control::RunControl;
pub use self::status::StatusView;
use crate::closing::ClosingFlag;
use crate::hard_deadline::{self, HardDeadlineThread};
use crate::last_resort::{RunProgress, SummaryClaim};
use crate::report::{HookRecord, ShutdownReport, VetoRecord};
use crate::request::ShutdownRequest;

/// The Supervisor actor. See the module docs.
pub struct Supervisor {
    config: SupervisorConfig,
    participants: Participants,
    hooks: Vec<Hook>,
    drainers: Vec<(String, Drainer)>,
    phase: Phase,
    waiters: Vec<oneshot::Sender<Arc<ShutdownReport>>>,
    subscribers: Vec<Recipient<ShutdownComplete>>,
    vetoes: Vec<VetoRecord>,
    hook_errors: Vec<HookRecord>,
    /// The inevitable request the hooks defer, and when it runs forced whatever they say.
    deferred: Option<(ShutdownRequest, Instant)>,
    /// When the orchestrator kills the process (first inevitable request + `stop_timeout`).
    kill_at: Option<Instant>,
    pending_jobs: Option<Rc<dyn Fn() -> u64>>,
    status: StatusView,
    /// The parked hard-deadline thread (also the third signal's way out).
    hard: Option<HardDeadlineThread>,
    /// Who writes this shutdown's summary, the pipeline or the last resort: one claim for the
    /// whole shutdown, from the first inevitable request to the end of the run.
    summary: Arc<SummaryClaim>,
    /// What the hard-deadline thread reports from while an inevitable request waits on hooks
    /// (before the run has a progress of its own).
    pre_run: Option<RunProgress>,
}

enum Phase {
    Idle,
    Running(Rc<RunControl>),
    Done,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("config", &self.config)
            .field("closing", &self.status.closing.is_closing())
            .field(
                "hooks",
                &self.hooks.iter().map(|h| &h.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A Supervisor driving `participants`, setting `closing` when a shutdown becomes
    /// inevitable or begins. Starts the hard-deadline thread (parked) when one is configured.
    pub fn new(config: SupervisorConfig, participants: Participants, closing: ClosingFlag) -> Self {
        let summary = Arc::<SummaryClaim>::default();
        let hard = config
            .hard_deadline
            .clone()
            .map(|hard| hard_deadline::spawn_parked(hard, Arc::clone(&summary)));
        Self {
            config,
            participants,
            hooks: Vec::new(),
            drainers: Vec::new(),
            phase: Phase::Idle,
            waiters: Vec::new(),
            subscribers: Vec::new(),
            vetoes: Vec::new(),
            hook_errors: Vec::new(),
            deferred: None,
            kill_at: None,
            pending_jobs: None,
            status: StatusView::new(closing),
            hard,
            summary,
            pre_run: None,
        }
    }

    /// A view of where this Supervisor is, for any thread.
    pub fn status_view(&self) -> StatusView {
        self.status.clone()
    }

    /// The hard-deadline thread, through which a third signal ends the process leaving the
    /// same traces as the hard deadline; `None` when no hard deadline is configured.
    pub fn hard_deadline(&self) -> Option<HardDeadlineThread> {
        self.hard.clone()
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    /// A Supervisor stopped before a run began (its System stopped while hooks deferred a
    /// request, say) disarms the hard-deadline thread: no run is left for it to end.
    fn stopped(&mut self, _: &mut Self::Context) {
        if !matches!(self.phase, Phase::Running(_))
            && let Some(hard) = &self.hard
        {
            hard.send(hard_deadline::Signal::Done);
        }
    }
}

impl Handler<RequestShutdown> for Supervisor {
    type Result = AtomicResponse<Self, RequestAnswer>;

    fn handle(&mut self, msg: RequestShutdown, _: &mut Context<Self>) -> Self::Result {
        let request = self.admit(msg.0);
        if !matches!(self.phase, Phase::Idle) {
            let answer = self.join(&request);
            return AtomicResponse::new(Box::pin(fut::ready(answer)));
        }
        let round = self.ask_hooks(&request);
        AtomicResponse::new(Box::pin(
            round
                .into_actor(self)
                .map(move |round, this, ctx| this.decide(request, round, ctx)),
        ))
    }
}

/// Asks the hooks again about the deferred request.
#[derive(Message)]
#[rtype(result = "()")]
struct RetryDeferred;

impl Handler<RetryDeferred> for Supervisor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: RetryDeferred, ctx: &mut Context<Self>) -> Self::Result {
        match self.retry(ctx) {
            Some(round) => AtomicResponse::new(Box::pin(round)),
            None => AtomicResponse::new(Box::pin(fut::ready(()))),
        }
    }
}

impl Handler<WaitForShutdown> for Supervisor {
    type Result = ResponseFuture<Arc<ShutdownReport>>;

    fn handle(&mut self, _: WaitForShutdown, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        match self.status.report() {
            Some(report) => {
                let _ = tx.send(report);
            }
            None => self.waiters.push(tx),
        }
        Box::pin(async move {
            rx.await
                .expect("the Supervisor answers every waiter before it stops")
        })
    }
}

impl Handler<Subscribe> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        match self.status.report() {
            Some(report) => msg.0.do_send(ShutdownComplete { report }),
            None => self.subscribers.push(msg.0),
        }
    }
}

impl Handler<RegisterHook> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RegisterHook, _: &mut Context<Self>) {
        self.hooks.push(Hook {
            id: msg.id,
            name: msg.name,
            hook: Rc::new(msg.hook),
        });
    }
}

impl Handler<UnregisterHook> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: UnregisterHook, _: &mut Context<Self>) {
        self.hooks.retain(|h| h.id != msg.0);
    }
}

impl Handler<RegisterDrain> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RegisterDrain, _: &mut Context<Self>) {
        if matches!(self.phase, Phase::Idle) {
            self.drainers.push((msg.name, msg.drainer));
        } else {
            tracing::warn!(
                drain = %crate::escape::escape(&msg.name),
                "a drain participant registered after the drain step began is not drained"
            );
        }
    }
}

impl Handler<SetPendingJobsProbe> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: SetPendingJobsProbe, _: &mut Context<Self>) {
        let probe = msg.0;
        self.pending_jobs = Some(Rc::new(probe));
    }
}

impl Handler<GetStatus> for Supervisor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.status.get())
    }
}
