//! A start that fails after the lock is taken (the database cannot open) ends in a shutdown
//! that says so: exit code 1 and an `exit_code` marker that is never 0, the lock released.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, StateDir, entry};

#[test]
fn a_database_that_cannot_open_fails_the_start_and_never_records_exit_code_0() {
    let state = StateDir::new();
    // A directory where the database file belongs: SQLite cannot open it.
    std::fs::create_dir_all(state.file("bot.db")).expect("blocking directory");
    let mut bot = Bot::start(&state, &[]);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "{exit}");
    assert!(!exit.stdout.contains("ready"), "{exit}");
    assert!(
        exit.stderr.contains("bot.db"),
        "the error names the file\n{exit}"
    );
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");
    let summary = state.summary();
    assert_eq!(summary["exit_code"], 1, "{summary:#}");
    assert_eq!(summary["reason"], "startup:db", "{summary:#}");
    let db = entry(&summary, "resources", "db");
    assert_eq!(db["outcome"], "failed", "{summary:#}");
    assert!(
        db["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not start")),
        "{summary:#}"
    );
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}
