//! A probe standing in for every participant of the Supervisor: it answers each step's
//! message as told (answer, hang, fail, panic) and records the order it was asked in.
//! Shared by several test crates, each of which uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::*;
use actix_shutdown_actors::supervisor::Supervisor;
use actix_shutdown_actors::*;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Answer,
    Hang,
    Fail,
    Panic,
    /// CancelAll: report a task aborted at its deadline.
    Abort,
}

/// Answers every participant message as told and records the order it was asked in.
pub(crate) struct Probe {
    pub(crate) acts: HashMap<&'static str, Act>,
    pub(crate) log: mpsc::UnboundedSender<&'static str>,
}

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Probe {
    fn act(&self, step: &'static str) -> Act {
        let _ = self.log.send(step);
        let act = self.acts.get(step).copied().unwrap_or(Act::Answer);
        assert!(act != Act::Panic, "probe told to panic at {step}");
        act
    }
}

pub(crate) fn reply<T: 'static>(act: Act, ok: T, fail: T) -> ResponseFuture<T> {
    match act {
        Act::Hang => Box::pin(futures::future::pending()),
        Act::Fail => Box::pin(async move { fail }),
        _ => Box::pin(async move { ok }),
    }
}

impl Handler<CancelAll> for Probe {
    type Result = ResponseFuture<CancelReport>;
    fn handle(&mut self, _: CancelAll, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("cancel_tasks");
        let aborted = CancelReport {
            tasks: vec![TaskRecord {
                name: "worker-1".into(),
                outcome: TaskOutcome::Aborted,
                restarts: 0,
                error: None,
            }],
        };
        match act {
            Act::Abort => reply(Act::Answer, aborted, CancelReport::default()),
            act => reply(act, CancelReport::default(), CancelReport::default()),
        }
    }
}

impl Handler<AbortAll> for Probe {
    type Result = ();
    fn handle(&mut self, _: AbortAll, _: &mut Context<Self>) {
        let _ = self.log.send("abort_tasks");
    }
}

impl Handler<FlushLogs> for Probe {
    type Result = ResponseFuture<Result<FlushAck, LoggerError>>;
    fn handle(&mut self, _: FlushLogs, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("flush_logs");
        reply(
            act,
            Ok(FlushAck::default()),
            Err(LoggerError::Write("disk on fire".into())),
        )
    }
}

impl Handler<PersistAll> for Probe {
    type Result = ResponseFuture<PersistReport>;
    fn handle(&mut self, msg: PersistAll, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("persist_state");
        let record = |outcome, error: Option<&str>| FileRecord {
            name: "queue".into(),
            path: "state/queue.json".into(),
            outcome,
            bytes: 0,
            error: error.map(str::to_owned),
        };
        // Like the Persister: a forced run writes the critical states only; `queue` is not.
        let answered = PersistReport {
            files: if msg.critical_only {
                vec![record(ParticipantOutcome::Skipped, None)]
            } else {
                Vec::new()
            },
        };
        let failed = PersistReport {
            files: vec![record(
                ParticipantOutcome::Failed,
                Some("No space left on device (os error 28)"),
            )],
        };
        reply(act, answered, failed)
    }
}

impl Handler<CloseAll> for Probe {
    type Result = ResponseFuture<CloseReport>;
    fn handle(&mut self, _: CloseAll, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("close_resources");
        let failed = CloseReport {
            resources: vec![ResourceRecord {
                name: "db".into(),
                outcome: ParticipantOutcome::Failed,
                duration_ms: 0,
                error: Some("connection reset".into()),
            }],
        };
        reply(act, CloseReport::default(), failed)
    }
}

impl Handler<WriteSummary> for Probe {
    type Result = ResponseFuture<Result<SummaryWritten, PersistError>>;
    fn handle(&mut self, _: WriteSummary, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("write_summary");
        let fail = Err(PersistError::InvalidName {
            name: "x".into(),
            why: "test",
        });
        reply(
            act,
            Ok(SummaryWritten {
                path: "last_shutdown.json".into(),
            }),
            fail,
        )
    }
}

impl Handler<ReleaseLock> for Probe {
    type Result = ResponseFuture<Result<LockReleased, LockError>>;
    fn handle(&mut self, _: ReleaseLock, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("release_lock");
        let fail = Err(LockError::Symlink {
            path: "bot.lock".into(),
        });
        reply(act, Ok(LockReleased { removed: true }), fail)
    }
}

