//! A signal on a running demo bot: the whole shutdown runbook, seen from outside the process
//! (exit code, state directory, summary, log).
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::{Duration, Instant};

use child::{
    Bot, EXIT_TIMEOUT, READY_TIMEOUT, STATE_FILES, SUMMARY_STEPS, StateDir, assert_state_saved,
    entry,
};

/// Boots the bot, sends `sig`, and checks everything a clean signal shutdown leaves behind.
fn shuts_down_cleanly_on(sig: libc::c_int, name: &str) {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(sig);
    let exit = bot.wait_exit(EXIT_TIMEOUT);

    assert_eq!(exit.code(), 0, "{exit}");
    assert_state_saved(&state, &exit);
    assert_eq!(state.text("exit_code").trim(), "0", "{exit}");

    let summary = state.summary();
    assert_eq!(summary["version"], 2, "{summary:#}");
    assert_eq!(summary["clean"], true, "{summary:#}");
    assert_eq!(summary["lost"], serde_json::json!([]), "{summary:#}");
    assert_eq!(summary["reason"], format!("signal:{name}"), "{summary:#}");
    assert_eq!(summary["source"], "signal", "{summary:#}");
    assert_eq!(summary["forced"], false, "{summary:#}");
    assert_eq!(summary["escalated"], false, "{summary:#}");
    assert_eq!(summary["restart"], false, "{summary:#}");
    assert_eq!(summary["exit_code"], 0, "{summary:#}");
    let steps: Vec<&str> = summary["steps"]
        .as_array()
        .expect("steps is an array")
        .iter()
        .map(|s| s["name"].as_str().expect("step name"))
        .collect();
    assert_eq!(steps, SUMMARY_STEPS, "{summary:#}");
    for step in summary["steps"].as_array().expect("steps") {
        assert_eq!(step["outcome"], "completed", "{step:#}\n{summary:#}");
    }
    for task in ["producer", "worker-1", "worker-2", "reminders"] {
        assert_eq!(
            entry(&summary, "tasks", task)["outcome"],
            "cancelled",
            "{summary:#}"
        );
    }
    assert_eq!(
        entry(&summary, "resources", "db")["outcome"],
        "completed",
        "{summary:#}"
    );

    let log = state.text("logs/log.txt");
    assert!(
        log.lines().any(|l| l.contains("release_lock")),
        "logs/log.txt has no release_lock line:\n{log}"
    );
    assert!(exit.stdout.contains("shutdown summary"), "{exit}");
}

#[test]
fn sigterm_saves_every_state_releases_the_lock_and_exits_0() {
    shuts_down_cleanly_on(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_shuts_down_like_sigterm() {
    shuts_down_cleanly_on(libc::SIGINT, "SIGINT");
}

#[test]
fn state_directory_and_its_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let state = StateDir::new();
    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    let lock_mode =
        std::fs::metadata(state.file("bot.lock")).expect("bot.lock exists while running");
    assert_eq!(lock_mode.permissions().mode() & 0o777, 0o600, "bot.lock");
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");

    let mode = |name: &str| {
        let path = state.file(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the state directory");
    assert_eq!(mode("logs"), 0o700, "logs/");
    for file in
        STATE_FILES
            .into_iter()
            .chain(["last_shutdown.json", "exit_code", "logs/log.txt", "bot.db"])
    {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

#[test]
fn hung_task_is_aborted_at_its_deadline_and_named_in_what_was_lost() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &["--hang-task", "--grace", "3"]);
    bot.wait_ready(READY_TIMEOUT);
    let signalled = Instant::now();
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    let took = signalled.elapsed();

    // Grace 3 s: the shutdown must end by then; 3 s of margin for a loaded machine.
    assert!(
        took < Duration::from_secs(6),
        "exit took {took:?} after SIGTERM\n{exit}"
    );
    // A task aborted is a loss: not clean, exit 1, and the loss named.
    assert_eq!(exit.code(), 1, "{exit}");
    let summary = state.summary();
    assert_eq!(
        entry(&summary, "tasks", "stuck-sync")["outcome"],
        "aborted",
        "{summary:#}"
    );
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert!(
        summary["lost"]
            .as_array()
            .is_some_and(|lost| lost.iter().any(|l| l
                .as_str()
                .is_some_and(|l| l.starts_with("task stuck-sync aborted")))),
        "{summary:#}"
    );
    assert_eq!(state.text("exit_code").trim(), "1", "{exit}");
    assert!(exit.stdout.contains("exit code 1: 1 thing lost"), "{exit}");
    for task in ["producer", "worker-1", "worker-2", "reminders"] {
        assert_eq!(
            entry(&summary, "tasks", task)["outcome"],
            "cancelled",
            "{summary:#}"
        );
    }
    assert_state_saved(&state, &exit);
}

#[test]
fn a_closed_stdout_does_not_break_the_shutdown() {
    use std::io::{BufRead, BufReader};
    let state = StateDir::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_demo-bot"))
        .args(["--jobs-per-sec", "0", "--state-dir"])
        .arg(state.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn demo-bot");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.contains("ready") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("read stdout") > 0,
            "stdout closed before ready"
        );
    }
    // Whoever read the progress is gone (a `| head`, a closed terminal).
    drop(stdout);
    // SAFETY: kill has no memory effects; the pid is our unreaped child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx
        .recv_timeout(EXIT_TIMEOUT)
        .expect("the bot exits")
        .expect("wait");
    assert_eq!(status.code(), Some(0), "{status:?}");
    let summary = state.summary();
    assert_eq!(summary["exit_code"], 0, "{summary:#}");
    assert!(!state.file("bot.lock").exists());
}
