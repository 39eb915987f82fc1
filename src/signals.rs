//! OS signals: the first SIGINT, SIGTERM or SIGHUP (Ctrl+C/Ctrl+Break on Windows) asks for a
//! graceful shutdown (inevitable: `is_closing` turns true at once), the second forces it, the
//! third ends the process at once. The handlers are installed before anything else at boot
//! (or earlier, with [`catch_signals`]); a signal that arrives during boot is acted on as soon
//! as boot completes, so the process never dies by a signal's default action. The platform
//! code sits behind `Signals`.

use std::sync::{Mutex, OnceLock};

use actix_shutdown_actors::{RequestSource, ShutdownRequest};
use tokio::sync::mpsc;

use crate::ShutdownHandle;

/// The signal thread, once installed: hands it the handle when boot completes.
static LISTENER: OnceLock<Mutex<Option<mpsc::UnboundedSender<ShutdownHandle>>>> = OnceLock::new();

/// Installs the signal handlers now, before the rest of boot, so that a signal that arrives
/// while the program is still starting (parsing its command line, opening its database) is
/// not fatal: it is acted on as soon as [`ShutdownBuilder::start`](crate::ShutdownBuilder::start)
/// completes. `start` installs them itself when this was not called; calling it first thing
/// in `main` narrows the window to the process's own start. Idempotent.
///
/// # Errors
/// The OS refused a handler, or the signal thread did not start.
///
/// # Examples
/// ```no_run
/// fn main() -> std::io::Result<()> {
///     actix_shutdown::catch_signals()?; // first: SIGTERM from here on starts a clean shutdown
///     // … parse arguments, open the database, then start the actix System …
///     Ok(())
/// }
/// ```
pub fn catch_signals() -> std::io::Result<()> {
    let mut result = Ok(());
    LISTENER.get_or_init(|| match spawn_listener() {
        Ok(tx) => Mutex::new(Some(tx)),
        Err(e) => {
            result = Err(e);
            Mutex::new(None)
        }
    });
    result
}

/// The signal thread's hand-over, held by a boot in progress: taken before the lock (so that a
/// second `Shutdown` in the process is refused before it touches the disk) and given back if
/// the boot fails, so that a later boot can take it.
pub(crate) struct SignalListener(Option<mpsc::UnboundedSender<ShutdownHandle>>);

impl SignalListener {
    /// Installs the handlers if needed and takes the hand-over.
    pub(crate) fn take() -> std::io::Result<Self> {
        catch_signals()?;
        LISTENER
            .get()
            .and_then(|l| l.lock().ok()?.take())
            .map(|tx| Self(Some(tx)))
            .ok_or_else(|| {
                std::io::Error::other(
                    "the signal handlers could not be installed, or another Shutdown in this process took them (start it with .signals(false))",
                )
            })
    }

    /// Gives the signal thread the handle: signals caught during boot are acted on now.
    pub(crate) fn attach(mut self, handle: ShutdownHandle) -> std::io::Result<()> {
        let tx = self.0.take().expect("attached once");
        tx.send(handle)
            .map_err(|_| std::io::Error::other("the signal thread has stopped"))
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take()
            && let Some(slot) = LISTENER.get()
            && let Ok(mut slot) = slot.lock()
        {
            *slot = Some(tx);
        }
    }
}

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
        _ => handle.exit_now(&format!("third signal ({name})")),
    }
}

/// Starts the thread that owns the handlers; returns once they are installed.
fn spawn_listener() -> std::io::Result<mpsc::UnboundedSender<ShutdownHandle>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let (handle_tx, mut handle_rx) = mpsc::unbounded_channel::<ShutdownHandle>();
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
                // Until boot completes, signals are kept; the third still exits at once.
                let mut caught: Vec<&'static str> = Vec::new();
                let handle = loop {
                    tokio::select! {
                        handle = handle_rx.recv() => match handle {
                            Some(handle) => break handle,
                            None => return,
                        },
                        Some(name) = signals.next() => {
                            caught.push(name);
                            if caught.len() >= 3 {
                                let _ = std::io::Write::write_all(
                                    &mut std::io::stderr(),
                                    format!("actix-shutdown: third signal ({name}) during boot: exiting at once\n").as_bytes(),
                                );
                                std::process::exit(1);
                            }
                        }
                    }
                };
                let mut count = 0;
                for name in caught {
                    count += 1;
                    act(&handle, name, count);
                }
                while let Some(name) = signals.next().await {
                    count += 1;
                    act(&handle, name, count);
                }
            });
        })?;
    ready_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .map_err(|_| std::io::Error::other("the signal thread did not start within 10 s"))??;
    Ok(handle_tx)
}

/// The signals that ask for a shutdown on this platform.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Some("SIGINT"),
            Some(()) = self.terminate.recv() => Some("SIGTERM"),
            Some(()) = self.hangup.recv() => Some("SIGHUP"),
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
