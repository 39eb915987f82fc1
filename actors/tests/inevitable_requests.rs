//! Inevitable requests (signals, forced requests) close at once: `is_closing` turns true when
//! they arrive, and a hook's veto only defers the pipeline, asked again every `veto_retry`
//! until it lifts or the request is forced — at the grace deadline, or earlier under
//! `stop_timeout`. A negotiable request that a hook vetoes changes nothing. Paused time on the
//! timer grid: durations are exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_shutdown_actors::messages::*;
use actix_shutdown_actors::*;
use tokio::time::Instant;

#[path = "support/paused_system.rs"]
mod paused_system;
#[path = "support/probe.rs"]
mod probe;
use paused_system::PausedSystem;
use probe::*;

/// A hook that vetoes every request that is not forced: the run waits for the time the
/// request is forced at.
fn veto_until_forced(rig: &Rig) {
    add_hook(rig, "busy", |request, response| {
        if !request.is_forced() {
            response.cancel();
        }
    });
}

fn sigterm() -> ShutdownRequest {
    ShutdownRequest::graceful(RequestSource::Signal, "signal:SIGTERM")
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_deferred_signal_closes_at_once_and_runs_within_one_retry_of_the_veto_lifting() {
    let origin = Instant::now();
    let (config, starts) = recording_starts(SupervisorConfig::default(), origin);
    let rig = rig(config, &[]);
    let busy = Arc::new(AtomicBool::new(true));
    let veto = Arc::clone(&busy);
    add_hook(&rig, "busy", move |_, response| {
        if veto.load(Ordering::SeqCst) {
            response.cancel();
        }
    });

    let answer = request(&rig, sigterm()).await;
    assert!(!answer.ready);
    assert!(
        rig.closing.is_closing(),
        "closing as soon as the signal came"
    );
    assert_eq!(
        rig.supervisor.send(GetStatus).await.expect("status"),
        SupervisorState::Closing { step: None },
        "closing, no step yet: the hooks defer the pipeline"
    );

    tokio::time::sleep(Duration::from_millis(1_250)).await;
    busy.store(false, Ordering::SeqCst);
    let report = report(&rig).await;
    // Asked at 0, 100, …, 1200 ms; the ask at 1300 ms lets it go. The veto is recorded once,
    // when it first came.
    assert_eq!(
        starts.lock().unwrap()[0],
        (Step::Begin, Duration::from_millis(1_300))
    );
    assert_eq!(report.vetoes.len(), 1, "{:?}", report.vetoes);
    assert!(!report.forced && !report.escalated, "{report:#?}");
    assert!(report.clean);
    assert_eq!(report.exit_code, 0);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_vetoed_negotiable_request_changes_nothing() {
    let rig = rig(SupervisorConfig::default(), &[]);
    let asked = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&asked);
    add_hook(&rig, "busy", move |_, response| {
        count.fetch_add(1, Ordering::SeqCst);
        response.cancel();
    });
    let director = ShutdownRequest::graceful(RequestSource::Director, "director");
    let answer = request(&rig, director).await;
    assert!(!answer.ready);
    assert_eq!(answer.vetoed_by, ["busy"]);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(!rig.closing.is_closing(), "still taking work");
    assert_eq!(asked.load(Ordering::SeqCst), 1, "not asked again");
    assert_eq!(
        rig.supervisor.send(GetStatus).await.expect("status"),
        SupervisorState::Running
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn hooks_can_tell_an_inevitable_request_and_how_long_is_left() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(8),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[]);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    add_hook(&rig, "observer", move |request, _| {
        record
            .lock()
            .unwrap()
            .push((request.is_inevitable(), request.time_left()));
    });
    request(&rig, sigterm()).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (inevitable, left) = seen[0];
    assert!(inevitable);
    // The hook runs on a blocking thread in real time: what is left is the grace, less the
    // moment it took to get there.
    let left = left.expect("a signal has a time it is forced at");
    assert!(
        left <= Duration::from_secs(8) && left > Duration::from_secs(7),
        "{left:?}"
    );
    assert!(!ShutdownRequest::graceful(RequestSource::Http, "deploy").is_inevitable());
    assert!(ShutdownRequest::forced(RequestSource::Http, "deploy").is_inevitable());
}

#[actix_rt::test(system = "PausedSystem")]
async fn under_stop_timeout_a_veto_that_never_lifts_is_forced_so_the_run_ends_before_the_kill() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        forced_budget: Duration::from_secs(3),
        stop_timeout: Some(Duration::from_secs(10)),
        ..SupervisorConfig::default()
    };
    let origin = Instant::now();
    let (config, starts) = recording_starts(config, origin);
    let rig = rig(config, &[("close_resources", Act::Hang)]);
    veto_until_forced(&rig);
    request(&rig, sigterm()).await;
    let report = report(&rig).await;
    // Forced at 10 s - 3 s (no hard margin configured here): the forced run gets its budget.
    assert_eq!(
        starts.lock().unwrap()[0],
        (Step::Begin, Duration::from_secs(7))
    );
    assert!(report.forced && report.escalated);
    assert_eq!(
        outcome(&report, Step::CloseResources),
        StepOutcome::TimedOut
    );
    assert!(
        origin.elapsed() <= Duration::from_secs(10),
        "ended {:?} after the signal, before the kill at 10 s",
        origin.elapsed()
    );
    assert_eq!(report.exit_code, 1);
}

