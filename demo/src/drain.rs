//! Draining the bot's own server before the state is persisted, with what the library offers
//! today: a task whose cancellation (at `cancel_tasks`, before `persist_state`) stops the
//! server gracefully and waits for its requests in flight, within the drain budget.

use std::time::Duration;

use actix_shutdown::{CancellationToken, ShutdownHandle, TaskError, TaskOptions};

/// Runs `server` and drains it at the shutdown: it stops accepting, its requests in flight
/// finish (within `drain`), then the state is persisted.
pub(crate) fn serve(
    shutdown: &ShutdownHandle,
    name: &str,
    server: actix_web::dev::Server,
    drain: Duration,
) -> Result<(), TaskError> {
    let handle = server.handle();
    actix::spawn(async move {
        if let Err(e) = server.await {
            eprintln!("demo-bot: server stopped: {e}");
        }
    });
    let options = TaskOptions {
        // A second of margin over actix-web's own shutdown timeout.
        grace: Some(drain + Duration::from_secs(1)),
        ..TaskOptions::default()
    };
    shutdown
        .tasks()
        .spawn_with(name, options, move |cancel: CancellationToken| {
            let handle = handle.clone();
            async move {
                cancel.cancelled().await;
                handle.stop(true).await;
            }
        })
}
