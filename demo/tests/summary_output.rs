//! The summary table the bot prints at the end says plainly whether anything was lost, and
//! calls pending jobs saved only when the queue's file was written.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, entry};

#[test]
fn a_clean_run_says_nothing_was_lost() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert!(!exit.stdout.contains("lost: "), "{exit}");
    assert!(exit.stdout.contains("pending jobs saved: "), "{exit}");
    assert!(exit.stdout.contains("exit code 0 (clean)"), "{exit}");
}

#[test]
fn pending_jobs_are_not_called_saved_when_the_queue_file_was_not_written() {
    let state = StateDir::new();
    // A directory where the queue's file belongs: the rename over it fails.
    std::fs::create_dir_all(state.file("queue_cache.json")).expect("blocking directory");
    let mut bot = Bot::start(
        &state,
        &[
            "--jobs-per-sec",
            "50",
            "--job-ms",
            "2000",
            "--persist-every",
            "0",
        ],
    );
    bot.wait_ready(READY_TIMEOUT);
    bot.wait_heartbeat("heartbeat with queued jobs", READY_TIMEOUT, |beat| {
        beat.queued > 0
    });
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(
        entry(&summary, "files", "queue_cache")["outcome"],
        "failed",
        "{summary:#}"
    );
    assert!(!exit.stdout.contains("pending jobs saved"), "{exit}");
    assert!(
        exit.stdout.contains("pending jobs NOT saved: "),
        "the summary says the jobs were not saved\n{exit}"
    );
    let lost = exit
        .stdout
        .lines()
        .find(|l| l.starts_with("lost: "))
        .unwrap_or_else(|| panic!("no lost line\n{exit}"));
    assert!(lost.contains("state queue_cache failed"), "{lost}\n{exit}");
    assert!(exit.stdout.contains("thing lost"), "{exit}");
}
