//! Jobs that are queued or in flight at the shutdown are saved and come back on the next boot.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, assert_state_saved};

#[test]
fn jobs_pending_at_sigterm_are_restored_on_the_next_boot() {
    let state = StateDir::new();
    // 50 jobs/s against two workers at 2 s per job: the queue only grows.
    let mut bot = Bot::start(&state, &["--jobs-per-sec", "50", "--job-ms", "2000"]);
    bot.wait_ready(READY_TIMEOUT);
    // Whole-process test: the queue lives inside the child and it prints nothing per job, so
    // let one second of real time pass for jobs to accumulate before the signal.
    std::thread::sleep(Duration::from_secs(1));
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);

    let summary = state.summary();
    let pending = summary["pending_jobs"]
        .as_u64()
        .unwrap_or_else(|| panic!("pending_jobs is a number\n{summary:#}"));
    assert!(
        pending > 0,
        "no pending jobs after 1 s at 50 jobs/s\n{summary:#}"
    );
    let saved = state.json("queue_cache.json")["data"]
        .as_array()
        .expect("queue_cache data is an array")
        .len();
    assert_eq!(
        saved as u64, pending,
        "queue_cache.json holds every pending job\n{summary:#}"
    );

    let mut next = Bot::start(&state, &["--jobs-per-sec", "0"]);
    let line = next.wait_for_line("restored", READY_TIMEOUT, |l| l.starts_with("restored "));
    assert_eq!(
        line,
        format!("restored {saved} queued jobs"),
        "{}",
        next.output_so_far()
    );
    next.wait_ready(READY_TIMEOUT);
    assert!(
        next.stdout_lines()
            .iter()
            .any(|l| l.contains("previous run shut down cleanly")),
        "{}",
        next.output_so_far()
    );
    next.signal(libc::SIGTERM);
    let exit = next.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
}
