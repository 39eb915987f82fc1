//! A `demo-bot` child process for whole-process tests: spawned on a state directory of its
//! own, its stdout forwarded line by line, its stderr collected, its exit awaited with a
//! bound. A child that is still running when its [`Bot`] is dropped is killed, so no orphan
//! survives a failed test.
//!
//! Included from each test file with `#[path = "support/child.rs"] mod child;`; not every
//! file uses every helper.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Bound for a boot to print its `ready` line (real time on a loaded machine).
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound for a shutdown that should be quick.
pub(crate) const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The state files the demo bot registers.
pub(crate) const STATE_FILES: [&str; 4] = [
    "queue_cache.json",
    "reminder_tracking.json",
    "dm_scheduled_tracker.json",
    "command_cache.json",
];

/// Every step of a shutdown, in order.
pub(crate) const ALL_STEPS: [&str; 9] = [
    "begin",
    "drain",
    "cancel_tasks",
    "flush_logs",
    "persist_state",
    "close_resources",
    "write_summary",
    "release_lock",
    "stop_logging",
];

/// The steps `last_shutdown.json` lists, in order (it is written during `write_summary`).
pub(crate) const SUMMARY_STEPS: &[&str] = ALL_STEPS.split_at(7).0;

/// A temporary directory holding a state directory `<tmp>/state` (not created: the bot
/// creates it).
pub(crate) struct StateDir {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl StateDir {
    /// A fresh temporary directory; the state directory inside it does not exist yet.
    pub(crate) fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("demo-bot-test-")
            .tempdir()
            .expect("create a temp dir");
        let path = tmp.path().join("state");
        Self { _tmp: tmp, path }
    }

    /// `<tmp>/state`.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A file in the state directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The parsed JSON of a file in the state directory (panics naming the file otherwise).
    pub(crate) fn json(&self, name: &str) -> Value {
        read_json(&self.file(name))
    }

    /// `last_shutdown.json`.
    pub(crate) fn summary(&self) -> Value {
        self.json("last_shutdown.json")
    }

    /// The text of a file in the state directory.
    pub(crate) fn text(&self, name: &str) -> String {
        let path = self.file(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// The archives boot made of the file `name` (`<name>.broken.<UTC timestamp>`).
    pub(crate) fn archives_of(&self, name: &str) -> Vec<PathBuf> {
        let prefix = format!("{name}.broken.");
        std::fs::read_dir(self.path())
            .expect("read the state dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .collect()
    }
}

/// Reads and parses a JSON file, panicking with the file name and content on failure.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

/// The entry named `name` in the array `report[list]` (e.g. a step, task or resource).
pub(crate) fn entry<'a>(report: &'a Value, list: &str, name: &str) -> &'a Value {
    named(report, list, "name", name)
}

/// The entry whose `key` is `value` in the array `report[list]`.
pub(crate) fn named<'a>(report: &'a Value, list: &str, key: &str, value: &str) -> &'a Value {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("`{list}` is not an array in {report:#}"))
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no {list} entry with {key} {value:?} in {report:#}"))
}

/// The counts of the demo's heartbeat line
/// (`heartbeat: taken 12, done 10, in flight 2, queued 3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    /// Jobs taken by a worker since boot.
    pub(crate) taken: u64,
    /// Jobs done since boot.
    pub(crate) done: u64,
    /// Jobs in flight.
    pub(crate) in_flight: u64,
    /// Jobs waiting.
    pub(crate) queued: u64,
}

impl Heartbeat {
    /// The counts of a heartbeat line; `None` for any other line.
    pub(crate) fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("heartbeat: ")?;
        let mut beat = Self::default();
        for part in rest.split(", ") {
            let (name, value) = part.rsplit_once(' ')?;
            let value = value.parse().ok()?;
            match name {
                "taken" => beat.taken = value,
                "done" => beat.done = value,
                "in flight" => beat.in_flight = value,
                "queued" => beat.queued = value,
                _ => return None,
            }
        }
        Some(beat)
    }
}

/// How a child ended and everything it printed.
#[derive(Debug)]
pub(crate) struct Exit {
    /// The exit status.
    pub(crate) status: ExitStatus,
    /// All of stdout.
    pub(crate) stdout: String,
    /// All of stderr.
    pub(crate) stderr: String,
}

