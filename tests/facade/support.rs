//! One configuration and one start for every facade test, and the paused System.

use std::path::Path;

use actix_shutdown::{BootReport, Config, Shutdown, ShutdownHandle};

/// A configuration that touches nothing global: no signals, no subscriber, no panic hook, and
/// a System that outlives the shutdown.
pub(crate) fn config(dir: &Path) -> Config {
    Config::default()
        .state_dir(dir.join("state"))
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false)
}

/// Starts an instance with [`config`], changed by `adjust`.
pub(crate) async fn start(
    dir: &Path,
    adjust: impl FnOnce(Config) -> Config,
) -> (ShutdownHandle, BootReport) {
    Shutdown::builder(adjust(config(dir)))
        .start()
        .await
        .expect("start")
}

/// The actor tests' paused System (one definition for both crates' tests).
#[path = "../../actors/tests/support/paused_system.rs"]
mod paused_system;
pub(crate) use paused_system::PausedSystem;
