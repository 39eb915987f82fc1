//! Installs the global `tracing` subscriber: full detail into the Logger's queue
//! (`logs/log.txt`), optionally warnings and errors on stderr. `RUST_LOG` filters the file
//! (default `info`).

use actix_shutdown_actors::LogQueue;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Returns false when another global subscriber was installed first (our records then go
/// wherever that one sends them).
pub(crate) fn install(queue: &LogQueue, console: bool) -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = fmt::layer()
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(queue.clone())
        .with_filter(filter);
    let console = console.then(|| {
        fmt::layer()
            .compact()
            .without_time()
            .with_target(false)
            .with_writer(std::io::stderr)
            .with_filter(tracing_subscriber::filter::LevelFilter::WARN)
    });
    tracing_subscriber::registry().with(file).with(console).try_init().is_ok()
}