impl Exit {
    /// The exit code; panics (with the output) when the child was ended by a signal.
    pub(crate) fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| {
            panic!(
                "the child was ended by a signal ({:?})\n{self}",
                self.status
            )
        })
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A running `demo-bot`.
pub(crate) struct Bot {
    child: Child,
    pid: i32,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stdout_open: bool,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    exited: Receiver<()>,
    reaped: bool,
}

impl Bot {
    /// Spawns `demo-bot <args> --state-dir <state>`.
    pub(crate) fn start(state: &StateDir, args: &[&str]) -> Self {
        Self::start_with_env(state, args, &[])
    }

    /// As [`start`](Self::start), with these environment variables. The variables the
    /// integrations read (`SHUTDOWN_TOKEN`, `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`)
    /// are removed first, so the test runner's own never reach the bot.
    pub(crate) fn start_with_env(state: &StateDir, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_demo-bot"));
        command.args(args).arg("--state-dir").arg(state.path());
        for name in [
            "SHUTDOWN_TOKEN",
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
        ] {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        Self::spawn(command)
    }

    /// Spawns `demo-bot <args>` exactly as given.
    pub(crate) fn start_raw(args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_demo-bot"));
        command.args(args);
        Self::spawn(command)
    }

    /// Spawns a command prepared by the test (e.g. with a `pre_exec` limit).
    pub(crate) fn start_command(command: Command) -> Self {
        Self::spawn(command)
    }

    fn spawn(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG");
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {command:?}: {e}"));
        let pid = i32::try_from(child.id()).expect("pid fits in i32");

        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });

