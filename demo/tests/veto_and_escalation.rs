//! A hook that cancels graceful requests while the bot is busy: a signal is deferred until the
//! grace deadline, then forced; a second signal forces at once.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, Exit, READY_TIMEOUT, StateDir, entry, named};

/// Two workers on 5 s jobs produced at 20/s: both are busy from shortly after boot on.
const BUSY: [&str; 5] = ["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "5000"];

/// Boots a busy bot with a busy-guard and returns it once jobs are in flight.
fn busy_bot(state: &StateDir, grace: &str) -> Bot {
    let mut args = BUSY.to_vec();
    args.extend(["--grace", grace]);
    let mut bot = Bot::start(state, &args);
    bot.wait_ready(READY_TIMEOUT);
    // Without jobs in flight the busy-guard has nothing to veto.
    bot.wait_jobs_in_flight(2, READY_TIMEOUT);
    bot
}

#[test]
fn busy_guard_defers_a_signal_until_the_grace_deadline_then_it_is_forced() {
    let state = StateDir::new();
    let mut bot = busy_bot(&state, "4");
    let signalled = Instant::now();
    bot.signal(libc::SIGTERM);

    bot.wait_for_line("veto", Duration::from_secs(10), |l| {
        l.contains("canceled by busy-guard")
    });
    // Still running until shortly before the grace deadline (4 s after the signal), counted
    // from the signal, not from when the veto line was read.
    let until_shortly_before_the_deadline =
        Duration::from_millis(3500).saturating_sub(signalled.elapsed());
    if let Some(exit) = bot.exited_within(until_shortly_before_the_deadline) {
        panic!("the bot exited although the busy-guard vetoed\n{exit}");
    }
    let exit = bot.wait_exit(Duration::from_secs(12).saturating_sub(signalled.elapsed()));
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(3500),
        "exited {took:?} after SIGTERM, before the grace deadline\n{exit}"
    );
    assert!(
        took < Duration::from_secs(12),
        "exited {took:?} after SIGTERM\n{exit}"
    );
    // Forced at the deadline: the skipped states are a loss.
    assert_eq!(exit.code(), 1, "{exit}");

    let summary = state.summary();
    assert_eq!(summary["escalated"], true, "{summary:#}");
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(summary["source"], "signal", "{summary:#}");
    let veto = named(&summary, "vetoes", "hook", "busy-guard");
    assert!(
        veto["at"].as_str().is_some_and(|at| !at.is_empty()),
        "{summary:#}"
    );
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}

/// Boots a busy bot with a 30 s grace, sends SIGTERM, waits for the veto, sends SIGTERM again.
fn vetoed_then_signalled_again(state: &StateDir) -> (Exit, Duration) {
    let mut bot = busy_bot(state, "30");
    let signalled = Instant::now();
    bot.signal(libc::SIGTERM);
    bot.wait_for_line("veto", Duration::from_secs(10), |l| {
        l.contains("canceled by busy-guard")
    });
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    (exit, signalled.elapsed())
}

#[test]
fn second_signal_forces_a_vetoed_shutdown_at_once() {
    let state = StateDir::new();
    let (exit, took) = vetoed_then_signalled_again(&state);

    // Far below the 30 s grace: the forced request is not asked to wait.
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after the first SIGTERM\n{exit}"
    );
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    named(&summary, "vetoes", "hook", "busy-guard");
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
    // Forced mode saves only the critical state (the job queue and the DM schedule) and
    // skips the rest.
    for critical in ["queue_cache", "dm_scheduled_tracker"] {
        assert_eq!(
            entry(&summary, "files", critical)["outcome"],
            "completed",
            "{summary:#}"
        );
        assert_eq!(state.json(&format!("{critical}.json"))["name"], critical);
    }
    for skipped in ["reminder_tracking", "command_cache"] {
        assert_eq!(
            entry(&summary, "files", skipped)["outcome"],
            "skipped",
            "{summary:#}"
        );
    }
}

#[test]
fn second_signal_after_a_veto_is_reported_as_escalated() {
    let state = StateDir::new();
    let (exit, _) = vetoed_then_signalled_again(&state);
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    // ShutdownReport::escalated: "Whether a graceful run was switched to forced (second
    // signal, forced request, deadline)". The deadline path sets it; the second signal must too.
    assert_eq!(summary["escalated"], true, "{summary:#}");
}
