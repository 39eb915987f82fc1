//! A graceful exit you can trust, and a safe boot after a crash, for actix-based bots and
//! services.
//!
//! When a bot is told to stop — Ctrl+C or SIGTERM, an admin command, a watchdog, a remote
//! director — actix-shutdown runs the shutdown **once**: registered hooks may answer the
//! request, [`is_closing`](ShutdownHandle::is_closing) turns true so producers stop taking
//! work, work in flight drains, background tasks are cancelled, logs are flushed, state is
//! persisted atomically, external resources close, `last_shutdown.json` is written, the
//! singleton lock is released, and the process exits with a code a supervisor understands. On
//! the next boot a stale lock says the previous run crashed, saved state is checked, and
//! corrupt files are archived as `<file>.broken.<UTC timestamp>` instead of failing the boot.
//!
//! # Quick start
//!
//! ```toml
//! [dependencies]
//! actix = "0.13"
//! actix-shutdown = "0.1"
//! # or, to pick the integrations:
//! # actix-shutdown = { version = "0.1", default-features = false, features = ["botica"] }
//! ```
//!
//! Start the [`Shutdown`] inside an actix System, register what must end cleanly, and end
//! `main` with the exit code of the report:
//!
//! ```
//! use actix_shutdown::{Cancellation, Config, Shutdown};
//!
//! #[actix::main]
//! async fn main() -> std::process::ExitCode {
//!     # let dir = tempfile::tempdir().unwrap();
//!     # let state_dir = dir.path().join("state");
//!     let config = Config::default().state_dir(&state_dir);
//!     # let config = config.signals(false);
//!     let (shutdown, boot) = match Shutdown::builder(config).start().await {
//!         Ok(started) => started,      // the lock is held, logging is on
//!         Err(e) => {
//!             eprintln!("{e}");        // e.g. "already running: pid 4242 …"
//!             return e.exit_code();    // 73, or 2 for a bad configuration
//!         }
//!     };
//!     println!("{boot}");              // fresh start / the previous run crashed / …
//!
//!     let count: u64 = shutdown.load("count").unwrap().into_value().unwrap_or(0);
//!     shutdown.persist_fn("count", move || count + 1).unwrap();
//!     shutdown.tasks().spawn("ticker", |cancel: Cancellation| async move {
//!         cancel.cancelled().await;    // work until the shutdown cancels the task
//!     }).unwrap();
//!     # shutdown.shutdown("admin:doctest").await;
//!     let report = shutdown.wait().await; // Ctrl+C or SIGTERM starts the shutdown
//!     println!("{report}");
//!     report.process_exit_code()
//! }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `http` | on | `http::ControlPlane`: `/healthz`, `/readyz`, `/status`, `POST /shutdown`; and `ShutdownHandle::serve` to drain your own actix-web server |
//! | `systemd` | on | `systemd::attach` and `systemd::notify_ready`: `READY=1`, `STOPPING=1`, per-step `STATUS=` and `EXTEND_TIMEOUT_USEC`, watchdog pings |
//! | `botica` | off | `botica::attach`: answer a Botica director's shutdown requests over RabbitMQ |
//!
//! # What a shutdown does, in order
//!
//! Every run goes through the same [`Step`]s, each once, each with its own timeout capped by
//! what is left of the overall deadline ([`Config::grace`], 10 s by default):
//!
//! 1. [`Step::Begin`] — `is_closing` turns true, the exit marker is written.
//! 2. [`Step::Drain`] — servers stop accepting and finish their requests, tracked futures end.
//! 3. [`Step::CancelTasks`] — every task's [`Cancellation`] fires; a task that outlives
//!    its grace is aborted.
//! 4. [`Step::FlushLogs`] — the log queue is written and fsynced.
//! 5. [`Step::PersistState`] — every registered state is written atomically (temp file,
//!    fsync, rename).
//! 6. [`Step::CloseResources`] — closers run, newest first.
//! 7. [`Step::WriteSummary`] — `last_shutdown.json`.
//! 8. [`Step::ReleaseLock`] — the lock file is removed.
//! 9. [`Step::StopLogging`] — later records go to stderr.
//!
//! Why this order: work in flight must end before the state it changes is snapshotted, tasks
//! stop before that too, and resources (a database pool, a broker connection) close only once
//! the state is safe. A step that fails or times out is recorded in the report and the run
//! goes on: the logs are always flushed and the lock always released.
//!
//! # Clean runs and exit codes
//!
//! The [`ShutdownReport`] every waiter receives is `clean` when nothing was lost: every step
//! completed, every state written, no task aborted, no drain or resource timed out or failed.
//! Its [`lost`](ShutdownReport::lost) lines say what was lost otherwise, and its `Display` is a
//! summary table that ends with the exit code. The codes ([`ExitCodes`], configurable):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | clean shutdown |
//! | 75 | clean shutdown, restart requested ([`ShutdownHandle::restart`]) |
//! | 1 | the shutdown finished, but something was lost; or the start failed |
//! | 73 | another live instance holds the lock ([`StartError::is_already_running`]) |
//! | 2 | bad configuration, or started outside an actix System |
//!
//! # Requests and signals
//!
//! A shutdown is asked for with a [`ShutdownRequest`]: *graceful* (a hook registered with
//! [`ShutdownHandle::on_shutdown_request`] may cancel it while the bot is busy) or *forced*
//! (cancels are ignored; only critical state is written). The first SIGINT, SIGTERM or SIGHUP
//! (Ctrl+C on Windows) asks for a graceful shutdown that will happen — a hook's cancel only
//! defers it until the grace deadline —, the second forces it, the third ends the process at
//! once. [`Config::signals`] turns this off; [`catch_signals`] installs the handlers before
//! the actix System even starts, so that a signal during boot is not fatal.
//!
//! # Draining work in flight
//!
//! - `ShutdownHandle::serve` (feature `http`) runs your actix-web server and drains it: it stops accepting,
//!   its requests finish, then the state is persisted.
//! - [`ShutdownHandle::track`] wraps a future the drain step waits for.
//! - [`ShutdownHandle::on_drain`] and [`ShutdownHandle::on_drain_actor`] register your own
//!   drainers (a consumer loop, an actor answering [`Drain`]).
//! - [`ShutdownHandle::closing`] resolves when `is_closing` turns true, for code that is not a
//!   task.
//!
//! Each drains within [`Config::drain_timeout`]; the report lists them as [`DrainRecord`]s.
//!
//! # The main types
//!
//! - [`Config`]: where files go, how long each part may take; read back with [`Config::get`].
//! - [`Shutdown::builder`] → [`ShutdownBuilder::start`]: the boot, answering a
//!   [`ShutdownHandle`] and a [`BootReport`], or a [`StartError`].
//! - [`ShutdownHandle`]: register tasks ([`TaskSpawner`]), states, resources, hooks and
//!   drainers; ask for a shutdown; [`wait`](ShutdownHandle::wait) for the [`ShutdownReport`].
//! - [`actors`]: the six actors behind it, usable alone and driven by their messages.
//!
//! The README has the operator's side: the state directory's files, `last_shutdown.json`, a
//! systemd unit, a Kubernetes deployment, and the benchmarks.

