//! Every signal that ends the process ends it through the shutdown: SIGHUP (a closed
//! terminal) like SIGTERM, and a SIGTERM in the first milliseconds of the process too (from
//! the moment it runs code of its own).
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

#[test]
fn sighup_shuts_down_gracefully_and_exits_0() {
    let state = StateDir::new();
    let mut bot = Bot::start(&state, &[]);
    bot.wait_ready(READY_TIMEOUT);
    bot.signal(libc::SIGHUP);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    let summary = state.summary();
    assert_eq!(summary["reason"], "signal:SIGHUP", "{summary:#}");
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}

/// Waits until the process `pid` holds SIGTERM back or catches it (bit 15 of `SigBlk` or
/// `SigCgt` in `/proc/<pid>/status`): the point from which it can answer a signal at all.
/// Before that the kernel is still loading the program (a few milliseconds for a large debug
/// binary) and a signal takes its default action whatever the program does.
#[cfg(target_os = "linux")]
fn wait_until_it_can_hold_signals(pid: i32) {
    let term_bit = 1u64 << (libc::SIGTERM - 1);
    let until = std::time::Instant::now() + READY_TIMEOUT;
    while std::time::Instant::now() < until {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let holds = status.lines().any(|line| {
            let Some((key, mask)) = line.split_once(':') else {
                return false;
            };
            (key == "SigBlk" || key == "SigCgt")
                && u64::from_str_radix(mask.trim(), 16).is_ok_and(|m| m & term_bit != 0)
        });
        if holds {
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    panic!("pid {pid} never blocked nor caught SIGTERM");
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_in_the_first_milliseconds_never_kills_the_bot_nor_leaves_its_lock() {
    for round in 0..30u64 {
        let state = StateDir::new();
        let mut bot = Bot::start(&state, &["--jobs-per-sec", "0"]);
        wait_until_it_can_hold_signals(bot.pid());
        // 0 to 20 ms after that, spread over the rounds: during the parsing of the command
        // line, the boot, the opening of the database.
        std::thread::sleep(Duration::from_micros(round * 20_000 / 29));
        bot.signal(libc::SIGTERM);
        let exit = bot.wait_exit(EXIT_TIMEOUT);
        assert!(
            exit.status.code().is_some(),
            "round {round}: killed by the signal ({:?})\n{exit}",
            exit.status
        );
        assert!(
            !state.file("bot.lock").exists(),
            "round {round}: bot.lock left behind\n{exit}"
        );
    }
}
