//! The Supervisor driven through its messages, with probe participants injected as
//! recipients. Deadline logic runs in paused time on the timer grid (`PausedSystem`), so
//! durations are asserted exactly; every await is bounded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::*;
use actix_shutdown_actors::supervisor::Supervisor;
use actix_shutdown_actors::*;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[path = "support/paused_system.rs"]
mod paused_system;
#[path = "support/probe.rs"]
mod probe;
use paused_system::PausedSystem;
use probe::*;

#[actix_rt::test(system = "PausedSystem")]
async fn every_step_runs_once_in_order_and_a_clean_run_exits_zero() {
    let mut rig = rig(SupervisorConfig::default(), &[]);
    let answer = request(&rig, graceful()).await;
    assert!(answer.ready && !answer.joined);
    let report = report(&rig).await;
    let names: Vec<Step> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(names, Step::ALL);
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == StepOutcome::Completed),
        "{report:#?}"
    );
    assert_eq!(report.exit_code, 0);
    assert_eq!(rig.asked(), ASKED_STEPS);
    assert!(rig.closing.is_closing());
}

#[actix_rt::test(system = "PausedSystem")]
async fn hung_participant_times_out_at_its_step_timeout_and_the_pipeline_goes_on() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(60),
        ..SupervisorConfig::default()
    };
    let mut rig = rig(config, &[("persist_state", Act::Hang)]);
    let started = Instant::now();
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    let persist = report.step(Step::PersistState).expect("persist step");
    assert_eq!(persist.outcome, StepOutcome::TimedOut);
    assert_ms(
        persist.duration_ms,
        5_000,
        "the default persist_state timeout",
    );
    for step in [
        Step::CloseResources,
        Step::WriteSummary,
        Step::ReleaseLock,
        Step::StopLogging,
    ] {
        assert_eq!(outcome(&report, step), StepOutcome::Completed, "{step}");
    }
    assert_eq!(report.exit_code, 1);
    assert_elapsed(started, Duration::from_secs(5));
    assert_eq!(rig.asked(), ASKED_STEPS);
}

#[actix_rt::test(system = "PausedSystem")]
async fn failing_participant_is_reported_with_its_error_and_the_lock_is_still_released() {
    let rig = rig(
        SupervisorConfig::default(),
        &[("close_resources", Act::Fail), ("flush_logs", Act::Fail)],
    );
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    let close = report.step(Step::CloseResources).expect("close step");
    assert_eq!(close.outcome, StepOutcome::Failed);
    assert_eq!(close.error.as_deref(), Some("db: connection reset"));
    let flush = report.step(Step::FlushLogs).expect("flush step");
    assert!(
        flush
            .error
            .as_deref()
            .is_some_and(|e| e.contains("disk on fire")),
        "{flush:?}"
    );
    assert_eq!(report.resources[0].name, "db");
    assert_eq!(outcome(&report, Step::ReleaseLock), StepOutcome::Completed);
    assert_eq!(outcome(&report, Step::StopLogging), StepOutcome::Completed);
    assert_eq!(report.exit_code, 1);
}

#[actix_rt::test(system = "PausedSystem")]
async fn panicking_participant_is_contained_and_reported_failed() {
    let rig = rig(
        SupervisorConfig::default(),
        &[("persist_state", Act::Panic)],
    );
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert_eq!(outcome(&report, Step::PersistState), StepOutcome::Failed);
    assert_eq!(report.exit_code, 1);
    // The probe died with the panic: the steps after it are reported unreachable…
    let stop = report.step(Step::StopLogging).expect("stop_logging step");
    assert!(
        stop.error
            .as_deref()
            .is_some_and(|e| e.contains("unreachable")),
        "{stop:?}"
    );
    // …and with no summary written, the lock file is kept for the next boot to report.
    let release = report.step(Step::ReleaseLock).expect("release step");
    assert_eq!(release.outcome, StepOutcome::Skipped, "{release:?}");
    assert!(
        release
            .error
            .as_deref()
            .is_some_and(|e| e.contains("lock file is kept")),
        "{release:?}"
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn the_deadline_caps_every_step_timeout() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(3),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[("close_resources", Act::Hang)]);
    let started = Instant::now();
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    let close = report.step(Step::CloseResources).expect("close step");
    assert_eq!(close.outcome, StepOutcome::TimedOut);
    assert_ms(
        close.duration_ms,
        3_000,
        "capped by the 3 s grace, not its own 5 s",
    );
    assert_elapsed(started, Duration::from_secs(3));
}