#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's example, compiled as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod boot;
#[cfg(feature = "botica")]
#[cfg_attr(docsrs, doc(cfg(feature = "botica")))]
pub mod botica;
mod config;
mod error;
mod handle;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod logging;
mod previous_run;
mod rehydrate;
mod shutdown;
mod signals;
#[cfg(feature = "systemd")]
#[cfg_attr(docsrs, doc(cfg(feature = "systemd")))]
pub mod systemd;

pub use actix;
pub use actix_shutdown_actors as actors;
pub use actix_shutdown_actors::Cancellation;
pub use actix_shutdown_actors::messages::{
    CancelTask, Drain, FlushAck, HookId, RequestAnswer, ShutdownRequested, Snapshot,
    SnapshotResult, StepEvent, SupervisorState, TakeSnapshot, TaskInfo, TaskOptions, TaskResult,
    TaskState,
};
pub use actix_shutdown_actors::supervisor;
pub use actix_shutdown_actors::{
    ArchivedFile, ClosingFlag, DrainRecord, EscapedFields, ExitCodes, FileRecord, FoundState,
    HookRecord, Loaded, LockError, LockHolder, LockInfo, LogOptions, LogQueue, LoggerError,
    ParticipantOutcome, PersistError, RequestSource, ResourceRecord, SUMMARY_VERSION,
    ShutdownReport, ShutdownRequest, ShutdownResponse, Step, StepOutcome, StepRecord, StepTimeouts,
    TaskError, TaskOutcome, TaskRecord, UnknownStep, VetoRecord, escape,
};
pub use boot::{BootReport, RestoredQueue};
pub use config::{Config, ConfigError, ConfigView};
pub use error::{StartError, StartErrorKind};
pub use handle::{ShutdownHandle, TaskSpawner};
pub use previous_run::{PreviousRun, inspect_previous_run};
pub use rehydrate::{DroppedJobs, QueuedJob, Rehydrated, RequeuePolicy, rehydrate_queue};
pub use shutdown::{Shutdown, ShutdownBuilder};
pub use signals::catch_signals;
pub use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
pub use tokio_util::task::task_tracker::TrackedFuture;
