//! Configuration of a [`Shutdown`](crate::Shutdown): where files go, how long each part of the
//! shutdown may take, which exit codes mean what. Every name and bound is configurable;
//! [`Config::validate`] refuses what cannot work. One thing: the settings, one documented
//! setter each, and their validation; the getters are in `view`, the errors in `error`.

use std::path::PathBuf;
use std::time::Duration;

use actix_shutdown_actors::{ExitCodes, LogOptions, StepTimeouts, defaults};

mod error;
mod view;

pub use error::ConfigError;
pub use view::ConfigView;

/// Where files go and how long each part of the shutdown may take. Start from
/// [`Config::default`] and change what you need.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use actix_shutdown::Config;
///
/// let config = Config::default()
///     .state_dir("state")
///     .grace(Duration::from_secs(20))
///     .autosave(Some(Duration::from_secs(30)));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) state_dir: PathBuf,
    pub(crate) lock_file: String,
    pub(crate) summary_file: String,
    pub(crate) exit_marker_file: String,
    pub(crate) log_dir: String,
    pub(crate) log_file: String,
    pub(crate) crash_file: String,
    pub(crate) grace: Duration,
    pub(crate) forced_budget: Duration,
    pub(crate) task_grace: Duration,
    pub(crate) hook_budget: Duration,
    pub(crate) veto_retry: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) stop_timeout: Option<Duration>,
    pub(crate) hard_margin: Option<Duration>,
    pub(crate) steps: StepTimeouts,
    pub(crate) snapshot_timeout: Duration,
    pub(crate) max_state_bytes: u64,
    pub(crate) close_timeout: Duration,
    pub(crate) autosave: Option<Duration>,
    pub(crate) exit_codes: ExitCodes,
    pub(crate) signals: bool,
    pub(crate) stop_system: bool,
    pub(crate) install_tracing: bool,
    pub(crate) console: bool,
    pub(crate) panic_hook: bool,
    pub(crate) log: LogOptions,
    pub(crate) version: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            state_dir: PathBuf::from(defaults::STATE_DIR),
            lock_file: defaults::LOCK_FILE.into(),
            summary_file: defaults::SUMMARY_FILE.into(),
            exit_marker_file: defaults::EXIT_MARKER_FILE.into(),
            log_dir: defaults::LOG_DIR.into(),
            log_file: defaults::LOG_FILE.into(),
            crash_file: defaults::CRASH_FILE.into(),
            grace: defaults::GRACE,
            forced_budget: defaults::FORCED_BUDGET,
            task_grace: defaults::TASK_GRACE,
            hook_budget: defaults::HOOK_BUDGET,
            veto_retry: defaults::VETO_RETRY,
            drain_timeout: defaults::DRAIN_TIMEOUT,
            stop_timeout: None,
            hard_margin: Some(defaults::HARD_MARGIN),
            steps: StepTimeouts::default(),
            snapshot_timeout: defaults::SNAPSHOT_TIMEOUT,
            max_state_bytes: defaults::MAX_STATE_BYTES,
            close_timeout: defaults::CLOSE_TIMEOUT,
            autosave: None,
            exit_codes: ExitCodes::default(),
            signals: true,
            stop_system: true,
            install_tracing: true,
            console: false,
            panic_hook: true,
            log: LogOptions::default(),
            version: String::new(),
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

/// The longest duration a setting takes (a day): longer ones are a mistake (say, a
/// `Duration::MAX` meant as "no limit") that would overflow deadlines.
const LONGEST_SECS: u64 = 24 * 60 * 60;

impl Config {
    /// The state directory (default `./state`); created owner-only (0700) at start.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::Config;
    ///
    /// let config = Config::default().state_dir("/var/lib/my-bot");
    /// assert_eq!(config.lock_path(), std::path::Path::new("/var/lib/my-bot/bot.lock"));
    /// ```
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    setter!(
        /// Overall deadline of a graceful shutdown (default 10 s).
        grace: Duration
    );
    setter!(
        /// Deadline once the shutdown is forced (default 3 s; at most `grace`).
        forced_budget: Duration
    );
    setter!(
        /// Default time a task gets between cancellation and abort (default 5 s; a task never
        /// gets more than half of what is left of the deadline).
        task_grace: Duration
    );
    setter!(
        /// Time each shutdown hook may take (default 10 s, a director's request timeout).
        hook_budget: Duration
    );
    setter!(
        /// How often the hooks are asked again while they defer an inevitable request (a
        /// signal, a forced request) (default 100 ms): the run starts within about this long of
        /// the last veto lifting.
        veto_retry: Duration
    );
    setter!(
        /// Time each drain participant (a server, the tracked futures, a drainer) may take to
        /// finish its work in flight at the `drain` step (default 5 s; capped by the deadline).
        /// One that does not finish is `timed_out` and the run is not clean.
        drain_timeout: Duration
    );

