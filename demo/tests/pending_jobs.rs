//! Jobs that are queued or in flight at the shutdown are saved and come back on the next boot.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, assert_state_saved};

#[test]
fn jobs_pending_at_sigterm_are_restored_on_the_next_boot() {
    let state = StateDir::new();
    // 50 jobs/s against two workers at 2 s per job: the queue only grows.
    let mut bot = Bot::start(&state, &["--jobs-per-sec", "50", "--job-ms", "2000"]);
    bot.wait_ready(READY_TIMEOUT);
    bot.wait_heartbeat(
        "heartbeat with jobs in flight and queued",
        READY_TIMEOUT,
        |beat| beat.in_flight > 0 && beat.queued > 0,
    );
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
        "no pending jobs although the heartbeat showed some\n{summary:#}"
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

#[test]
fn saved_jobs_from_the_future_too_old_or_duplicated_are_dropped_and_counted() {
    let state = StateDir::new();
    std::fs::create_dir_all(state.path()).expect("state dir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let day = 24 * 3600 * 1000;
    let job =
        |id: u64, at: u64| serde_json::json!({"id": id, "created_at_ms": at, "command": "/ping"});
    let envelope = serde_json::json!({
        "schema": 1,
        "name": "queue_cache",
        "saved_at": "2026-01-01T00:00:00Z",
        "data": [job(1, now), job(2, now), job(2, now), job(3, now + day), job(4, now - 2 * day)],
    });
    std::fs::write(state.file("queue_cache.json"), envelope.to_string()).expect("queue cache");
    let mut bot = Bot::start(&state, &["--jobs-per-sec", "0", "--job-ms", "60000"]);
    let dropped = bot.wait_for_line("dropped jobs", READY_TIMEOUT, |l| l.contains("dropped"));
    assert!(
        dropped.contains("dropped 3: 1 from the future, 1 too old, 1 duplicate"),
        "{dropped}"
    );
    let restored = bot.wait_for_line("restored", READY_TIMEOUT, |l| l.contains("restored"));
    assert!(restored.contains("restored 2 queued jobs"), "{restored}");
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    let saved = state.json("queue_cache.json");
    let ids: Vec<u64> = saved["data"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["id"].as_u64())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [1, 2],
        "only the valid jobs come back and are saved again: {ids:?}"
    );
}
