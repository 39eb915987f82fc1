//! Boot after a crash: a stale lock is recognised and taken over, a corrupt state file is
//! archived instead of stopping the boot.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, assert_state_saved, read_json};

#[test]
fn stale_lock_of_a_killed_run_is_reported_and_taken_over() {
    let state = StateDir::new();
    let mut crashed = Bot::start(&state, &[]);
    crashed.wait_ready(READY_TIMEOUT);
    let old_pid = crashed.pid();
    crashed.signal(libc::SIGKILL);
    let killed = crashed.wait_exit(EXIT_TIMEOUT);
    assert!(
        killed.status.code().is_none(),
        "SIGKILL ends it by signal\n{killed}"
    );
    assert!(
        state.file("bot.lock").exists(),
        "a killed run leaves its lock file\n{killed}"
    );

    let mut bot = Bot::start(&state, &[]);
    let line = bot.wait_for_line("stale lock", READY_TIMEOUT, |l| l.contains("stale lock"));
    assert!(
        line.contains(&format!("stale lock from pid {old_pid}")) && line.contains("crashed"),
        "{line}\n{}",
        bot.output_so_far()
    );
    bot.wait_ready(READY_TIMEOUT);
    let lock = state.json("bot.lock");
    assert_eq!(
        lock["pid"],
        bot.pid(),
        "the lock now names the new process: {lock:#}"
    );

    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);
    assert_eq!(state.summary()["exit_code"], 0);
}

#[test]
fn corrupt_state_file_is_archived_and_the_boot_goes_on() {
    let state = StateDir::new();
    let mut first = Bot::start(&state, &[]);
    first.wait_ready(READY_TIMEOUT);
    first.signal(libc::SIGTERM);
    let exit = first.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let garbage = b"{\"schema\":1,\"name\":\"queue_cache\",\"data\":[tru";
    std::fs::write(state.file("queue_cache.json"), garbage).expect("corrupt queue_cache.json");

    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    let archived = state.archives_of("queue_cache.json");
    assert_eq!(
        archived.len(),
        1,
        "one archive of the corrupt file: {archived:?}\n{}",
        bot.output_so_far()
    );
    assert_eq!(
        std::fs::read(&archived[0]).expect("read the archive"),
        garbage,
        "the archive keeps the bytes"
    );
    assert!(
        bot.stdout_lines()
            .iter()
            .any(|l| l.contains("archived") && l.contains("queue_cache")),
        "the boot says what it archived\n{}",
        bot.output_so_far()
    );

    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);
    // The next save replaced the corrupt file with a good one.
    assert_eq!(
        read_json(&state.file("queue_cache.json"))["name"],
        "queue_cache"
    );
}
