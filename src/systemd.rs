//! systemd integration (cargo feature `systemd`): the `sd_notify` protocol of a
//! `Type=notify` unit.
//!
//! - [`attach`] adds a progress listener to the builder: `STOPPING=1` when the shutdown
//!   begins, `STATUS=shutting down: <step>` as each step starts, and with every step
//!   `EXTEND_TIMEOUT_USEC` up to our own worst case (the grace plus the hard-deadline margin),
//!   so a `TimeoutStopSec` set too low does not SIGKILL the bot before its state is saved. A
//!   vetoed request sets `STATUS=` and extends by the grace plus the forced budget: a deferred
//!   SIGTERM may wait the whole grace and then run forced.
//! - [`notify_ready`] sends `READY=1` once the bot has booted, and when the unit asks for
//!   watchdog pings (`WatchdogSec=`, seen as `WATCHDOG_USEC`) spawns the task
//!   `systemd-watchdog` that sends `WATCHDOG=1` at half that period. It runs on the actix
//!   thread, so a blocked actor thread stops the pings and systemd restarts the bot; it is
//!   cancelled with the other tasks once the shutdown has begun (systemd stops watching at
//!   `STOPPING=1`).
//!
//! Everything is a no-op when `NOTIFY_SOCKET` is unset (not started by systemd) and on
//! platforms other than Unix. A failed send is logged, never fatal.
//!
//! # Examples
//! ```
//! use actix_shutdown::{Config, Shutdown, systemd};
//!
//! #[actix::main]
//! async fn main() -> std::process::ExitCode {
//!     # let dir = tempfile::tempdir().unwrap();
//!     # let config = Config::default().state_dir(dir.path().join("state"));
//!     let builder = systemd::attach(Shutdown::builder(config));
//!     let (shutdown, _boot) = builder.start().await.expect("boot");
//!     // … register states, tasks, resources and hooks …
//!     systemd::notify_ready(&shutdown);    // READY=1, and the watchdog if the unit asks
//!     # shutdown.shutdown("admin:doctest").await;
//!     shutdown.wait().await.process_exit_code()
//! }
//! ```

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{ShutdownBuilder, ShutdownHandle, Step, StepEvent, StepOutcome};

/// The environment variable naming the service manager's socket.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";

/// Added to every extension: the messages themselves and the process exit take some time.
const SLACK: Duration = Duration::from_secs(1);

/// True when the process was started by a service manager that listens (`NOTIFY_SOCKET` set).
pub fn is_enabled() -> bool {
    cfg!(unix) && std::env::var_os(NOTIFY_SOCKET_ENV).is_some_and(|s| !s.is_empty())
}

/// Adds the listener that reports the shutdown to systemd (see the [module docs](self)).
pub fn attach(builder: ShutdownBuilder) -> ShutdownBuilder {
    let config = builder.config();
    let margin = config.hard_margin.unwrap_or_default();
    let notifier = Notifier {
        run_budget: config.grace + margin + SLACK,
        deferral_budget: config.grace + config.forced_budget + margin + SLACK,
        began: Mutex::new(None),
    };
    builder.on_progress(move |event| {
        if is_enabled() {
            send(&notifier.messages(event, Instant::now()));
        }
    })
}

/// Tells systemd the bot is ready (`READY=1`, `STATUS=running`, `MAINPID`) and starts the
/// watchdog pings the unit asks for. Call it once boot is done and the bot takes work.
///
/// Returns the watchdog period when pings were started.
pub fn notify_ready(handle: &ShutdownHandle) -> Option<Duration> {
    if !is_enabled() {
        return None;
    }
    send(&[
        Message::Ready,
        Message::MainPid(std::process::id()),
        Message::Status("running".to_owned()),
    ]);
    let period = watchdog_period()?;
    let every = (period / 2).max(Duration::from_millis(10));
    let spawned = handle
        .tasks()
        .spawn("systemd-watchdog", move |cancel| async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = tick.tick() => send(&[Message::Watchdog]),
                }
            }
        });
    match spawned {
        Ok(()) => {
            tracing::info!(?period, "systemd watchdog: pinging every {every:?}");
            Some(period)
        }
        Err(e) => {
            tracing::warn!("systemd watchdog not started: {e}");
            None
        }
    }
}

/// One `sd_notify` assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Message {
    Ready,
    Stopping,
    MainPid(u32),
    Status(String),
    ExtendTimeout(Duration),
    Watchdog,
}

/// Turns pipeline events into messages; pure, so it is tested without a socket.
struct Notifier {
    /// From the start of the run to our hard deadline (grace + margin), plus slack.
    run_budget: Duration,
    /// From a veto of a signal to the end of the forced run that follows at worst.
    deferral_budget: Duration,
    began: Mutex<Option<Instant>>,
}

