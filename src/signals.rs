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

/// Installs the handlers now (so that a signal right after start is not missed) and listens
/// on a thread of its own: the third signal ends the process even when the actor thread is
/// blocked (say, by a synchronous hook or closer).
pub(crate) fn listen(handle: ShutdownHandle) -> std::io::Result<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("actix-shutdown-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut signals = match Signals::install() {
                    Ok(signals) => {
                        let _ = ready_tx.send(Ok(()));
                        signals
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let mut count = 0;
                while let Some(name) = signals.next().await {
                    count += 1;
                    act(&handle, name, count);
                }
            });
        })?;
    ready_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .map_err(|_| std::io::Error::other("the signal thread did not start within 10 s"))?
}

/// The signals that ask for a shutdown on this platform.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Some("SIGINT"),
            Some(()) = self.terminate.recv() => Some("SIGTERM"),
            else => None,
        }
    }
}

/// The signals that ask for a shutdown on this platform.
#[cfg(windows)]
struct Signals {
    ctrl_c: tokio::signal::windows::CtrlC,
    ctrl_break: tokio::signal::windows::CtrlBreak,
}

#[cfg(windows)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Self {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
            ctrl_break: tokio::signal::windows::ctrl_break()?,
        })
    }

    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            Some(()) = self.ctrl_c.recv() => Some("CTRL_C"),
            Some(()) = self.ctrl_break.recv() => Some("CTRL_BREAK"),
            else => None,
        }
    }
}