#[actix_rt::test(system = "PausedSystem")]
async fn after_the_deadline_the_remaining_steps_run_forced_with_a_floor() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(2),
        ..SupervisorConfig::default()
    };
    let rig = rig(
        config,
        &[("persist_state", Act::Hang), ("release_lock", Act::Hang)],
    );
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert!(report.forced && report.escalated, "{report:#?}");
    let release = report.step(Step::ReleaseLock).expect("release step");
    assert_eq!(release.outcome, StepOutcome::TimedOut);
    assert_ms(
        release.duration_ms,
        250,
        "the minimum step time once the deadline is gone",
    );
    assert_eq!(outcome(&report, Step::StopLogging), StepOutcome::Completed);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_thousand_concurrent_requests_share_one_run_and_one_report() {
    let mut rig = rig(SupervisorConfig::default(), &[]);
    let mut answers = Vec::new();
    for _ in 0..500 {
        let addr = rig.supervisor.clone();
        answers.push(actix_rt::spawn(async move {
            addr.send(RequestShutdown(graceful())).await
        }));
    }
    let threads: Vec<_> = (0..10)
        .map(|_| {
            let addr = rig.supervisor.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| futures::executor::block_on(addr.send(RequestShutdown(graceful()))))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ready = 0;
    for answer in answers {
        let answer = tokio::time::timeout(BOUND, answer)
            .await
            .expect("bounded")
            .expect("joined")
            .expect("answered");
        ready += usize::from(answer.ready);
    }
    let threads = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect::<Vec<_>>()
    });
    for answer in tokio::time::timeout(BOUND, threads)
        .await
        .expect("bounded")
        .expect("joined")
    {
        ready += usize::from(answer.expect("answered").ready);
    }
    assert_eq!(ready, 1_000);
    let reports: Vec<_> = futures::future::join_all((0..20).map(|_| report(&rig))).await;
    assert!(reports.iter().all(|r| Arc::ptr_eq(r, &reports[0])));
    let asked = rig.asked();
    assert_eq!(
        asked.iter().filter(|s| **s == "cancel_tasks").count(),
        1,
        "one pipeline run: {asked:?}"
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_graceful_request_canceled_by_any_hook_keeps_the_bot_running() {
    let mut rig = rig(SupervisorConfig::default(), &[]);
    let calls = Arc::new(AtomicUsize::new(0));
    for (name, cancels) in [("first", false), ("busy", true), ("last", false)] {
        let calls = Arc::clone(&calls);
        let hook = sync_hook(move |_, response| {
            calls.fetch_add(1, Ordering::SeqCst);
            if cancels {
                response.cancel();
            }
        });
        rig.supervisor.do_send(RegisterHook {
            id: HookId::next(),
            name: name.into(),
            hook,
        });
    }
    let answer = request(&rig, graceful()).await;
    assert!(!answer.ready);
    assert_eq!(answer.vetoed_by, vec!["busy".to_owned()]);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "every hook runs");
    assert!(!rig.closing.is_closing());
    let status = rig
        .supervisor
        .send(GetStatus)
        .timeout(BOUND)
        .await
        .expect("status");
    assert_eq!(status, SupervisorState::Running);
    assert!(rig.asked().is_empty(), "no participant was asked");

    let forced = request(
        &rig,
        ShutdownRequest::forced(RequestSource::Director, "director"),
    )
    .await;
    assert!(forced.ready, "a forced request ignores cancels");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        6,
        "hooks still run for a forced request"
    );
    let report = report(&rig).await;
    assert!(report.forced);
    assert_eq!(report.vetoes.len(), 1);
    assert_eq!(report.vetoes[0].hook, "busy");
}

