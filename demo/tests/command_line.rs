//! A command line that cannot work is refused with exit code 2 and a message, before the bot
//! touches its state directory; one that can work is accepted.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

/// Runs the bot with `args` on a fresh state dir, expects exit 2 with `message` on stderr and
/// no state directory created.
fn refused(args: &[&str], message: &str) {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, args);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 2, "{args:?}\n{exit}");
    assert!(
        exit.stderr.contains(message),
        "{args:?}: stderr lacks {message:?}\n{exit}"
    );
    assert!(
        !state.path().exists(),
        "{args:?} created the state directory\n{exit}"
    );
}

#[test]
fn zero_grace_is_refused_with_exit_2() {
    refused(&["--grace", "0"], "must be a positive number of seconds");
}

#[test]
fn negative_grace_is_refused_with_exit_2() {
    refused(&["--grace", "-1"], "-1");
}

#[test]
fn non_numeric_grace_is_refused_with_exit_2() {
    refused(&["--grace", "soon"], "is not a number of seconds");
}

#[test]
fn nan_job_rate_is_refused_with_exit_2() {
    refused(&["--jobs-per-sec", "NaN"], "--jobs-per-sec");
}

#[test]
fn unknown_flag_is_refused_with_exit_2() {
    refused(&["--no-such-flag"], "--no-such-flag");
}

#[test]
fn forced_budget_above_grace_is_refused_with_exit_2() {
    refused(&["--grace", "1", "--forced-budget", "5"], "forced_budget");
}

#[test]
fn grace_below_the_default_forced_budget_is_accepted() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--grace", "2"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
}

#[test]
fn stop_timeout_that_cannot_hold_a_forced_shutdown_is_refused_with_exit_2() {
    // Forced budget 3 s + hard margin 2 s do not fit in 4 s.
    refused(&["--stop-timeout", "4"], "stop_timeout");
}
