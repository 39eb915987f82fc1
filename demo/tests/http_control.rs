//! The HTTP control plane of the demo bot (`--http`), tested whole-process over plain HTTP/1.1
//! on loopback: readiness flips at closing, the token is enforced, bad bodies are refused, a
//! busy bot says "not ready" and keeps running, a forced request ends it.
#![cfg(all(unix, feature = "http"))]

#[path = "support/child.rs"]
mod child;

#[path = "support/http.rs"]
mod http;

use std::net::{SocketAddr, TcpStream};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, named};
use http::{IO_TIMEOUT, Response, exchange, http};
use serde_json::{Value, json};

const TOKEN: &str = "s3cret-token-for-tests";

/// A demo bot with the control plane on a free loopback port.
struct Plane {
    bot: Bot,
    addr: SocketAddr,
}

impl Plane {
    /// Boots `demo-bot --http 127.0.0.1:0 <args>` with `SHUTDOWN_TOKEN` set and reads the
    /// address it printed.
    fn start(state: &StateDir, args: &[&str]) -> Self {
        let mut all = vec!["--http", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut bot = Bot::start_with_env(state, &all, &[("SHUTDOWN_TOKEN", TOKEN)]);
        let line = bot.wait_for_line("control plane", READY_TIMEOUT, |l| {
            l.starts_with("control plane listening on ")
        });
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        bot.wait_ready(READY_TIMEOUT);
        Self { bot, addr }
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        http(self.addr, "GET", path, token, None)
    }

    fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> Response {
        http(self.addr, "POST", path, token, Some(body))
    }

    fn shutdown(&self, body: &Value) -> Value {
        let response = self.post("/shutdown", Some(TOKEN), body.to_string().as_bytes());
        assert_eq!(response.status, 200, "{response}");
        response.json()
    }
}

#[test]
fn readiness_flips_to_503_once_the_shutdown_begins() {
    let state = StateDir::new();
    // The hung task holds cancel_tasks for its grace (about 5 s): the server is still up while
    // the bot is closing.
    let mut plane = Plane::start(&state, &["--hang-task"]);
    assert_eq!(plane.get("/healthz", None).status, 200);
    let ready = plane.get("/readyz", None);
    assert_eq!(ready.status, 200, "{ready}");
    assert_eq!(ready.json()["ready"], true, "{ready}");
    let status = plane.get("/status", Some(TOKEN));
    assert_eq!(status.status, 200, "{status}");
    assert_eq!(status.json()["state"], "running", "{status}");

    let answer =
        plane.shutdown(&json!({"forced": false, "requestId": "drain-1", "reason": "deploy"}));
    assert_eq!(
        answer,
        json!({"requestId": "drain-1", "ready": true, "vetoedBy": []})
    );

    let ready = plane.get("/readyz", None);
    assert_eq!(ready.status, 503, "{ready}");
    assert_eq!(ready.json()["ready"], false, "{ready}");
    assert_eq!(
        plane.get("/healthz", None).status,
        200,
        "alive while closing"
    );
    let status = plane.get("/status", Some(TOKEN)).json();
    assert_eq!(status["state"], "closing", "{status:#}");
    assert_eq!(status["closing"], true, "{status:#}");
    assert!(
        status["step"].is_null()
            || ["begin", "drain", "cancel_tasks"].contains(&status["step"].as_str().unwrap_or("")),
        "{status:#}"
    );

    let exit = plane.bot.wait_exit(EXIT_TIMEOUT);
    // The hung task is aborted at its grace: a loss, so exit 1.
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["source"], "http", "{summary:#}");
    assert_eq!(summary["reason"], "deploy", "{summary:#}");
    assert_eq!(summary["forced"], false, "{summary:#}");
    assert_eq!(
        named(&summary, "resources", "name", "http")["outcome"],
        "completed",
        "{summary:#}"
    );
    assert!(
        TcpStream::connect_timeout(&plane.addr, IO_TIMEOUT).is_err(),
        "the control plane still listens after the exit"
    );
}

#[test]
fn requests_without_the_right_token_are_refused_with_401() {
    let state = StateDir::new();
    let plane = Plane::start(&state, &[]);
    let body = br#"{"forced":true,"requestId":"intruder"}"#;
    for (what, response) in [
        ("no token", plane.post("/shutdown", None, body)),
        ("wrong token", plane.post("/shutdown", Some("guess"), body)),
        (
            "a longer token",
            plane.post("/shutdown", Some(&format!("{TOKEN}x")), body),
        ),
        ("status without token", plane.get("/status", None)),
    ] {
        assert_eq!(response.status, 401, "{what}: {response}");
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{what}: {response}"
        );
        assert!(
            response.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("token")),
            "{what}: {response}"
        );
    }
    // The probes need no token, and nothing was shut down.
    assert_eq!(plane.get("/healthz", None).status, 200);
    let ready = plane.get("/readyz", None);
    assert_eq!(ready.status, 200, "{ready}");
    assert_eq!(plane.get("/status", Some(TOKEN)).json()["state"], "running");
}

