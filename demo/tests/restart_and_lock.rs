//! The exit codes a supervisor acts on: 75 for a requested restart, 73 for a second instance
//! refused by the singleton lock.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, assert_state_saved};

#[test]
fn admin_restart_exits_75_and_says_restart_in_the_summary() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--restart-after", "1"]);
    bot.wait_ready(READY_TIMEOUT);
    // No signal: the bot asks for its own restart one second after boot.
    let exit = bot.wait_exit(EXIT_TIMEOUT);

    assert_eq!(exit.code(), 75, "{exit}");
    assert!(exit.stdout.contains("admin: restart requested"), "{exit}");
    assert_state_saved(&state, &exit);
    assert_eq!(state.text("exit_code").trim(), "75", "{exit}");
    let summary = state.summary();
    assert_eq!(summary["restart"], true, "{summary:#}");
    assert_eq!(summary["reason"], "admin:restart", "{summary:#}");
    assert_eq!(summary["source"], "admin", "{summary:#}");
    assert_eq!(summary["exit_code"], 75, "{summary:#}");
    assert_eq!(summary["forced"], false, "{summary:#}");
    for step in summary["steps"].as_array().expect("steps") {
        assert_eq!(step["outcome"], "completed", "{step:#}\n{summary:#}");
    }
}

#[test]
fn second_instance_is_refused_with_73_and_the_first_keeps_running() {
    let state = StateDir::new();
    let mut first = Bot::start(&state, &[]);
    first.wait_ready(READY_TIMEOUT);
    let lock_before = state.text("bot.lock");

    let mut second = Bot::start(&state, &[]);
    let refused = second.wait_exit(EXIT_TIMEOUT);
    assert_eq!(refused.code(), 73, "{refused}");
    let lock_path = state.file("bot.lock");
    assert!(
        refused.stderr.contains(&format!("pid {}", first.pid())),
        "stderr names the holder's pid {}\n{refused}",
        first.pid()
    );
    assert!(
        refused.stderr.contains(&lock_path.display().to_string()),
        "stderr names the lock {}\n{refused}",
        lock_path.display()
    );
    assert!(
        !refused.stdout.lines().any(|l| l.contains("ready")),
        "{refused}"
    );

    // The first instance and its lock are untouched.
    assert_eq!(
        state.text("bot.lock"),
        lock_before,
        "the refused instance changed bot.lock"
    );
    assert!(
        first.exited_within(Duration::ZERO).is_none(),
        "the first instance exited\n{}",
        first.output_so_far()
    );
    first.signal(libc::SIGTERM);
    let exit = first.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);
    assert_eq!(state.summary()["reason"], "signal:SIGTERM");
}
