//! The demo bot under a stand-in service manager: the test binds its own `NOTIFY_SOCKET`
//! datagram socket and reads what the bot tells systemd.
#![cfg(all(unix, feature = "systemd"))]

#[path = "support/child.rs"]
mod child;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, entry};

/// The stand-in service manager's socket.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: PathBuf,
    socket: UnixDatagram,
    /// Every assignment received so far (`READY=1`, `STATUS=…`), in order.
    seen: Vec<String>,
}

impl NotifySocket {
    fn bind() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("notify-")
            .tempdir()
            .expect("temp dir");
        let path = dir.path().join("notify.sock");
        let socket =
            UnixDatagram::bind(&path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
        Self {
            _dir: dir,
            path,
            socket,
            seen: Vec::new(),
        }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }

    fn record(&mut self, datagram: &[u8]) {
        let text = String::from_utf8_lossy(datagram);
        self.seen
            .extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }

    fn count(&self, assignment: &str) -> usize {
        self.seen.iter().filter(|l| *l == assignment).count()
    }

    /// Reads datagrams until `assignment` has been seen; panics with what was seen when it
    /// does not come within `timeout`.
    fn wait_for(&mut self, assignment: &str, timeout: Duration) {
        self.wait_for_times(assignment, 1, timeout);
    }

    /// Reads datagrams until `assignment` has been seen `times` times, within `timeout`.
    fn wait_for_times(&mut self, assignment: &str, times: usize, timeout: Duration) {
        let until = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        while self.count(assignment) < times {
            let left = until.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{assignment} not seen {times} times within {timeout:?}; seen: {:#?}",
                self.seen
            );
            self.socket
                .set_read_timeout(Some(left))
                .expect("read timeout");
            match self.socket.recv(&mut buf) {
                Ok(n) => self.record(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("recv on the notify socket: {e}"),
            }
        }
    }

    /// Takes every datagram already queued (after the bot has exited, all it sent is there).
    fn drain(&mut self) {
        self.socket.set_nonblocking(true).expect("nonblocking");
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = self.socket.recv(&mut buf) {
            self.record(&buf[..n]);
        }
    }

    fn position(&self, assignment: &str) -> usize {
        self.seen
            .iter()
            .position(|l| l == assignment)
            .unwrap_or_else(|| panic!("no {assignment} in {:#?}", self.seen))
    }
}

#[test]
fn bot_tells_systemd_it_is_ready_then_stopping_with_each_step() {
    let state = StateDir::new();
    let mut notify = NotifySocket::bind();
    let mut bot = Bot::start_with_env(&state, &[], &[("NOTIFY_SOCKET", notify.path())]);
    bot.wait_ready(READY_TIMEOUT);
    notify.wait_for("READY=1", READY_TIMEOUT);
    assert!(
        notify.seen.iter().any(|l| l == "STATUS=running"),
        "{:#?}",
        notify.seen
    );
    assert!(
        !notify.seen.iter().any(|l| l == "STOPPING=1"),
        "stopping before any signal: {:#?}",
        notify.seen
    );

    bot.signal(libc::SIGTERM);
    notify.wait_for("STOPPING=1", EXIT_TIMEOUT);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    notify.drain();

    assert!(
        notify.position("READY=1") < notify.position("STOPPING=1"),
        "{:#?}",
        notify.seen
    );
    let steps: Vec<&str> = notify
        .seen
        .iter()
        .filter_map(|l| l.strip_prefix("STATUS=shutting down: "))
        .collect();
    assert_eq!(steps, child::ALL_STEPS, "{:#?}", notify.seen);
    let extensions: Vec<u64> = notify
        .seen
        .iter()
        .filter_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .map(|v| v.parse().expect("microseconds"))
        .collect();
    assert_eq!(
        extensions.len(),
        steps.len(),
        "one extension per step: {:#?}",
        notify.seen
    );
    // The default grace is 10 s and the hard margin 2 s: no extension asks for more than that
    // plus a second of slack, none for less than the slack.
    assert!(
        extensions
            .iter()
            .all(|&us| (1_000_000..=13_000_000).contains(&us)),
        "{extensions:?}"
    );
}

#[test]
fn watchdog_pings_arrive_when_the_unit_asks_for_them() {
    let state = StateDir::new();
    let mut notify = NotifySocket::bind();
    let mut bot = Bot::start_with_env(
        &state,
        &[],
        &[
            ("NOTIFY_SOCKET", notify.path()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    bot.wait_ready(READY_TIMEOUT);
    notify.wait_for("READY=1", READY_TIMEOUT);
    // Pings every 100 ms (half the period): three of them well within the bound.
    notify.wait_for_times("WATCHDOG=1", 3, READY_TIMEOUT);

    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    let summary = state.summary();
    assert_eq!(
        entry(&summary, "tasks", "systemd-watchdog")["outcome"],
        "cancelled",
        "{summary:#}"
    );
}

#[test]
fn a_watchdog_meant_for_another_process_is_left_alone() {
    let state = StateDir::new();
    let mut notify = NotifySocket::bind();
    let mut bot = Bot::start_with_env(
        &state,
        &[],
        &[
            ("NOTIFY_SOCKET", notify.path()),
            ("WATCHDOG_USEC", "200000"),
            ("WATCHDOG_PID", "1"),
        ],
    );
    bot.wait_ready(READY_TIMEOUT);
    notify.wait_for("READY=1", READY_TIMEOUT);
    bot.signal(libc::SIGTERM);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    notify.drain();
    assert_eq!(notify.count("WATCHDOG=1"), 0, "{:#?}", notify.seen);
    let summary = state.summary();
    assert!(
        !summary["tasks"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "systemd-watchdog")),
        "{summary:#}"
    );
}
