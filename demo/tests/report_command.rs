//! `demo-bot report`: the last shutdown summary for an operator, as a table or as JSON.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, SUMMARY_STEPS, StateDir, run};

/// A state directory left by one SIGTERM shutdown.
fn after_one_shutdown() -> StateDir {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    state
}

fn state_dir_arg(state: &StateDir) -> String {
    state.path().to_str().expect("a UTF-8 temp path").to_owned()
}

#[test]
fn report_prints_the_last_summary_as_a_table() {
    let state = after_one_shutdown();
    let dir = state_dir_arg(&state);
    let exit = run(&["report", "--state-dir", &dir]);

    assert_eq!(exit.code(), 0, "{exit}");
    assert!(
        exit.stdout
            .contains("shutdown summary: signal:SIGTERM (source signal), graceful"),
        "{exit}"
    );
    for step in SUMMARY_STEPS {
        assert!(
            exit.stdout
                .lines()
                .any(|l| l.split_whitespace().take(3).eq(["step", step, "completed"])),
            "no row for step {step}\n{exit}"
        );
    }
    assert!(exit.stdout.contains("exit code 0 (clean)"), "{exit}");
}

#[test]
fn report_json_is_the_summary_file() {
    let state = after_one_shutdown();
    let dir = state_dir_arg(&state);
    let exit = run(&["report", "--state-dir", &dir, "--json"]);

    assert_eq!(exit.code(), 0, "{exit}");
    let printed: serde_json::Value =
        serde_json::from_str(&exit.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{exit}"));
    assert_eq!(
        printed,
        state.summary(),
        "--json prints what last_shutdown.json holds"
    );
    assert_eq!(printed["reason"], "signal:SIGTERM");
    // The typed form reads it too.
    let typed: actix_shutdown::ShutdownReport =
        serde_json::from_value(printed).expect("the JSON is a ShutdownReport");
    assert!(typed.is_clean(), "{typed:?}");
}

#[test]
fn report_without_a_summary_fails_with_a_message() {
    let state = StateDir::new();
    let dir = state_dir_arg(&state);
    let exit = run(&["report", "--state-dir", &dir]);

    assert_eq!(exit.code(), 1, "{exit}");
    assert!(
        exit.stderr.contains("last_shutdown.json"),
        "the message names the file\n{exit}"
    );
    assert!(exit.stdout.trim().is_empty(), "{exit}");
}
