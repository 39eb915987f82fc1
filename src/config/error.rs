//! What [`Config::validate`](super::Config::validate) refuses, each naming the setting and
//! what to do.

use std::path::PathBuf;
use std::time::Duration;

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A duration longer than a day.
    #[error(
        "invalid configuration: {field} = {value:?} is longer than a day; shutdown deadlines are seconds to minutes"
    )]
    TooLong {
        /// The setting.
        field: &'static str,
        /// The value.
        value: Duration,
    },
    /// An exit code a process cannot return.
    #[error("invalid configuration: {field} = {code} is not an exit code (0 to 255)")]
    ExitCodeOutOfRange {
        /// The setting.
        field: &'static str,
        /// The value.
        code: i32,
    },
    /// A duration that must be positive is zero.
    #[error("invalid configuration: {field} must be greater than zero")]
    ZeroDuration {
        /// The setting.
        field: &'static str,
    },
    /// The state directory path names something that is not a directory.
    #[error(
        "invalid configuration: the state directory {path} exists and is not a directory; pick another path"
    )]
    StateDirNotDirectory {
        /// The path.
        path: PathBuf,
    },
    /// A file name that is empty or contains a path separator.
    #[error(
        "invalid configuration: {field} = {value:?} must be a plain file name (no path separators, not empty)"
    )]
    BadFileName {
        /// The setting.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// `stop_timeout` leaves no room for a forced run and the hard margin before the
    /// orchestrator's kill.
    #[error(
        "invalid configuration: stop_timeout ({stop_timeout:?}) must exceed forced_budget ({forced_budget:?}) + hard_margin ({hard_margin:?}) + {slack:?} for the hard deadline's last writes, or the orchestrator kills the bot before a forced shutdown can end; raise stop_timeout (and the orchestrator's: TimeoutStopSec, terminationGracePeriodSeconds, docker stop -t) or lower forced_budget"
    )]
    StopTimeoutTooShort {
        /// The stop timeout.
        stop_timeout: Duration,
        /// The forced budget.
        forced_budget: Duration,
        /// The hard margin (zero without a hard deadline).
        hard_margin: Duration,
        /// What the hard deadline keeps free before the kill for its last writes
        /// ([`KILL_SLACK`](actix_shutdown_actors::defaults::KILL_SLACK); zero without one).
        slack: Duration,
    },
    /// The forced budget is longer than the grace.
    #[error("invalid configuration: forced_budget ({forced:?}) must not exceed grace ({grace:?})")]
    ForcedBudgetAboveGrace {
        /// The forced budget.
        forced: Duration,
        /// The grace.
        grace: Duration,
    },
}
