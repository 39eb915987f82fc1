//! Every signal that ends the process ends it through the shutdown: SIGHUP (a closed
//! terminal) like SIGTERM, and a SIGTERM in the first milliseconds of the boot too.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

#[test]
#[ignore = "needs SIGHUP handled as a graceful shutdown by the library"]
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

#[test]
#[ignore = "needs signal handling installed before anything else at boot, from the library"]
fn sigterm_in_the_first_milliseconds_never_kills_the_bot_nor_leaves_its_lock() {
    for round in 0..30u64 {
        let state = StateDir::new();
        let mut bot = Bot::start(&state, &["--jobs-per-sec", "0"]);
        // 0 to 20 ms after the spawn, spread over the rounds.
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
