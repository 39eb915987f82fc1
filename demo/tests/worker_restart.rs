//! A worker that fails (its database write is refused) gives its job back and is restarted by
//! the TaskMonitor: the job is done after all and the bot keeps working.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

/// Job 3 is refused once by the database, through a trigger that remembers it fired.
const FAIL_JOB_3_ONCE: &str = "
    CREATE TABLE jobs_done (id INTEGER PRIMARY KEY, command TEXT NOT NULL, finished_ms INTEGER NOT NULL);
    CREATE TABLE failed_once (id INTEGER PRIMARY KEY);
    CREATE TRIGGER fail_job_3_once BEFORE INSERT ON jobs_done
    WHEN NEW.id = 3 AND NOT EXISTS (SELECT 1 FROM failed_once)
    BEGIN
        INSERT INTO failed_once VALUES (3);
        SELECT RAISE(FAIL, 'simulated write failure');
    END;";

#[test]
fn a_failed_worker_is_restarted_and_its_job_is_done_after_all() {
    let state = StateDir::new();
    std::fs::create_dir_all(state.path()).expect("state dir");
    let db = rusqlite::Connection::open(state.file("bot.db")).expect("bot.db");
    db.execute_batch(FAIL_JOB_3_ONCE).expect("schema");
    drop(db);

    let mut bot = Bot::start(&state, &["--jobs-per-sec", "20", "--job-ms", "10"]);
    bot.wait_ready(READY_TIMEOUT);
    // The restart waits out a backoff of 1 s; the jobs go on meanwhile in the other worker.
    bot.wait_heartbeat("jobs done after the failure", READY_TIMEOUT, |beat| {
        beat.done >= 30
    });
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let summary = state.summary();
    let restarts: u64 = ["worker-1", "worker-2"]
        .iter()
        .map(|w| {
            child::entry(&summary, "tasks", w)["restarts"]
                .as_u64()
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(restarts, 1, "one worker failed once\n{summary:#}");
    let db = rusqlite::Connection::open(state.file("bot.db")).expect("bot.db");
    let fired: i64 = db
        .query_row("SELECT COUNT(*) FROM failed_once", [], |r| r.get(0))
        .expect("failed_once");
    assert_eq!(fired, 1, "the write of job 3 was refused once");
    let done: i64 = db
        .query_row("SELECT COUNT(*) FROM jobs_done WHERE id = 3", [], |r| {
            r.get(0)
        })
        .expect("jobs_done");
    assert_eq!(done, 1, "job 3 was given back and done after all\n{exit}");
}
