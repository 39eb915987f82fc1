//! A hook that blocks the actor thread while an inevitable request waits on it cannot keep the
//! process alive: the hard deadline is armed when the request arrives (for the time its run
//! would end forced), ends the process with 1 and leaves a summary that says no step ran.
//!
//! Whole-process: the test runs itself again as the bot (`BLOCKING_HOOK_STATE_DIR` set), since
//! the hard deadline ends the process it is in.
#![cfg(unix)]

use std::process::Command;
use std::time::{Duration, Instant};

use actix_shutdown::{Config, RequestSource, Shutdown, ShutdownRequest};

const STATE_DIR_VAR: &str = "BLOCKING_HOOK_STATE_DIR";

/// The bot: grace 1 s, forced budget 1 s, hard margin 1 s; an async hook that blocks the
/// actor thread for two minutes; then a SIGTERM-like request to itself.
fn run_the_bot(state_dir: &str) {
    actix_rt::System::new().block_on(async {
        let config = Config::default()
            .state_dir(state_dir)
            .grace(Duration::from_secs(1))
            .forced_budget(Duration::from_secs(1))
            .hard_margin(Some(Duration::from_secs(1)))
            .signals(false)
            .install_tracing(false)
            .panic_hook(false);
        let (handle, _boot) = Shutdown::builder(config).start().await.expect("boot");
        // Blocking code in an async hook (a synchronous client called from it, say) holds
        // the actor thread: the Supervisor's timers do not run while it does.
        handle.on_shutdown_request_async("blocks-its-thread", |_request, _response| async {
            std::thread::sleep(Duration::from_secs(120));
            Ok::<(), std::io::Error>(())
        });
        handle.request_detached(ShutdownRequest::graceful(
            RequestSource::Signal,
            "signal:SIGTERM",
        ));
        handle.wait().await;
    });
    // Reached only when the hook returned: the hard deadline did not end the process.
    std::process::exit(0);
}

#[test]
fn a_hook_blocking_the_actor_thread_is_ended_by_the_hard_deadline_with_a_summary() {
    if let Ok(dir) = std::env::var(STATE_DIR_VAR) {
        run_the_bot(&dir);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    let started = Instant::now();
    let exit = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "a_hook_blocking_the_actor_thread_is_ended_by_the_hard_deadline_with_a_summary",
            "--nocapture",
        ])
        .env(STATE_DIR_VAR, &state)
        .output()
        .expect("the bot runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&exit.stderr);
    assert_eq!(exit.status.code(), Some(1), "{stderr}");
    // Ended by the deadline (about 3 s after the request), not by the hook returning (120 s).
    assert!(took < Duration::from_secs(100), "{took:?}\n{stderr}");
    assert!(stderr.contains("hard shutdown deadline passed"), "{stderr}");

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("last_shutdown.json")).expect("a summary"),
    )
    .expect("JSON");
    assert_eq!(summary["exit_code"], 1, "{summary:#}");
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert_eq!(summary["reason"], "signal:SIGTERM", "{summary:#}");
    let steps = summary["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 9, "{summary:#}");
    assert!(
        steps.iter().all(|s| s["outcome"] == "skipped"),
        "no step ran: {summary:#}"
    );
    assert!(
        !state.join("bot.lock").exists(),
        "the summary is written: the lock goes"
    );
}
