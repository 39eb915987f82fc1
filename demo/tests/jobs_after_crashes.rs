//! A bot killed again and again (SIGKILL) between autosaves comes back to a queue snapshot
//! that still holds jobs it has since finished: the next boot must neither run them into the
//! database's unique ids nor stall its workers; jobs keep completing.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, entry};

/// Fast jobs, a slow autosave: at each kill the saved queue is older than the database.
const BUSY: [&str; 6] = [
    "--jobs-per-sec",
    "200",
    "--job-ms",
    "5",
    "--persist-every",
    "300",
];

#[test]
fn jobs_still_complete_after_a_stretch_of_sigkills() {
    let state = StateDir::new();
    for round in 0..4 {
        let mut bot = Bot::start(&state, &BUSY);
        bot.wait_ready(READY_TIMEOUT);
        // Jobs were done since this boot (and at least one autosave ran before them).
        bot.wait_heartbeat(
            &format!("round {round}: jobs done"),
            READY_TIMEOUT,
            |beat| beat.done > 0,
        );
        bot.signal(libc::SIGKILL);
        let exit = bot.wait_exit(EXIT_TIMEOUT);
        assert_eq!(
            exit.status.code(),
            None,
            "round {round}: killed, not exited\n{exit}"
        );
    }

    let mut bot = Bot::start(&state, &BUSY);
    bot.wait_ready(READY_TIMEOUT);
    let first = bot.wait_heartbeat("a heartbeat", READY_TIMEOUT, |_| true);
    let later = bot.wait_heartbeat("jobs still completing", READY_TIMEOUT, |beat| {
        beat.done >= first.done + 20
    });
    assert!(later.done > first.done, "{}", bot.output_so_far());
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert!(
        !exit.stderr.contains("UNIQUE constraint"),
        "a job id collided with a stored one\n{exit}"
    );
    let summary = state.summary();
    for worker in ["worker-1", "worker-2"] {
        let task = entry(&summary, "tasks", worker);
        assert_eq!(task["outcome"], "cancelled", "{summary:#}");
        assert_eq!(task["restarts"], 0, "{worker} never failed\n{summary:#}");
    }
}
