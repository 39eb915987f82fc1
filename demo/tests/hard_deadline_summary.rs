//! The summary agrees with the run even when the process is stopped past its deadline
//! (SIGSTOP, then SIGCONT): every step once and in order, and a `duration_ms` that matches
//! `finished_at − started_at`, whichever of the pipeline and the hard-deadline thread wrote it.
#![cfg(unix)]

use std::time::Duration;

#[path = "support/child.rs"]
mod child;

use child::{ALL_STEPS, Bot, EXIT_TIMEOUT, READY_TIMEOUT, SUMMARY_STEPS, StateDir};

fn millis_between(started_at: &str, finished_at: &str) -> i64 {
    let at = |t: &str| {
        humantime::parse_rfc3339(t)
            .unwrap_or_else(|e| panic!("{t:?} is not RFC 3339: {e}"))
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_millis() as i64
    };
    at(finished_at) - at(started_at)
}

#[test]
fn a_process_stopped_past_its_deadline_leaves_a_summary_that_agrees_with_the_run() {
    let state = StateDir::new();
    // A closer that takes 3 s keeps the run going long enough to be stopped in the middle.
    let mut bot = Bot::start(&state, &["--grace", "2", "--block-close", "3"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    bot.wait_for_line("persist_state", READY_TIMEOUT, |l| {
        l.contains("persist_state")
    });
    bot.signal(libc::SIGSTOP);
    // The stimulus itself: time passes while the process cannot run (past grace + margin).
    std::thread::sleep(Duration::from_secs(6));
    bot.signal(libc::SIGCONT);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "{exit}");

    let summary = state.summary();
    let names: Vec<&str> = summary["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["name"].as_str().expect("a step name"))
        .collect();
    // Every step once, in order: the file stops at write_summary when the pipeline wrote it,
    // and lists all nine when the hard-deadline thread did.
    assert!(
        names == SUMMARY_STEPS || names == ALL_STEPS,
        "steps unique and in order: {names:?}\n{summary:#}"
    );
    let duration = summary["duration_ms"].as_i64().expect("duration_ms");
    let span = millis_between(
        summary["started_at"].as_str().expect("started_at"),
        summary["finished_at"].as_str().expect("finished_at"),
    );
    assert!(
        (duration - span).abs() <= 50,
        "duration_ms {duration} against finished_at − started_at {span}\n{summary:#}"
    );
    assert!(duration >= 6_000, "the stopped time counts: {duration} ms");
    assert!(!state.file("bot.lock").exists(), "{exit}");
}