impl Handler<StopLogging> for Probe {
    type Result = ResponseFuture<Result<LoggingStopped, LoggerError>>;
    fn handle(&mut self, _: StopLogging, _: &mut Context<Self>) -> Self::Result {
        let act = self.act("stop_logging");
        reply(
            act,
            Ok(LoggingStopped::default()),
            Err(LoggerError::WriterGone),
        )
    }
}

pub(crate) struct Rig {
    pub(crate) supervisor: Addr<Supervisor>,
    pub(crate) closing: ClosingFlag,
    pub(crate) log: mpsc::UnboundedReceiver<&'static str>,
    /// Where tests record their own events in the same order as the probe's.
    pub(crate) tx: mpsc::UnboundedSender<&'static str>,
}

impl Rig {
    pub(crate) fn asked(&mut self) -> Vec<&'static str> {
        let mut asked = Vec::new();
        while let Ok(step) = self.log.try_recv() {
            asked.push(step);
        }
        asked
    }
}

pub(crate) fn rig(config: SupervisorConfig, acts: &[(&'static str, Act)]) -> Rig {
    let (tx, log) = mpsc::unbounded_channel();
    let probe = Probe {
        acts: acts.iter().copied().collect(),
        log: tx.clone(),
    }
    .start();
    let participants = Participants {
        cancel_tasks: probe.clone().recipient(),
        abort_tasks: probe.clone().recipient(),
        flush_logs: probe.clone().recipient(),
        persist: probe.clone().recipient(),
        close: probe.clone().recipient(),
        write_summary: probe.clone().recipient(),
        release_lock: probe.clone().recipient(),
        stop_logging: probe.recipient(),
    };
    let closing = ClosingFlag::new();
    let supervisor = Supervisor::new(config, participants, closing.clone()).start();
    Rig {
        supervisor,
        closing,
        log,
        tx,
    }
}

/// The steps a participant is asked for (`begin` is the Supervisor's own; `drain` has no
/// participants here).
pub(crate) const ASKED_STEPS: [&str; 7] = [
    "cancel_tasks",
    "flush_logs",
    "persist_state",
    "close_resources",
    "write_summary",
    "release_lock",
    "stop_logging",
];
pub(crate) const BOUND: Duration = Duration::from_secs(120);

pub(crate) fn graceful() -> ShutdownRequest {
    ShutdownRequest::graceful(RequestSource::Api, "test")
}

pub(crate) async fn request(rig: &Rig, request: ShutdownRequest) -> RequestAnswer {
    rig.supervisor
        .send(RequestShutdown(request))
        .timeout(BOUND)
        .await
        .expect("the Supervisor answers")
}

pub(crate) async fn report(rig: &Rig) -> Arc<ShutdownReport> {
    rig.supervisor
        .send(WaitForShutdown)
        .timeout(BOUND)
        .await
        .expect("the pipeline finishes")
}

/// Paused time on the timer grid (`PausedSystem`) is exact.
#[track_caller]
pub(crate) fn assert_ms(actual: u64, expected: u64, what: &str) {
    assert_eq!(actual, expected, "{what}");
}

#[track_caller]
pub(crate) fn assert_elapsed(started: Instant, expected: Duration) {
    assert_eq!(started.elapsed(), expected);
}

pub(crate) fn outcome(report: &ShutdownReport, step: Step) -> StepOutcome {
    report
        .step(step)
        .unwrap_or_else(|| panic!("no step {step} in {report:#?}"))
        .outcome
}

/// Registers a synchronous hook under `name`.
pub(crate) fn add_hook(
    rig: &Rig,
    name: &str,
    hook: impl Fn(&ShutdownRequest, &ShutdownResponse) + Send + 'static,
) {
    rig.supervisor.do_send(RegisterHook {
        id: HookId::next(),
        name: name.into(),
        hook: sync_hook(hook),
    });
}

/// When each step started, from the test's origin.
pub(crate) type Starts = std::sync::Arc<std::sync::Mutex<Vec<(Step, Duration)>>>;

/// A config whose progress listener records when each step starts, against `origin`.
pub(crate) fn recording_starts(
    config: SupervisorConfig,
    origin: Instant,
) -> (SupervisorConfig, Starts) {
    let starts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&starts);
    let config = SupervisorConfig {
        progress: Some(std::sync::Arc::new(move |event: &StepEvent| {
            if let StepEvent::Started { step } = event {
                seen.lock().unwrap().push((*step, origin.elapsed()));
            }
        })),
        ..config
    };
    (config, starts)
}