#[actix_rt::test(system = "PausedSystem")]
async fn under_stop_timeout_no_run_outlasts_the_kill() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        stop_timeout: Some(Duration::from_secs(10)),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[("persist_state", Act::Hang)]);
    let started = Instant::now();
    request(&rig, sigterm()).await;
    let report = report(&rig).await;
    let persist = report.step(Step::PersistState).expect("persist");
    assert_eq!(persist.outcome, StepOutcome::TimedOut);
    // Its own 5 s timeout fits before the kill; the steps after it still run.
    assert_ms(persist.duration_ms, 5_000, "its own timeout");
    assert!(started.elapsed() <= Duration::from_secs(10));
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_round_of_hanging_hooks_cannot_push_a_deferred_signal_past_its_forced_time() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        forced_budget: Duration::from_secs(3),
        stop_timeout: Some(Duration::from_secs(10)),
        ..SupervisorConfig::default()
    };
    let origin = Instant::now();
    let (config, starts) = recording_starts(config, origin);
    let rig = rig(config, &[]);
    veto_until_forced(&rig);
    // Two async hooks that never answer: each may take the hook budget (10 s), but the round
    // of a deferred request ends by the time it is forced at.
    for name in ["stuck-1", "stuck-2"] {
        rig.supervisor.do_send(RegisterHook {
            id: HookId::next(),
            name: name.into(),
            hook: async_hook(|_, _| futures::future::pending::<Result<(), String>>()),
        });
    }
    request(&rig, sigterm()).await;
    let report = report(&rig).await;
    let begun = starts.lock().unwrap()[0].1;
    assert!(
        begun <= Duration::from_secs(7) + Duration::from_secs(3),
        "begun at {begun:?}"
    );
    assert!(
        origin.elapsed() <= Duration::from_secs(10),
        "ended {:?} after the signal, before the kill at 10 s",
        origin.elapsed()
    );
    assert!(report.forced);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_signal_with_stop_timeout_caps_a_run_already_under_way() {
    let mut steps = StepTimeouts::default();
    steps.persist_state = Duration::from_secs(60);
    let config = SupervisorConfig {
        grace: Duration::from_secs(60),
        stop_timeout: Some(Duration::from_secs(10)),
        steps,
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[("persist_state", Act::Hang)]);
    let origin = Instant::now();
    request(
        &rig,
        ShutdownRequest::graceful(RequestSource::Http, "deploy"),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    request(&rig, sigterm()).await;
    let report = report(&rig).await;
    let persist = report.step(Step::PersistState).expect("persist");
    assert_eq!(persist.outcome, StepOutcome::TimedOut);
    assert!(
        origin.elapsed() <= Duration::from_secs(11) + Duration::from_secs(2),
        "the kill comes 10 s after the signal (at 11 s); ended at {:?}",
        origin.elapsed()
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn with_a_hard_deadline_the_forced_run_leaves_the_margin_and_the_slack_before_the_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        forced_budget: Duration::from_secs(3),
        stop_timeout: Some(Duration::from_secs(10)),
        // A real hard-deadline thread, in real time: this paused test ends long before it
        // could fire.
        hard_deadline: Some(HardDeadline {
            margin: Duration::from_secs(2),
            last_resort: LastResort {
                summary_path: dir.path().join("last_shutdown.json"),
                lock_path: None,
                exit_marker: None,
                log_queue: None,
                exit_code: 1,
            },
            activity: None,
        }),
        ..SupervisorConfig::default()
    };
    let origin = Instant::now();
    let (config, starts) = recording_starts(config, origin);
    let rig = rig(config, &[]);
    veto_until_forced(&rig);
    request(&rig, sigterm()).await;
    let report = report(&rig).await;
    // Forced at 10 s − 3 s (forced budget) − 2 s (hard margin) − 1 s (the last resort's
    // slack): were the run to overrun, the hard deadline fires at 9 s, not with the kill.
    assert_eq!(
        starts.lock().unwrap()[0],
        (Step::Begin, Duration::from_secs(4))
    );
    assert!(report.forced, "{report}");
}
