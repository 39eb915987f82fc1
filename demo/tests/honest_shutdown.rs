//! What a signal ends in, told honestly: a busy bot stops taking jobs and finishes those in
//! flight so its veto lifts and the run is clean; a veto that never lifts cannot outlive the
//! orchestrator's stop timeout. (A task aborted at its deadline: `signal_shutdown.rs`.)
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, entry};

#[test]
fn a_busy_bot_finishes_its_jobs_in_flight_and_exits_clean_soon_after_sigterm() {
    let state = StateDir::new();
    // Jobs of one second produced faster than two workers take them: the busy-guard vetoes
    // while a job is in flight, and the producer would keep the workers busy for ever.
    let mut bot = Bot::start(
        &state,
        &["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "1000"],
    );
    bot.wait_ready(READY_TIMEOUT);
    bot.wait_jobs_in_flight(2, READY_TIMEOUT);
    let signalled = Instant::now();
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    let took = signalled.elapsed();
    // The jobs in flight last 1 s and the grace is 10 s: well under the grace (and not
    // forced, below) is the bot waiting for its jobs only, however slow the disk.
    assert!(
        took < Duration::from_secs(8),
        "exited {took:?} after SIGTERM: the jobs in flight last 1 s\n{exit}"
    );
    assert_eq!(exit.code(), 0, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["clean"], true, "{summary:#}");
    assert_eq!(summary["forced"], false, "{summary:#}");
    assert_eq!(summary["lost"], serde_json::json!([]), "{summary:#}");
    for file in summary["files"].as_array().expect("files") {
        assert_eq!(file["outcome"], "completed", "nothing skipped\n{summary:#}");
    }
    assert!(
        exit.stdout.contains("pending jobs saved"),
        "the queued jobs are saved\n{exit}"
    );
    // The busy-guard deferred the signal until the jobs in flight ended.
    let veto = exit
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("veto "))
        .unwrap_or_else(|| panic!("no veto row\n{exit}"));
    assert!(veto.contains("busy-guard "), "{veto}\n{exit}");
}

#[test]
fn a_veto_that_never_lifts_ends_before_the_stop_timeout() {
    let state = StateDir::new();
    // Jobs of a minute: the busy-guard vetoes for as long as the grace allows (30 s).
    let mut bot = Bot::start(
        &state,
        &[
            "--busy-veto",
            "--jobs-per-sec",
            "20",
            "--job-ms",
            "60000",
            "--grace",
            "30",
            "--stop-timeout",
            "8",
        ],
    );
    bot.wait_ready(READY_TIMEOUT);
    bot.wait_jobs_in_flight(1, READY_TIMEOUT);
    let signalled = Instant::now();
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(Duration::from_secs(20));
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "exited {took:?} after SIGTERM, past the 8 s stop timeout\n{exit}"
    );
    assert!(exit.status.code().is_some(), "not killed: {exit}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(
        entry(&summary, "files", "queue_cache")["outcome"],
        "completed",
        "the critical queue is saved\n{summary:#}"
    );
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}
