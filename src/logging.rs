//! Installs the global `tracing` subscriber: full detail into the Logger's queue
//! (`logs/log.txt`), ERROR records also into the crash log (`logs/crash.log`, written
//! synchronously), optionally a concise console on stderr. `RUST_LOG` filters the file
//! (default `info`); `CONSOLE_LOG` filters the console with the same syntax (default `warn`).
//!
//! Every field of every record goes through [`EscapedFields`]: a reason or a name that comes
//! from outside cannot start a new line or carry a terminal escape. The console has colours
//! only when stderr is a terminal.

use std::io::IsTerminal as _;

use actix_shutdown_actors::{CrashLog, EscapedFields, LogQueue};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Returns false when another global subscriber was installed first (our records then go
/// wherever that one sends them).
pub(crate) fn install(queue: &LogQueue, crash: &CrashLog, console: bool) -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = fmt::layer()
        .fmt_fields(EscapedFields)
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(queue.clone())
        .with_filter(filter);
    let crash = fmt::layer()
        .fmt_fields(EscapedFields)
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(crash.clone())
        .with_filter(LevelFilter::ERROR);
    let console = console.then(|| {
        fmt::layer()
            .fmt_fields(EscapedFields)
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .without_time()
            .with_target(false)
            .with_writer(std::io::stderr)
            .with_filter(
                EnvFilter::try_from_env("CONSOLE_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
            )
    });
    tracing_subscriber::registry()
        .with(file)
        .with(crash)
        .with(console)
        .try_init()
        .is_ok()
}