#[test]
fn malformed_json_is_refused_with_400_and_a_reason() {
    let state = StateDir::new();
    let plane = Plane::start(&state, &[]);
    for (body, says) in [
        (&b"{\"forced\": tru"[..], "JSON"),
        (br#"{"forced": true}"#, "requestId"),
        (br#"{"forced": "yes", "requestId": "r"}"#, "forced"),
        (br#"{"forced": true, "requestId": ""}"#, "requestId"),
    ] {
        let response = plane.post("/shutdown", Some(TOKEN), body);
        assert_eq!(
            response.status,
            400,
            "{}: {response}",
            String::from_utf8_lossy(body)
        );
        let error = response.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains(says), "{error:?} should mention {says:?}");
    }
    assert_eq!(
        plane.get("/readyz", None).status,
        200,
        "a refused request does not shut down"
    );
}

#[test]
fn an_oversized_body_is_refused_with_413() {
    let state = StateDir::new();
    let plane = Plane::start(&state, &[]);
    let reason = "x".repeat(17 * 1024);
    let body = json!({"forced": true, "requestId": "huge", "reason": reason}).to_string();
    let response = plane.post("/shutdown", Some(TOKEN), body.as_bytes());
    assert_eq!(response.status, 413, "{response}");

    // Without a Content-Length the limit holds while the body streams in.
    let head = format!(
        "POST /shutdown HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        plane.addr
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).as_bytes());
    let response = exchange(plane.addr, &request);
    assert_eq!(response.status, 413, "chunked: {response}");
    assert_eq!(
        plane.get("/readyz", None).status,
        200,
        "a refused request does not shut down"
    );
}

#[test]
fn a_busy_bot_answers_not_ready_keeps_running_and_a_forced_request_ends_it() {
    let state = StateDir::new();
    let mut plane = Plane::start(
        &state,
        &["--busy-veto", "--jobs-per-sec", "20", "--job-ms", "5000"],
    );
    // Without jobs in flight the busy-guard has nothing to veto.
    plane.bot.wait_jobs_in_flight(2, READY_TIMEOUT);

    let answer = plane.shutdown(&json!({"forced": false, "requestId": "graceful-1"}));
    assert_eq!(
        answer,
        json!({"requestId": "graceful-1", "ready": false, "vetoedBy": ["busy-guard"]})
    );
    let ready = plane.get("/readyz", None);
    assert_eq!(
        ready.status, 200,
        "the bot keeps running after a veto: {ready}"
    );
    assert_eq!(plane.get("/status", Some(TOKEN)).json()["state"], "running");

    let answer =
        plane.shutdown(&json!({"forced": true, "requestId": "forced-1", "reason": "director"}));
    assert_eq!(
        answer,
        json!({"requestId": "forced-1", "ready": true, "vetoedBy": []})
    );
    let exit = plane.bot.wait_exit(EXIT_TIMEOUT);
    // Forced: the non-critical states are skipped, a loss the exit code owns up to.
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert_eq!(summary["source"], "http", "{summary:#}");
    assert_eq!(summary["reason"], "director", "{summary:#}");
    let veto = named(&summary, "vetoes", "hook", "busy-guard");
    assert_eq!(veto["request_id"], "graceful-1", "{summary:#}");
}

#[test]
fn a_forced_request_is_ready_at_once_and_the_bot_exits_1_naming_the_skipped_states() {
    let state = StateDir::new();
    let mut plane = Plane::start(&state, &[]);
    let answer = plane.shutdown(&json!({"forced": true, "requestId": "forced-2"}));
    assert_eq!(
        answer,
        json!({"requestId": "forced-2", "ready": true, "vetoedBy": []})
    );
    let exit = plane.bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["forced"], true, "{summary:#}");
    assert_eq!(
        summary["lost"],
        json!([
            "state reminder_tracking skipped (forced)",
            "state command_cache skipped (forced)"
        ]),
        "{summary:#}"
    );
    assert_eq!(summary["source"], "http", "{summary:#}");
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}

#[test]
fn a_restart_request_exits_with_the_restart_code() {
    let state = StateDir::new();
    let mut plane = Plane::start(&state, &[]);
    let answer =
        plane.shutdown(&json!({"forced": false, "requestId": "restart-1", "restart": true}));
    assert_eq!(answer["ready"], true, "{answer:#}");
    let exit = plane.bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 75, "{exit}");
    assert_eq!(state.summary()["restart"], true);
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let state = StateDir::new();
    // No SHUTDOWN_TOKEN (start_with_env removes the runner's): nothing is bound on 0.0.0.0.
    let mut bot = Bot::start_with_env(&state, &["--http", "0.0.0.0:0"], &[]);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 2, "{exit}");
    assert!(
        !state.file("exit_code").exists(),
        "refused before boot: no exit marker that could disagree with the exit code\n{exit}"
    );
    assert!(
        exit.stderr.contains("0.0.0.0:0"),
        "the error names the address\n{exit}"
    );
    assert!(
        exit.stderr.contains("SHUTDOWN_TOKEN"),
        "the error says what to do\n{exit}"
    );
    assert!(
        exit.stderr.contains("127.0.0.1"),
        "the error says what to do\n{exit}"
    );
    assert!(!exit.stdout.contains("control plane listening"), "{exit}");
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}
