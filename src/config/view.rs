//! [`ConfigView`]: every setting of a [`Config`] read back under the setter's own name.

use std::path::Path;
use std::time::Duration;

use actix_shutdown_actors::{ExitCodes, LogOptions, StepTimeouts};

use super::Config;

/// The settings of a [`Config`], read-only, each under the name of its setter:
/// `config.grace(d)` sets it, `config.get().grace()` reads it.
///
/// Why a view: [`Config`]'s setters take `self` by value and carry the setting's name, so a
/// getter on `Config` itself cannot share that name; suffixes (`grace_value`, `grace_setting`)
/// would be one more name per setting to learn. [`Config::get`] gives every setting a getter
/// spelled exactly as its setter, with nothing to remember but `get()`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use actix_shutdown::Config;
///
/// let config = Config::default().grace(Duration::from_secs(20)).signals(false);
/// assert_eq!(config.get().grace(), Duration::from_secs(20));
/// assert!(!config.get().signals());
/// assert_eq!(config.get().stop_timeout(), None);
/// assert_eq!(config.get().exit_codes().restart, 75);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ConfigView<'a> {
    config: &'a Config,
}

macro_rules! getters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> $ty {
                self.config.$name
            }
        )*
    };
}

impl<'a> ConfigView<'a> {
    pub(super) fn new(config: &'a Config) -> Self {
        Self { config }
    }

    /// The state directory ([`Config::state_dir`]).
    pub fn state_dir(&self) -> &'a Path {
        &self.config.state_dir
    }

    getters! {
        /// [`Config::grace`].
        grace: Duration;
        /// [`Config::forced_budget`].
        forced_budget: Duration;
        /// [`Config::task_grace`].
        task_grace: Duration;
        /// [`Config::hook_budget`].
        hook_budget: Duration;
        /// [`Config::veto_retry`].
        veto_retry: Duration;
        /// [`Config::drain_timeout`].
        drain_timeout: Duration;
        /// [`Config::stop_timeout`]: `None` when it was not set.
        stop_timeout: Option<Duration>;
        /// [`Config::hard_margin`].
        hard_margin: Option<Duration>;
        /// [`Config::steps`].
        steps: StepTimeouts;
        /// [`Config::snapshot_timeout`].
        snapshot_timeout: Duration;
        /// [`Config::max_state_bytes`].
        max_state_bytes: u64;
        /// [`Config::close_timeout`].
        close_timeout: Duration;
        /// [`Config::autosave`].
        autosave: Option<Duration>;
        /// [`Config::exit_codes`].
        exit_codes: ExitCodes;
        /// [`Config::signals`].
        signals: bool;
        /// [`Config::stop_system`].
        stop_system: bool;
        /// [`Config::install_tracing`].
        install_tracing: bool;
        /// [`Config::console`].
        console: bool;
        /// [`Config::panic_hook`].
        panic_hook: bool;
    }

    /// [`Config::log`].
    pub fn log(&self) -> &'a LogOptions {
        &self.config.log
    }

    /// [`Config::version`].
    pub fn version(&self) -> &'a str {
        &self.config.version
    }

    /// The file names set by [`Config::file_names`]: lock, summary, exit marker.
    pub fn file_names(&self) -> (&'a str, &'a str, &'a str) {
        (
            &self.config.lock_file,
            &self.config.summary_file,
            &self.config.exit_marker_file,
        )
    }
}
