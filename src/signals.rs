//! OS signals: the first SIGINT/SIGTERM (Ctrl+C/Ctrl+Break on Windows) asks for a graceful
//! shutdown, the second forces it, the third ends the process at once. The platform code sits
//! behind [`listen`].

use actix_shutdown_actors::{RequestSource, ShutdownRequest};

use crate::ShutdownHandle;

/// What the n-th signal does.
fn act(handle: &ShutdownHandle, name: &str, count: u32) {
    match count {
        1 => {
            tracing::info!("{name} received: graceful shutdown");
            handle.request_detached(ShutdownRequest::graceful(
                RequestSource::Signal,
                format!("signal:{name}"),
            ));
        }
        2 => {
            tracing::warn!("second {name}: forcing the shutdown");
            handle.request_detached(ShutdownRequest::forced(
                RequestSource::Signal,
                format!("signal:{name}"),
            ));
        }
        _ => {
            tracing::error!("third {name}: exiting at once");
            handle.emergency_exit(&format!("third signal ({name}) during the shutdown"));
        }
    }
}

/// Installs the handlers now (so that a signal right after start is not missed) and spawns
/// the loop on the current actix arbiter.
#[cfg(unix)]
pub(crate) fn listen(handle: ShutdownHandle) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    actix_rt::spawn(async move {
        let mut count = 0;
        loop {
            let name = tokio::select! {
                Some(()) = interrupt.recv() => "SIGINT",
                Some(()) = terminate.recv() => "SIGTERM",
                else => return,
            };
            count += 1;
            act(&handle, name, count);
        }
    });
    Ok(())
}

/// Installs the handlers now and spawns the loop on the current actix arbiter.
#[cfg(windows)]
pub(crate) fn listen(handle: ShutdownHandle) -> std::io::Result<()> {
    use tokio::signal::windows::{ctrl_break, ctrl_c};
    let mut c = ctrl_c()?;
    let mut brk = ctrl_break()?;
    actix_rt::spawn(async move {
        let mut count = 0;
        loop {
            let name = tokio::select! {
                Some(()) = c.recv() => "CTRL_C",
                Some(()) = brk.recv() => "CTRL_BREAK",
                else => return,
            };
            count += 1;
            act(&handle, name, count);
        }
    });
    Ok(())
}