    /// The orchestrator's SIGKILL deadline after it asks the bot to stop (`docker stop`'s
    /// 10 s, systemd's `TimeoutStopSec`, Kubernetes' `terminationGracePeriodSeconds`). When set,
    /// a signal that hooks defer is forced early enough that the forced run and the hard margin
    /// end before it, with a second to spare for the hard deadline's last writes
    /// ([`KILL_SLACK`](actix_shutdown_actors::defaults::KILL_SLACK)), and no run's deadline
    /// passes it. It must exceed `forced_budget` + `hard_margin` + that second
    /// ([`validate`](Self::validate) refuses it otherwise). Default: none (the Botica
    /// integration sets 10 s when none is set).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use actix_shutdown::Config;
    ///
    /// let config = Config::default().stop_timeout(Duration::from_secs(10));
    /// assert!(config.validate().is_ok());
    /// // 3 s forced budget + 2 s hard margin + 1 s for the last writes: 6 s is not enough.
    /// assert!(Config::default().stop_timeout(Duration::from_secs(6)).validate().is_err());
    /// ```
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = Some(timeout);
        self
    }

    setter!(
        /// Time past the deadline before the hard-deadline thread ends the process even if the
        /// actor thread is blocked (default 2 s); `None` disables the thread.
        hard_margin: Option<Duration>
    );
    setter!(
        /// Per-step timeouts, each capped by the deadline.
        ///
        /// # Examples
        /// ```
        /// use std::time::Duration;
        /// use actix_shutdown::{Config, StepTimeouts};
        ///
        /// let mut steps = StepTimeouts::default();
        /// steps.persist_state = Duration::from_secs(8); // a large state on a slow disk
        /// let config = Config::default().grace(Duration::from_secs(20)).steps(steps);
        /// assert!(config.validate().is_ok());
        /// ```
        steps: StepTimeouts
    );
    setter!(
        /// Time each state source has to produce its snapshot (default 2 s).
        snapshot_timeout: Duration
    );
    setter!(
        /// Largest state file read at boot (default 256 MiB): a larger one is archived
        /// `.broken.<UTC timestamp>` with its size in the boot report, not read.
        max_state_bytes: u64
    );
    setter!(
        /// Default time each resource has to close (default 5 s).
        close_timeout: Duration
    );
    setter!(
        /// Persist all state this often while running (default: never; only at shutdown).
        autosave: Option<Duration>
    );
    setter!(
        /// Exit codes (default 0 / 75 / 1 / 73 / 2).
        ///
        /// # Examples
        /// ```
        /// use actix_shutdown::{Config, ExitCodes};
        ///
        /// let mut codes = ExitCodes::default();
        /// codes.restart = 3; // what this bot's supervisor restarts on
        /// let config = Config::default().exit_codes(codes);
        /// assert_eq!(config.get().exit_codes().restart, 3);
        /// ```
        exit_codes: ExitCodes
    );
    setter!(
        /// Listen to SIGINT, SIGTERM and SIGHUP (Ctrl+C/Ctrl+Break on Windows) (default on):
        /// the first asks for a graceful shutdown, the second forces it, the third exits at
        /// once. Off for tests and for programs that handle signals themselves (then call
        /// [`ShutdownHandle::request`](crate::ShutdownHandle::request) from your handler).
        ///
        /// # Examples
        /// ```
        /// use actix_shutdown::Config;
        ///
        /// let config = Config::default().signals(false).stop_system(false);
        /// assert!(!config.get().signals());
        /// ```
        signals: bool
    );
    setter!(
        /// Stop the actix System with the exit code when the shutdown is done (default on).
        stop_system: bool
    );
    setter!(
        /// Install the global `tracing` subscriber that feeds the Logger (default on). Off:
        /// compose your own with [`ShutdownHandle::log_queue`](crate::ShutdownHandle::log_queue).
        install_tracing: bool
    );
    setter!(
        /// Also print a concise console log on stderr, filtered by `CONSOLE_LOG` (same syntax
        /// as `RUST_LOG`, default `warn`) (default off).
        console: bool
    );
    setter!(
        /// Write panics (message, location, thread, backtrace) to `logs/crash.log`, fsynced,
        /// before the previous panic hook runs (default on).
        panic_hook: bool
    );
    setter!(
        /// Log queue capacity, lossy mode, fsync at flush.
        log: LogOptions
    );

    /// The version written into the lock file.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::Config;
    ///
    /// let config = Config::default().version(env!("CARGO_PKG_VERSION"));
    /// assert_eq!(config.get().version(), env!("CARGO_PKG_VERSION"));
    /// ```
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Names of the files in the state directory: lock, summary, exit marker.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::Config;
    ///
    /// let config = Config::default().file_names("my-bot.lock", "my-bot-last.json", "my-bot.exit");
    /// assert!(config.summary_path().ends_with("my-bot-last.json"));
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn file_names(
        mut self,
        lock: impl Into<String>,
        summary: impl Into<String>,
        exit_marker: impl Into<String>,
    ) -> Self {
        self.lock_file = lock.into();
        self.summary_file = summary.into();
        self.exit_marker_file = exit_marker.into();
        self
    }

    /// Every setting, read back under its setter's name: `config.get().grace()`. See
    /// [`ConfigView`] for why getters live there.
    pub fn get(&self) -> ConfigView<'_> {
        ConfigView::new(self)
    }

    /// Path of the lock file.
    pub fn lock_path(&self) -> PathBuf {
        self.state_dir.join(&self.lock_file)
    }

    /// Path of `last_shutdown.json`.
    pub fn summary_path(&self) -> PathBuf {
        self.state_dir.join(&self.summary_file)
    }

    /// Path of the exit marker.
    pub fn exit_marker_path(&self) -> PathBuf {
        self.state_dir.join(&self.exit_marker_file)
    }

    /// Path of the log file.
    pub fn log_path(&self) -> PathBuf {
        self.state_dir.join(&self.log_dir).join(&self.log_file)
    }

    /// Path of the crash log (ERROR records and panics).
    pub fn crash_log_path(&self) -> PathBuf {
        self.state_dir.join(&self.log_dir).join(&self.crash_file)
    }

    /// Stems of the library's own files in the state directory (summary, lock, marker): no
    /// state may take these names.
    pub(crate) fn own_file_stems(&self) -> Vec<String> {
        [
            &self.summary_file,
            &self.lock_file,
            &self.exit_marker_file,
            &self.log_dir,
        ]
        .iter()
        .map(|name| name.strip_suffix(".json").unwrap_or(name).to_owned())
        .collect()
    }

    /// Checks every value.
    ///
    /// # Errors
    /// The first value that cannot work, named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let durations = [
            ("grace", self.grace),
            ("forced_budget", self.forced_budget),
            ("task_grace", self.task_grace),
            ("hook_budget", self.hook_budget),
            ("veto_retry", self.veto_retry),
            ("drain_timeout", self.drain_timeout),
            ("snapshot_timeout", self.snapshot_timeout),
            ("close_timeout", self.close_timeout),
            ("steps.cancel_tasks", self.steps.cancel_tasks),
            ("steps.flush_logs", self.steps.flush_logs),
            ("steps.persist_state", self.steps.persist_state),
            ("steps.close_resources", self.steps.close_resources),
            ("steps.write_summary", self.steps.write_summary),
            ("steps.release_lock", self.steps.release_lock),
            ("steps.stop_logging", self.steps.stop_logging),
        ];
        let longest = Duration::from_secs(LONGEST_SECS);
        let optional = [
            ("stop_timeout", self.stop_timeout),
            ("hard_margin", self.hard_margin),
            ("autosave", self.autosave),
        ];
        for (field, value) in durations
            .into_iter()
            .chain(optional.into_iter().filter_map(|(f, v)| Some((f, v?))))
        {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration { field });
            }
            if value > longest {
                return Err(ConfigError::TooLong { field, value });
            }
        }
        let codes = self.exit_codes;
        for (field, code) in [
            ("exit_codes.clean", codes.clean),
            ("exit_codes.restart", codes.restart),
            ("exit_codes.failed", codes.failed),
            ("exit_codes.already_running", codes.already_running),
            ("exit_codes.config", codes.config),
        ] {
            if !(0..=255).contains(&code) {
                return Err(ConfigError::ExitCodeOutOfRange { field, code });
            }
        }
        if self.forced_budget > self.grace {
            return Err(ConfigError::ForcedBudgetAboveGrace {
                forced: self.forced_budget,
                grace: self.grace,
            });
        }
        if let Some(stop_timeout) = self.stop_timeout {
            let hard_margin = self.hard_margin.unwrap_or_default();
            let slack = if self.hard_margin.is_some() {
                defaults::KILL_SLACK
            } else {
                Duration::ZERO
            };
            if stop_timeout <= self.forced_budget + hard_margin + slack {
                return Err(ConfigError::StopTimeoutTooShort {
                    stop_timeout,
                    forced_budget: self.forced_budget,
                    hard_margin,
                    slack,
                });
            }
        }
        let names = [
            ("lock_file", &self.lock_file),
            ("summary_file", &self.summary_file),
            ("exit_marker_file", &self.exit_marker_file),
            ("log_dir", &self.log_dir),
            ("log_file", &self.log_file),
            ("crash_file", &self.crash_file),
        ];
        for (field, value) in names {
            if value.is_empty() || value.contains(['/', '\\']) || value == ".." || value == "." {
                return Err(ConfigError::BadFileName {
                    field,
                    value: value.clone(),
                });
            }
        }
        if self.state_dir.exists() && !self.state_dir.is_dir() {
            return Err(ConfigError::StateDirNotDirectory {
                path: self.state_dir.clone(),
            });
        }
        Ok(())
    }
}