impl Notifier {
    fn messages(&self, event: &StepEvent, now: Instant) -> Vec<Message> {
        let mut began = self.began.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            StepEvent::Started { step } => {
                let mut out = Vec::new();
                if began.is_none() {
                    *began = Some(now);
                    out.push(Message::Stopping);
                }
                let start = began.unwrap_or(now);
                let left = (start + self.run_budget)
                    .saturating_duration_since(now)
                    .max(SLACK);
                out.push(Message::Status(format!("shutting down: {step}")));
                out.push(Message::ExtendTimeout(left));
                out
            }
            StepEvent::Finished { record } if record.outcome != StepOutcome::Completed => {
                let error = record.error.as_deref().unwrap_or("");
                vec![Message::Status(format!(
                    "shutting down: {} {}: {error}",
                    record.name, record.outcome
                ))]
            }
            StepEvent::Finished { record } if record.name == Step::StopLogging => {
                vec![Message::Status("shut down".to_owned())]
            }
            StepEvent::Escalated { reason } => {
                vec![Message::Status(format!("shutting down, forced: {reason}"))]
            }
            StepEvent::Vetoed { by, deferred } if began.is_none() => vec![
                Message::Status(if *deferred {
                    format!(
                        "closing; shutdown deferred by {} until the work in flight ends",
                        by.join(", ")
                    )
                } else {
                    format!(
                        "shutdown request canceled by {}; still running",
                        by.join(", ")
                    )
                }),
                Message::ExtendTimeout(self.deferral_budget),
            ],
            _ => Vec::new(),
        }
    }
}

fn watchdog_period() -> Option<Duration> {
    #[cfg(unix)]
    {
        sd_notify::watchdog_enabled().filter(|p| !p.is_zero())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Sends the messages as one datagram; a failure is logged.
fn send(messages: &[Message]) {
    if messages.is_empty() {
        return;
    }
    #[cfg(unix)]
    {
        use sd_notify::NotifyState;
        let usec = |d: &Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        let states: Vec<NotifyState<'_>> = messages
            .iter()
            .map(|m| match m {
                Message::Ready => NotifyState::Ready,
                Message::Stopping => NotifyState::Stopping,
                Message::MainPid(pid) => NotifyState::MainPid(*pid),
                Message::Status(text) => NotifyState::Status(text),
                Message::ExtendTimeout(d) => NotifyState::ExtendTimeoutUsec(usec(d)),
                Message::Watchdog => NotifyState::Watchdog,
            })
            .collect();
        if let Err(e) = sd_notify::notify(&states) {
            tracing::warn!("sd_notify to {NOTIFY_SOCKET_ENV}: {e}");
        }
    }
    #[cfg(not(unix))]
    let _ = messages;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StepRecord;

    fn notifier() -> Notifier {
        Notifier {
            run_budget: Duration::from_secs(13),
            deferral_budget: Duration::from_secs(16),
            began: Mutex::new(None),
        }
    }

    fn started(step: &str) -> StepEvent {
        StepEvent::Started {
            step: step.parse().expect("a step name"),
        }
    }

    #[test]
    fn first_step_says_stopping_and_every_step_extends_to_the_hard_deadline() {
        let n = notifier();
        let t0 = Instant::now();
        assert_eq!(
            n.messages(&started("begin"), t0),
            [
                Message::Stopping,
                Message::Status("shutting down: begin".into()),
                Message::ExtendTimeout(Duration::from_secs(13))
            ]
        );
        assert_eq!(
            n.messages(&started("persist_state"), t0 + Duration::from_secs(4)),
            [
                Message::Status("shutting down: persist_state".into()),
                Message::ExtendTimeout(Duration::from_secs(9))
            ]
        );
        // Past the budget the extension never drops below the slack.
        assert_eq!(
            n.messages(&started("release_lock"), t0 + Duration::from_secs(60))[1],
            Message::ExtendTimeout(SLACK)
        );
    }

    #[test]
    fn failed_steps_and_escalations_show_in_the_status() {
        let n = notifier();
        let record = StepRecord {
            name: Step::CloseResources,
            outcome: StepOutcome::Failed,
            duration_ms: 3,
            error: Some("broker: reset".into()),
        };
        let out = n.messages(&StepEvent::Finished { record }, Instant::now());
        assert!(
            matches!(&out[..], [Message::Status(s)] if s.contains("close_resources") && s.contains("broker: reset")),
            "{out:?}"
        );
        let out = n.messages(
            &StepEvent::Escalated {
                reason: "second signal".into(),
            },
            Instant::now(),
        );
        assert!(
            matches!(&out[..], [Message::Status(s)] if s.contains("forced")),
            "{out:?}"
        );
    }

    #[test]
    fn a_veto_before_the_run_extends_for_the_deferral() {
        let n = notifier();
        let out = n.messages(
            &StepEvent::Vetoed {
                by: vec!["busy-guard".into()],
                deferred: false,
            },
            Instant::now(),
        );
        assert_eq!(
            out,
            [
                Message::Status("shutdown request canceled by busy-guard; still running".into()),
                Message::ExtendTimeout(Duration::from_secs(16))
            ]
        );
    }
}