        // Waits for the exit *without reaping* (WNOWAIT): only `Child::wait` reaps, so the pid
        // cannot be reused while this struct may still signal it.
        let (done, exited) = mpsc::channel();
        std::thread::spawn(move || {
            loop {
                // SAFETY: siginfo_t is plain data; waitid only writes into it.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                // SAFETY: a valid pointer to a siginfo_t and a pid we spawned.
                let rc = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid as libc::id_t,
                        &mut info,
                        libc::WEXITED | libc::WNOWAIT,
                    )
                };
                if rc == 0
                    || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    let _ = done.send(());
                    return;
                }
            }
        });

        Self {
            child,
            pid,
            lines,
            stdout: Vec::new(),
            stdout_open: true,
            stderr,
            stderr_reader: Some(stderr_reader),
            exited,
            reaped: false,
        }
    }

    /// The child's pid.
    pub(crate) fn pid(&self) -> i32 {
        self.pid
    }

    /// Stdout lines received so far.
    pub(crate) fn stdout_lines(&self) -> &[String] {
        &self.stdout
    }

    /// Everything printed so far, for failure messages.
    pub(crate) fn output_so_far(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.join("\n"),
            self.stderr.lock().unwrap_or_else(|p| p.into_inner())
        )
    }

    /// Waits for the next stdout line that satisfies `pred`; returns it. Panics with all
    /// output so far when it does not come within `timeout` or stdout closes first.
    pub(crate) fn wait_for_line(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    self.stdout.push(line.clone());
                    if hit {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "demo-bot (pid {}) printed no {what} line within {timeout:?}\n{}",
                    self.pid,
                    self.output_so_far()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    self.stdout_open = false;
                    panic!(
                        "demo-bot (pid {}) closed stdout before printing a {what} line\n{}",
                        self.pid,
                        self.output_so_far()
                    )
                }
            }
        }
    }

    /// Waits until stderr holds a line that satisfies `pred` (stderr is read by a thread of its
    /// own; this looks at what it gathered, every 10 ms). Panics with all output so far when
    /// none comes within `timeout`.
    pub(crate) fn wait_for_stderr(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) {
        let until = Instant::now() + timeout;
        while !self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lines()
            .any(&pred)
        {
            assert!(
                Instant::now() < until,
                "demo-bot (pid {}) printed no {what} line on stderr within {timeout:?}\n{}",
                self.pid,
                self.output_so_far()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the `ready` line: true once it came, false when stdout closed first (the
    /// boot was refused). Panics when neither happens within `timeout`.
    pub(crate) fn ready_or_closed(&mut self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let ready = line
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w == "ready");
                    self.stdout.push(line);
                    if ready {
                        return true;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "demo-bot (pid {}) neither got ready nor closed stdout within {timeout:?}\n{}",
                    self.pid,
                    self.output_so_far()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    self.stdout_open = false;
                    return false;
                }
            }
        }
    }

    /// Waits for the line containing the word `ready` (the end of the boot).
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> String {
        self.wait_for_line("`ready`", timeout, |line| {
            line.split(|c: char| !c.is_alphanumeric())
                .any(|w| w == "ready")
        })
    }

    /// Waits for a heartbeat line whose counts satisfy `pred`; returns those counts.
    pub(crate) fn wait_heartbeat(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Heartbeat) -> bool,
    ) -> Heartbeat {
        let line = self.wait_for_line(what, timeout, |line| {
            Heartbeat::parse(line).is_some_and(|beat| pred(&beat))
        });
        Heartbeat::parse(&line).expect("the line matched as a heartbeat")
    }

    /// Waits until `n` jobs or more are in flight (taken by a worker, not done), as the
    /// heartbeat says.
    pub(crate) fn wait_jobs_in_flight(&mut self, n: u64, timeout: Duration) -> Heartbeat {
        self.wait_heartbeat(
            &format!("heartbeat with {n} job(s) in flight"),
            timeout,
            |beat| beat.in_flight >= n,
        )
    }

    /// Sends `sig` to the child (it must not have been reaped yet).
    pub(crate) fn signal(&self, sig: libc::c_int) {
        assert!(!self.reaped, "signal to a child that was already reaped");
        // SAFETY: kill has no memory effects; the pid is our unreaped child.
        let rc = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(
            rc,
            0,
            "kill({}, {sig}): {}",
            self.pid,
            std::io::Error::last_os_error()
        );
    }

    /// Waits up to `timeout` for the child to exit; `None` when it is still running.
    pub(crate) fn exited_within(&mut self, timeout: Duration) -> Option<Exit> {
        match self.exited.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => Some(self.collect()),
            Err(RecvTimeoutError::Timeout) => None,
        }
    }

    /// Waits up to `timeout` for the child to exit and returns its code and output; panics
    /// with all output so far when it is still running (the child is then killed on drop).
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Exit {
        match self.exited_within(timeout) {
            Some(exit) => exit,
            None => panic!(
                "demo-bot (pid {}) did not exit within {timeout:?}\n{}",
                self.pid,
                self.output_so_far()
            ),
        }
    }

    /// Reaps the exited child and gathers the rest of its output.
    fn collect(&mut self) -> Exit {
        let status = self.child.wait().expect("wait for the exited child");
        self.reaped = true;
        // The pipes close when the process is gone; the bound only guards against a
        // grandchild holding them open.
        let until = Instant::now() + Duration::from_secs(10);
        while self.stdout_open {
            match self
                .lines
                .recv_timeout(until.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.stdout.push(line),
                Err(_) => self.stdout_open = false,
            }
        }
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let mut stdout = self.stdout.join("\n");
        stdout.push('\n');
        let stderr = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Exit {
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `demo-bot <args>` to completion (e.g. the `report` subcommand), bounded by
/// [`EXIT_TIMEOUT`].
pub(crate) fn run(args: &[&str]) -> Exit {
    let mut bot = Bot::start_raw(args);
    bot.wait_exit(EXIT_TIMEOUT)
}

/// Asserts the common ending of a clean shutdown: every state file written with its
/// envelope, the lock gone, the exit marker and summary written.
pub(crate) fn assert_state_saved(state: &StateDir, exit: &Exit) {
    for file in STATE_FILES {
        let json = state.json(file);
        let name = file.trim_end_matches(".json");
        assert_eq!(json["schema"], 1, "{file}: schema\n{json:#}\n{exit}");
        assert_eq!(json["name"], name, "{file}: name\n{json:#}\n{exit}");
        assert!(
            json["saved_at"].as_str().is_some_and(|s| !s.is_empty()),
            "{file}: saved_at\n{json:#}\n{exit}"
        );
        assert!(json.get("data").is_some(), "{file}: data\n{json:#}\n{exit}");
    }
    assert!(
        !state.file("bot.lock").exists(),
        "bot.lock is still there\n{exit}"
    );
}
