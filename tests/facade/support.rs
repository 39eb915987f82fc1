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

/// An actix System on a current-thread runtime whose clock starts paused, for
/// `#[actix_rt::test(system = "PausedSystem")]` (started paused, not paused later, so that
/// deadlines fall on the timer's grid and exact durations can be asserted).
pub(crate) struct PausedSystem;

impl PausedSystem {
    #[expect(
        clippy::new_ret_no_self,
        reason = "the shape `#[actix_rt::test(system)]` calls"
    )]
    pub(crate) fn new() -> actix_rt::SystemRunner {
        actix_rt::System::with_tokio_rt(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a paused current-thread runtime")
        })
    }
}
