//! Every default in one place: the library's [`Config`](../actix_shutdown/struct.Config.html)
//! and the actors' own configurations start from these, and the docs quote them.

use std::time::Duration;

/// Overall deadline of a graceful shutdown.
pub const GRACE: Duration = Duration::from_secs(10);
/// Deadline of a forced shutdown, from the moment it becomes forced.
pub const FORCED_BUDGET: Duration = Duration::from_secs(3);
/// Grace of one task between its cancellation and its abort.
pub const TASK_GRACE: Duration = Duration::from_secs(5);
/// Time one shutdown hook may take to answer.
pub const HOOK_BUDGET: Duration = Duration::from_secs(10);
/// How often an inevitable request that hooks vetoed is asked again.
pub const VETO_RETRY: Duration = Duration::from_millis(100);
/// Time one drain participant may take to finish its work in flight.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Time the hard-deadline thread allows past the deadline before it ends the process.
pub const HARD_MARGIN: Duration = Duration::from_secs(2);
/// The longest the last resort takes to leave its traces (summary, exit marker, logs, lock)
/// before a watchdog ends the process anyway: a hung disk cannot keep it alive.
pub const LAST_RESORT_BOUND: Duration = Duration::from_millis(800);
/// Time kept free before the orchestrator's kill (`stop_timeout`), past the hard deadline, for
/// the last resort (at most [`LAST_RESORT_BOUND`]) and the process's exit: the hard deadline
/// fires this much before the SIGKILL, not at the same moment.
pub const KILL_SLACK: Duration = Duration::from_secs(1);
/// Time every step still gets once the deadline is exhausted (forced mode).
pub const MIN_STEP_TIME: Duration = Duration::from_millis(250);
/// Time one state source may take to hand over its snapshot.
pub const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time one resource's closer may take.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest state file read at boot (256 MiB); a larger one is archived, not read.
pub const MAX_STATE_BYTES: u64 = 256 * 1024 * 1024;

/// The state directory, relative to the working directory.
pub const STATE_DIR: &str = "state";
/// The singleton lock file.
pub const LOCK_FILE: &str = "bot.lock";
/// The last shutdown's summary.
pub const SUMMARY_FILE: &str = "last_shutdown.json";
/// The exit marker, written early for watchdogs and again at the end.
pub const EXIT_MARKER_FILE: &str = "exit_code";
/// The log directory inside the state directory.
pub const LOG_DIR: &str = "logs";
/// The log file inside the log directory.
pub const LOG_FILE: &str = "log.txt";
/// The crash log inside the log directory.
pub const CRASH_FILE: &str = "crash.log";
