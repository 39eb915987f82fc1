//! The demo bot under a stand-in service manager: the test binds its own `NOTIFY_SOCKET`
//! datagram socket and reads what the bot tells systemd.
#![cfg(all(unix, feature = "systemd"))]

#[path = "support/child.rs"]
mod child;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use child::{Bot, EXIT_TIMEOUT, READY_TIMEOUT, StateDir, entry};

/// The stand-in service manager's socket, read all the time by a thread of its own as systemd
/// reads it: a socket left unread fills after a dozen datagrams, and the bot's next
/// notification would then wait.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: PathBuf,
    heard: Arc<Heard>,
}

#[derive(Default)]
struct Heard {
    /// Every assignment received so far (`READY=1`, `STATUS=…`), in order.
    seen: Mutex<Vec<String>>,
    /// Reads that found the socket empty for a while: after the bot exits, two more mean
    /// everything it sent has been read.
    idle_reads: AtomicU64,
    changed: Condvar,
    stop: AtomicBool,
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
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let heard = Arc::new(Heard::default());
        let reader = Arc::clone(&heard);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while !reader.stop.load(Ordering::Relaxed) {
                match socket.recv(&mut buf) {
                    Ok(n) => {
                        let text = String::from_utf8_lossy(&buf[..n]);
                        reader
                            .seen
                            .lock()
                            .unwrap()
                            .extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        reader.idle_reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("recv on the notify socket: {e}"),
                }
                reader.changed.notify_all();
            }
        });
        Self {
            _dir: dir,
            path,
            heard,
        }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }

    /// Every assignment received so far, in order.
    fn seen(&self) -> Vec<String> {
        self.heard.seen.lock().unwrap().clone()
    }

    fn count(&self, assignment: &str) -> usize {
        self.seen().iter().filter(|l| *l == assignment).count()
    }

    /// Waits until `assignment` has been seen; panics with what was seen when it does not
    /// come within `timeout`.
    fn wait_for(&self, assignment: &str, timeout: Duration) {
        self.wait_for_times(assignment, 1, timeout);
    }

    /// Waits until `assignment` has been seen `times` times, within `timeout`.
    fn wait_for_times(&self, assignment: &str, times: usize, timeout: Duration) {
        let seen = self.heard.seen.lock().unwrap();
        let (seen, waited) = self
            .heard
            .changed
            .wait_timeout_while(seen, timeout, |seen| {
                seen.iter().filter(|l| *l == assignment).count() < times
            })
            .unwrap();
        assert!(
            !waited.timed_out(),
            "{assignment} not seen {times} times within {timeout:?}; seen: {seen:#?}"
        );
    }

    /// Waits until every datagram already sent has been read (after the bot has exited, all
    /// it sent is in the socket): the reader found the socket empty twice since the call.
    fn drain(&self) {
        let after = self.heard.idle_reads.load(Ordering::Relaxed) + 2;
        let seen = self.heard.seen.lock().unwrap();
        let (_seen, waited) = self
            .heard
            .changed
            .wait_timeout_while(seen, EXIT_TIMEOUT, |_| {
                self.heard.idle_reads.load(Ordering::Relaxed) < after
            })
            .unwrap();
        assert!(!waited.timed_out(), "the notify socket was never empty");
    }

    fn position(&self, assignment: &str) -> usize {
        let seen = self.seen();
        seen.iter()
            .position(|l| l == assignment)
            .unwrap_or_else(|| panic!("no {assignment} in {seen:#?}"))
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.heard.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn bot_tells_systemd_it_is_ready_then_stopping_with_each_step() {
    let state = StateDir::new();
    let notify = NotifySocket::bind();
    let mut bot = Bot::start_with_env(&state, &[], &[("NOTIFY_SOCKET", notify.path())]);
    bot.wait_ready(READY_TIMEOUT);
    notify.wait_for("READY=1", READY_TIMEOUT);
    assert!(
        notify.seen().iter().any(|l| l == "STATUS=running"),
        "{:#?}",
        notify.seen()
    );
    assert!(
        !notify.seen().iter().any(|l| l == "STOPPING=1"),
        "stopping before any signal: {:#?}",
        notify.seen()
    );

    bot.signal(libc::SIGTERM);
    notify.wait_for("STOPPING=1", EXIT_TIMEOUT);
    let exit = bot.wait_exit(EXIT_TIMEOUT);
    assert_eq!(exit.code(), 0, "{exit}");
    notify.drain();

    assert!(
        notify.position("READY=1") < notify.position("STOPPING=1"),
        "{:#?}",
        notify.seen()
    );
    let seen = notify.seen();
    let steps: Vec<&str> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("STATUS=shutting down: "))
        .collect();
    assert_eq!(steps, child::ALL_STEPS, "{:#?}", notify.seen());
    let extensions: Vec<u64> = notify
        .seen()
        .iter()
        .filter_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .map(|v| v.parse().expect("microseconds"))
        .collect();
    assert_eq!(
        extensions.len(),
        steps.len(),
        "one extension per step: {:#?}",
        notify.seen()
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
    let notify = NotifySocket::bind();
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
    let notify = NotifySocket::bind();
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
    assert_eq!(notify.count("WATCHDOG=1"), 0, "{:#?}", notify.seen());
    let summary = state.summary();
    assert!(
        !summary["tasks"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "systemd-watchdog")),
        "{summary:#}"
    );
}