#[actix_rt::test(system = "PausedSystem")]
async fn hooks_run_in_registration_order_and_an_unregistered_hook_does_not_run() {
    let rig = rig(SupervisorConfig::default(), &[]);
    let (tx, mut order) = mpsc::unbounded_channel();
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let tx = tx.clone();
        let id = HookId::next();
        ids.push(id);
        let hook = sync_hook(move |_, _| {
            let _ = tx.send(name);
        });
        rig.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook,
        });
    }
    rig.supervisor.do_send(UnregisterHook(ids[2]));
    assert!(request(&rig, graceful()).await.ready);
    let mut seen = Vec::new();
    while let Ok(name) = order.try_recv() {
        seen.push(name);
    }
    assert_eq!(seen, ["a", "b", "d"]);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_panicking_failing_or_hanging_hook_neither_blocks_nor_cancels() {
    let config = SupervisorConfig {
        hook_budget: Duration::from_secs(2),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[]);
    let hooks: Vec<(&str, HookFn)> = vec![
        ("panics", sync_hook(|_, _| panic!("hook exploded"))),
        (
            "fails",
            async_hook(|_, _| async { Err::<(), _>("db unreachable") }),
        ),
        (
            "hangs",
            async_hook(|_, _| futures::future::pending::<Result<(), String>>()),
        ),
    ];
    for (name, hook) in hooks {
        rig.supervisor.do_send(RegisterHook {
            id: HookId::next(),
            name: name.into(),
            hook,
        });
    }
    let started = Instant::now();
    let answer = request(&rig, graceful()).await;
    assert!(answer.ready, "{answer:?}");
    assert_elapsed(started, Duration::from_secs(2));
    let report = report(&rig).await;
    let errors: Vec<(&str, ParticipantOutcome)> = report
        .hook_errors
        .iter()
        .map(|h| (h.hook.as_str(), h.outcome))
        .collect();
    assert_eq!(
        errors,
        [
            ("panics", ParticipantOutcome::Panicked),
            ("fails", ParticipantOutcome::Failed),
            ("hangs", ParticipantOutcome::TimedOut)
        ]
    );
    assert_eq!(
        report.hook_errors[0].error.as_deref(),
        Some("hook exploded")
    );
    assert_eq!(report.exit_code, 0);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_forced_request_during_a_graceful_run_escalates_and_aborts_the_tasks() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        forced_budget: Duration::from_secs(3),
        ..SupervisorConfig::default()
    };
    let mut rig = rig(config, &[("cancel_tasks", Act::Hang)]);
    let started = Instant::now();
    assert!(request(&rig, graceful()).await.ready);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = request(
        &rig,
        ShutdownRequest::forced(RequestSource::Signal, "signal:SIGTERM"),
    )
    .await;
    assert!(second.ready && second.joined);
    let report = report(&rig).await;
    assert!(report.forced && report.escalated, "{report:#?}");
    assert_eq!(report.reason, "test", "the first request names the run");
    let cancel = report.step(Step::CancelTasks).expect("cancel step");
    assert_eq!(cancel.outcome, StepOutcome::TimedOut);
    assert_ms(
        cancel.duration_ms,
        4_000,
        "cut at 1 s + the 3 s forced budget",
    );
    assert!(rig.asked().contains(&"abort_tasks"));
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_vetoed_signal_closes_at_once_is_retried_and_forced_at_the_grace_deadline() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(5),
        veto_retry: Duration::from_secs(1),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[]);
    let hook = sync_hook(|request, response| {
        if !request.is_forced() {
            response.cancel();
        }
    });
    rig.supervisor.do_send(RegisterHook {
        id: HookId::next(),
        name: "busy".into(),
        hook,
    });
    let started = Instant::now();
    let answer = request(
        &rig,
        ShutdownRequest::graceful(RequestSource::Signal, "signal:SIGTERM"),
    )
    .await;
    assert!(!answer.ready);
    assert!(
        rig.closing.is_closing(),
        "a signal is inevitable: closing at once"
    );
    let report = report(&rig).await;
    assert!(report.forced && report.escalated);
    // Asked at 0 s, then every second until the deadline (5 s), when it is forced; each hook's
    // veto of the request is recorded once.
    assert_eq!(report.vetoes.len(), 1, "{:?}", report.vetoes);
    assert!(report.reason.starts_with("signal:SIGTERM"));
    assert!(started.elapsed() >= Duration::from_secs(5));
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_restart_request_ends_with_the_restart_code_and_late_waiters_get_the_same_report() {
    let rig = rig(SupervisorConfig::default(), &[]);
    let (tx, mut complete) = mpsc::unbounded_channel();
    struct Listener(mpsc::UnboundedSender<Arc<ShutdownReport>>);
    impl Actor for Listener {
        type Context = Context<Self>;
    }
    impl Handler<ShutdownComplete> for Listener {
        type Result = ();
        fn handle(&mut self, msg: ShutdownComplete, _: &mut Context<Self>) {
            let _ = self.0.send(msg.report);
        }
    }
    rig.supervisor
        .do_send(Subscribe(Listener(tx).start().recipient()));
    request(
        &rig,
        ShutdownRequest::graceful(RequestSource::Admin, "admin:restart").with_restart(true),
    )
    .await;
    let first = report(&rig).await;
    assert_eq!(first.exit_code, 75);
    assert!(first.restart);
    let notified = tokio::time::timeout(BOUND, complete.recv())
        .await
        .expect("bounded")
        .expect("notified");
    assert!(Arc::ptr_eq(&first, &notified));
    let late = request(&rig, graceful()).await;
    assert!(late.ready && late.joined);
    assert!(Arc::ptr_eq(&first, &report(&rig).await));
    let status = rig
        .supervisor
        .send(GetStatus)
        .timeout(BOUND)
        .await
        .expect("status");
    assert_eq!(status, SupervisorState::Finished { exit_code: 75 });
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_panicking_progress_listener_cannot_take_the_pipeline_down() {
    let progress: ProgressFn = Arc::new(|event: &StepEvent| {
        if matches!(event, StepEvent::Started { .. }) {
            panic!("failed printing to stdout: Broken pipe");
        }
    });
    let rig = rig(
        SupervisorConfig {
            progress: Some(progress),
            ..SupervisorConfig::default()
        },
        &[],
    );
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == StepOutcome::Completed),
        "{report:#?}"
    );
    assert_eq!(report.steps.len(), Step::ALL.len());
    assert_eq!(report.exit_code, 0);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_hung_closer_is_reported_by_name_and_the_closers_before_it_still_run() {
    let (tx, _log) = mpsc::unbounded_channel();
    let probe = Probe {
        acts: HashMap::new(),
        log: tx,
    }
    .start();
    let closer = ResourceCloser::new(Duration::from_secs(5)).start();
    let (closed_tx, mut closed) = mpsc::unbounded_channel();
    closer.do_send(RegisterResource {
        name: "db".into(),
        closer: Box::new(move || {
            Box::pin(async move {
                let _ = closed_tx.send("db");
                Ok(())
            })
        }),
        timeout: None,
    });
    closer.do_send(RegisterResource {
        name: "stuck-client".into(),
        closer: Box::new(|| Box::pin(futures::future::pending())),
        timeout: None,
    });
    let participants = Participants {
        cancel_tasks: probe.clone().recipient(),
        abort_tasks: probe.clone().recipient(),
        flush_logs: probe.clone().recipient(),
        persist: probe.clone().recipient(),
        close: closer.recipient(),
        write_summary: probe.clone().recipient(),
        release_lock: probe.clone().recipient(),
        stop_logging: probe.recipient(),
    };
    // The step and the closer's own timeout are both 5 s: the closer must still answer first.
    let supervisor = Supervisor::new(
        SupervisorConfig::default(),
        participants,
        ClosingFlag::new(),
    )
    .start();
    supervisor
        .send(RequestShutdown(graceful()))
        .timeout(BOUND)
        .await
        .expect("answered");
    let report = supervisor
        .send(WaitForShutdown)
        .timeout(BOUND)
        .await
        .expect("finished");
    let names: Vec<(&str, ParticipantOutcome)> = report
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.outcome))
        .collect();
    assert_eq!(
        names,
        [
            ("stuck-client", ParticipantOutcome::TimedOut),
            ("db", ParticipantOutcome::TimedOut)
        ],
        "the hung closer used the step's time; the one before it is reported, not lost: {report:#?}"
    );
    assert_eq!(
        outcome(&report, Step::CloseResources),
        StepOutcome::Failed,
        "{report:#?}"
    );
    assert!(closed.try_recv().is_err(), "no time was left for db");
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_signal_deferred_by_vetoes_does_not_get_a_fresh_grace_when_the_veto_lifts() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(5),
        forced_budget: Duration::from_secs(3),
        veto_retry: Duration::from_secs(1),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[("close_resources", Act::Hang)]);
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let still_busy = Arc::clone(&busy);
    let hook = sync_hook(move |_, response| {
        if still_busy.load(Ordering::SeqCst) {
            response.cancel();
        }
    });
    rig.supervisor.do_send(RegisterHook {
        id: HookId::next(),
        name: "busy".into(),
        hook,
    });
    let started = Instant::now();
    let answer = request(
        &rig,
        ShutdownRequest::graceful(RequestSource::Signal, "signal:SIGTERM"),
    )
    .await;
    assert!(!answer.ready);
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    busy.store(false, Ordering::SeqCst);
    let report = report(&rig).await;
    // The retry at 4 s goes ahead; the run is bounded by max(grace deadline 5 s, 4 s + forced
    // budget 3 s) = 7 s, not by 4 s + a fresh 5 s grace.
    let close = report.step(Step::CloseResources).expect("close step");
    assert_eq!(close.outcome, StepOutcome::TimedOut);
    // The run ends at the 7 s deadline, not at 9 s.
    assert_elapsed(started, Duration::from_secs(7));
}

/// Real time: a synchronous hook runs on a blocking thread, which paused time cannot drive.
#[actix_rt::test]
async fn a_hook_that_blocks_its_thread_is_cut_at_the_budget_without_stalling_the_actor() {
    let config = SupervisorConfig {
        hook_budget: Duration::from_millis(200),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[]);
    let hook = sync_hook(|_, response| {
        std::thread::sleep(Duration::from_secs(3));
        response.cancel();
    });
    rig.supervisor.do_send(RegisterHook {
        id: HookId::next(),
        name: "blocking".into(),
        hook,
    });
    let started = std::time::Instant::now();
    let answer = request(&rig, graceful()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at the budget, not after the hook: {:?}",
        started.elapsed()
    );
    assert!(
        answer.ready,
        "a hook out of time does not cancel: {answer:?}"
    );
    let report = report(&rig).await;
    assert_eq!(report.hook_errors.len(), 1, "{report:#?}");
    assert_eq!(report.hook_errors[0].outcome, ParticipantOutcome::TimedOut);
}
