//! A stale lock left by a dead process, and two instances started at the same moment: one
//! takes the lock over, the other exits 73, and its message names the live winner or no pid
//! at all, never the dead process whose lock file it may have read before the winner wrote
//! its own.
#![cfg(unix)]

#[path = "support/child.rs"]
mod child;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir};

const ROUNDS: usize = 50;

/// The pid of a process that has ended (spawned and reaped here).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("reap true");
    pid
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// A state directory with the lock file a crashed run left: it names `pid`.
fn with_stale_lock(pid: u32) -> StateDir {
    let state = StateDir::new();
    std::fs::create_dir(state.path()).unwrap();
    let lock = serde_json::json!({
        "pid": pid,
        "started_at": "2026-11-26T08:00:00.000Z",
        "hostname": hostname(),
        "exe": env!("CARGO_BIN_EXE_demo-bot"),
        "version": "0.1.0",
    });
    std::fs::write(state.file("bot.lock"), lock.to_string()).unwrap();
    state
}

#[test]
fn a_loser_of_a_race_over_a_stale_lock_never_names_the_dead_holder() {
    let mut named_winner = 0;
    for round in 0..ROUNDS {
        let dead = dead_pid();
        let state = with_stale_lock(dead);
        let mut a = Bot::start(&state, &[]);
        let mut b = Bot::start(&state, &[]);
        let a_ready = a.ready_or_closed(READY_TIMEOUT);
        let b_ready = b.ready_or_closed(READY_TIMEOUT);
        assert!(
            a_ready != b_ready,
            "round {round}: exactly one instance gets ready\n{}\n{}",
            a.output_so_far(),
            b.output_so_far()
        );
        let (mut winner, mut loser) = if a_ready { (a, b) } else { (b, a) };

        let refused = loser.wait_exit(EXIT_TIMEOUT);
        assert_eq!(refused.code(), 73, "round {round}\n{refused}");
        assert!(
            !refused.stderr.contains(&format!("pid {dead} ")),
            "round {round}: the loser names the dead pid {dead}\n{refused}"
        );
        let names_winner = refused.stderr.contains(&format!("pid {} ", winner.pid()));
        let names_nobody = refused.stderr.contains("could not be identified")
            && refused.stderr.contains("fuser -v ");
        assert!(
            names_winner || names_nobody,
            "round {round}: names neither the winner {} nor nobody\n{refused}",
            winner.pid()
        );
        named_winner += usize::from(names_winner);

        winner.signal(libc::SIGTERM);
        let exit = winner.wait_exit(EXIT_TIMEOUT);
        assert_eq!(exit.code(), 0, "round {round}\n{exit}");
    }
    eprintln!("{named_winner} of {ROUNDS} losers named the winner; the others named nobody");
}
