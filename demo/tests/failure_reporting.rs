//! A participant that fails during the shutdown: the failure is data in the summary, the rest
//! of the runbook still runs, and the exit code says what happened.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::os::unix::fs::PermissionsExt;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, assert_state_saved, entry, named};

#[test]
fn failed_resource_close_is_reported_and_exits_1_with_the_lock_released() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--fail-close"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);

    assert_eq!(exit.code(), 1, "{exit}");
    assert_state_saved(&state, &exit);
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");

    let summary = state.summary();
    assert_eq!(summary["exit_code"], 1, "{summary:#}");
    let broker = entry(&summary, "resources", "broker");
    assert_eq!(broker["outcome"], "failed", "{summary:#}");
    let error = broker["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("connection reset by peer"),
        "broker error {error:?}\n{summary:#}"
    );
    assert_eq!(
        entry(&summary, "resources", "db")["outcome"],
        "completed",
        "{summary:#}"
    );

    let close = entry(&summary, "steps", "close_resources");
    assert_eq!(close["outcome"], "failed", "{summary:#}");
    assert!(
        close["error"]
            .as_str()
            .is_some_and(|e| e.contains("broker")),
        "the close_resources error names the broker\n{summary:#}"
    );
    // The steps after the failure still ran.
    for step in ["persist_state", "write_summary"] {
        assert_eq!(
            entry(&summary, "steps", step)["outcome"],
            "completed",
            "{summary:#}"
        );
    }
    for file in summary["files"].as_array().expect("files") {
        assert_eq!(file["outcome"], "completed", "{file:#}");
    }
}

#[test]
fn panicking_hook_is_contained_and_reported() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--panic-hook"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);

    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);
    let summary = state.summary();
    let hook = named(&summary, "hook_errors", "hook", "panicky");
    assert_eq!(hook["outcome"], "panicked", "{summary:#}");
    assert!(
        hook["error"]
            .as_str()
            .is_some_and(|e| e.contains("panicked")),
        "the panic message is kept\n{summary:#}"
    );
    // A panicking hook never cancels.
    assert_eq!(summary["vetoes"], serde_json::json!([]), "{summary:#}");
    for step in summary["steps"].as_array().expect("steps") {
        assert_eq!(step["outcome"], "completed", "{step:#}\n{summary:#}");
    }
    // The panic itself goes to the crash log, owner-only.
    let crash = state.text("logs/crash.log");
    assert!(
        crash.contains("the panicky hook panicked"),
        "logs/crash.log:\n{crash}"
    );
    let mode = std::fs::metadata(state.file("logs/crash.log"))
        .expect("crash.log")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "logs/crash.log mode");
}

#[test]
fn a_closer_blocking_the_actor_thread_is_ended_by_the_hard_deadline() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--block-close", "60", "--grace", "2"]);
    bot.wait_ready(READY_TIMEOUT);
    let signalled = std::time::Instant::now();
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    let took = signalled.elapsed();
    // grace 2 s + hard margin 2 s; generous bound for a loaded machine.
    assert!(
        took < std::time::Duration::from_secs(12),
        "took {took:?}\n{exit}"
    );
    assert!(
        took >= std::time::Duration::from_secs(3),
        "ended before the hard deadline: {took:?}\n{exit}"
    );
    assert_eq!(exit.code(), 1, "{exit}");
    assert!(
        !state.file("bot.lock").exists(),
        "the hard-deadline thread removes the lock\n{exit}"
    );
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");
    let summary = state.summary();
    assert_eq!(summary["exit_code"], 1, "{summary:#}");
    let close = entry(&summary, "steps", "close_resources");
    assert_eq!(close["outcome"], "timed_out", "{summary:#}");
    assert!(
        close["error"]
            .as_str()
            .is_some_and(|e| e.contains("hard deadline")
                && e.contains("while closing resource legacy-driver")),
        "the culprit is named\n{summary:#}"
    );
    assert_eq!(
        entry(&summary, "steps", "persist_state")["outcome"],
        "completed",
        "state was saved before the block"
    );
    let log = state.text("logs/log.txt");
    assert!(
        log.contains("hard shutdown deadline passed"),
        "the logs were flushed: {log}"
    );
}

#[test]
fn a_state_file_that_cannot_be_written_fails_the_step_with_the_os_error_and_exits_1() {
    let state = StateDir::new();
    // A directory where the command cache's file belongs: the rename over it fails.
    std::fs::create_dir_all(state.file("command_cache.json")).expect("blocking directory");
    let mut bot = Bot::start(&state, &["--jobs-per-sec", "0"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(
        entry(&summary, "steps", "persist_state")["outcome"],
        "failed",
        "{summary:#}"
    );
    let file = entry(&summary, "files", "command_cache");
    assert_eq!(file["outcome"], "failed", "{summary:#}");
    assert!(
        file["error"]
            .as_str()
            .is_some_and(|e| e.contains("os error")),
        "the OS error is named: {summary:#}"
    );
    for saved in ["queue_cache", "reminder_tracking", "dm_scheduled_tracker"] {
        assert_eq!(
            entry(&summary, "files", saved)["outcome"],
            "completed",
            "{summary:#}"
        );
    }
    assert!(
        !state.file("bot.lock").exists(),
        "the lock is released anyway"
    );
}

#[test]
fn a_third_signal_ends_the_process_even_while_the_actor_thread_is_blocked() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--block-close", "60", "--grace", "30"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    // The state is saved; the closer that follows blocks the actor thread.
    bot.wait_for_line("persist_state", READY_TIMEOUT, |l| {
        l.contains("persist_state")
    });
    // Signals sent before the first is taken coalesce (the kernel keeps one pending SIGTERM):
    // the third is sent once the bot said it took the second.
    bot.signal(libc::SIGTERM);
    bot.wait_for_stderr("second SIGTERM", READY_TIMEOUT, |l| {
        l.contains("second SIGTERM")
    });
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(std::time::Duration::from_secs(10));
    assert_eq!(exit.code(), 1, "{exit}");
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");
    // The third signal leaves what the hard deadline leaves: no lock, and a summary that
    // agrees with the run — every step once, in order, the one cut short `timed_out`.
    assert!(!state.file("bot.lock").exists(), "{exit}");
    let summary = state.summary();
    assert_eq!(summary["exit_code"], 1, "{summary:#}");
    assert_eq!(summary["clean"], false, "{summary:#}");
    let steps: Vec<(&str, &str)> = summary["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("begin", "completed"),
            ("drain", "completed"),
            ("cancel_tasks", "completed"),
            ("flush_logs", "completed"),
            ("persist_state", "completed"),
            ("close_resources", "timed_out"),
            ("write_summary", "skipped"),
            ("release_lock", "skipped"),
            ("stop_logging", "skipped"),
        ],
        "{summary:#}"
    );
}
