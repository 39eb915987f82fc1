//! The bot's own API (`--api`): a request in flight when the shutdown begins completes and its
//! job is saved; a request that comes once draining began is refused, never half-done; stored
//! jobs are found by id, across a restart.
#![cfg(all(unix, feature = "http"))]

#[path = "support/child.rs"]
mod child;
#[path = "support/http.rs"]
mod http;

use std::net::SocketAddr;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};
use http::{Response, http, request, try_exchange};

/// Boots `demo-bot --api 127.0.0.1:0 --jobs-per-sec 0` and reads the address it printed.
fn start_api(state: &StateDir) -> (Bot, SocketAddr) {
    start_api_with(state, &[])
}

/// As [`start_api`], with more arguments.
fn start_api_with(state: &StateDir, more: &[&str]) -> (Bot, SocketAddr) {
    let mut args = vec!["--api", "127.0.0.1:0", "--jobs-per-sec", "0"];
    args.extend_from_slice(more);
    let mut bot = Bot::start(state, &args);
    let line = bot.wait_for_line("api listening", READY_TIMEOUT, |l| {
        l.starts_with("api listening on ")
    });
    let addr = line
        .trim_start_matches("api listening on ")
        .split_whitespace()
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    bot.wait_ready(READY_TIMEOUT);
    (bot, addr)
}

/// `POST /jobs {"work_ms": work_ms}`.
fn post_job(addr: SocketAddr, work_ms: u64) -> Response {
    let body = format!(r#"{{"work_ms": {work_ms}}}"#);
    http(addr, "POST", "/jobs", None, Some(body.as_bytes()))
}

/// The id of a stored job from a `POST /jobs` answer (asserting 200 and `stored`).
fn stored_id(response: &Response) -> String {
    assert_eq!(response.status, 200, "{response}");
    let json = response.json();
    assert_eq!(json["stored"], true, "{response}");
    json["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {response}"))
        .to_owned()
}

#[test]
fn a_request_in_flight_at_sigterm_gets_200_and_its_job_is_saved() {
    let state = StateDir::new();
    let (mut bot, addr) = start_api(&state);
    let client = std::thread::spawn(move || post_job(addr, 2000));
    bot.wait_for_line("api job started", READY_TIMEOUT, |l| {
        l.starts_with("api: job ")
    });
    bot.signal(libc::SIGTERM);
    bot.wait_for_line("begin step", EXIT_TIMEOUT, |l| l.contains("] begin"));

    // Draining has begun: a new request is refused (503 or no connection), never run.
    let late = request(addr, "POST", "/jobs", None, Some(br#"{"work_ms": 10}"#));
    match try_exchange(addr, &late) {
        Err(_) => {}
        Ok(response) => assert_eq!(response.status, 503, "late request: {response}"),
    }

    let answer = client.join().expect("the client thread");
    let id = stored_id(&answer);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    let saved = state.json("api_jobs.json");
    assert_eq!(saved["name"], "api_jobs", "{saved:#}");
    assert_eq!(
        saved["data"][&id]["work_ms"], 2000,
        "the job of the request in flight is saved\n{saved:#}\n{exit}"
    );
    let jobs = saved["data"].as_object().expect("data is an object");
    assert_eq!(jobs.len(), 1, "only the request in flight ran\n{saved:#}");
    let summary = state.summary();
    assert_eq!(
        child::entry(&summary, "drains", "api")["outcome"],
        "completed",
        "{summary:#}"
    );
}

#[test]
fn stored_jobs_are_found_by_id_across_a_restart_and_unknown_ids_are_404() {
    let state = StateDir::new();
    let (mut bot, addr) = start_api(&state);
    let id = stored_id(&post_job(addr, 10));
    let found = http(addr, "GET", &format!("/jobs/{id}"), None, None);
    assert_eq!(found.status, 200, "{found}");
    assert_eq!(found.json()["job"]["work_ms"], 10, "{found}");
    let missing = http(addr, "GET", "/jobs/no-such-job", None, None);
    assert_eq!(missing.status, 404, "{missing}");
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let (mut bot, addr) = start_api(&state);
    let found = http(addr, "GET", &format!("/jobs/{id}"), None, None);
    assert_eq!(found.status, 200, "the job survives the restart: {found}");
    let second = stored_id(&post_job(addr, 10));
    assert_ne!(second, id, "a new job gets a new id");
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
}

#[test]
fn a_request_still_running_at_the_drain_deadline_is_cut_off_never_answered_200_unsaved() {
    let state = StateDir::new();
    // A resource that takes 3 s to close keeps the run going after the state is persisted.
    let (mut bot, addr) = start_api_with(&state, &["--block-close", "3"]);
    // 20 s of work against the 5 s drain budget (actix-web's own shutdown timeout is set a
    // second under it): cut off however late the signal comes after the job started. Before
    // the fix a request outliving the drain still got its 200 after the state was persisted.
    let client = std::thread::spawn(move || {
        let body = br#"{"work_ms": 20000}"#;
        try_exchange(addr, &request(addr, "POST", "/jobs", None, Some(body)))
    });
    bot.wait_for_line("api job started", READY_TIMEOUT, |l| {
        l.starts_with("api: job ")
    });
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "a drain that timed out is a loss\n{exit}");
    let answer = client.join().expect("the client thread");
    if let Ok(response) = &answer {
        assert_ne!(
            response.status, 200,
            "a 200 for a job that was not saved: {response}"
        );
    }
    let summary = state.summary();
    assert_ne!(
        child::entry(&summary, "drains", "api")["outcome"],
        "completed",
        "{summary:#}"
    );
    let saved = state.json("api_jobs.json");
    assert!(
        saved["data"].as_object().is_none_or(|jobs| jobs.is_empty()),
        "the cut-off job is not saved\n{saved:#}"
    );
}
