//! Boot and `demo-bot report` tell the truth about the previous run: the summary, the exit
//! marker and the lock are read together, and a run that left no summary of its own is never
//! reported with an older run's "shut down cleanly".
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, run};

#[test]
fn a_run_whose_summary_write_failed_is_not_reported_as_a_clean_previous_run() {
    let state = StateDir::new();
    let mut first = Bot::start(&state, &[]);
    first.wait_ready(READY_TIMEOUT);
    first.signal(libc::SIGTERM);
    let exit = first.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    // The second run cannot write its summary: a directory stands where the file goes.
    let mut second = Bot::start(&state, &[]);
    second.wait_ready(READY_TIMEOUT);
    let summary = state.file("last_shutdown.json");
    std::fs::remove_file(&summary).expect("remove the first summary");
    std::fs::create_dir_all(summary.join("in-the-way")).expect("a directory in its place");
    second.signal(libc::SIGTERM);
    let exit = second.wait_exit(EXIT_TIMEOUT);
    assert_eq!(
        exit.code(),
        1,
        "a summary that was not written is a loss\n{exit}"
    );
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");

    let dir = state.path().to_str().expect("a UTF-8 temp path").to_owned();
    let report = run(&["report", "--state-dir", &dir]);
    assert_eq!(report.code(), 1, "{report}");
    assert!(
        report.stderr.contains("did not finish its shutdown"),
        "{report}"
    );
    assert!(!report.stdout.contains("clean"), "{report}");

    let mut third = Bot::start(&state, &[]);
    let boot = third.wait_ready(READY_TIMEOUT);
    let said = third.output_so_far();
    assert!(
        said.contains("did not finish its shutdown"),
        "{said}\n{boot}"
    );
    assert!(!said.contains("shut down cleanly"), "{said}");
    third.signal(libc::SIGTERM);
    third.wait_exit(EXIT_TIMEOUT);
}
