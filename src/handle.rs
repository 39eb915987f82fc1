//! [`ShutdownHandle`]: what the embedding program holds to register its tasks, states,
//! resources and hooks, to ask for a shutdown, and to wait for the report. This file holds
//! the handle and the requests; what it registers sits beside it, one concern each: `tasks`,
//! `state`, `resources`, `hooks`, `drain` (and `serve`, feature `http`). Most of its length is
//! the examples, one per method.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::{
    FlushAck, FlushLogs, RequestAnswer, RequestShutdown, SetPendingJobsProbe, SupervisorState,
    WaitForShutdown,
};
use actix_shutdown_actors::supervisor::{StatusView, Supervisor};
use actix_shutdown_actors::{
    ClosingFlag, HardDeadlineThread, LastResort, LogQueue, Logger, LoggerError, Persister,
    RequestSource, ResourceCloser, ShutdownReport, ShutdownRequest, StateStore, TaskMonitor,
};

use crate::boot::BootReport;
use crate::config::Config;

mod drain;
mod hooks;
mod resources;
#[cfg(feature = "http")]
mod serve;
mod state;
mod tasks;

pub use tasks::TaskSpawner;

pub(crate) struct Actors {
    pub(crate) supervisor: Addr<Supervisor>,
    pub(crate) tasks: Addr<TaskMonitor>,
    pub(crate) persister: Addr<Persister>,
    pub(crate) closer: Addr<ResourceCloser>,
    pub(crate) logger: Addr<Logger>,
}

struct Inner {
    status: StatusView,
    boot: std::sync::Mutex<Option<BootReport>>,
    actors: Actors,
    closing: ClosingFlag,
    store: StateStore,
    config: Config,
    log_queue: LogQueue,
    /// Where a third signal ends the process (the hard-deadline thread, which knows the run).
    hard_deadline: Option<HardDeadlineThread>,
    /// The most a task gets between cancellation and abort (half the grace, at best).
    task_budget: Duration,
    /// The futures [`ShutdownHandle::track`] tracks, drained together.
    tracker: tokio_util::task::TaskTracker,
    track_registered: std::sync::Once,
}

/// The embedding program's handle: cheap to clone, `Send`, usable from any thread (the async
/// methods must be awaited inside the actix System that started it).
#[derive(Clone)]
pub struct ShutdownHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("state_dir", &self.inner.config.get().state_dir())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl ShutdownHandle {
    pub(crate) fn new(
        actors: Actors,
        status: StatusView,
        closing: ClosingFlag,
        config: Config,
        log_queue: LogQueue,
        hard_deadline: Option<HardDeadlineThread>,
        task_budget: Duration,
    ) -> Self {
        let store =
            StateStore::new(config.get().state_dir()).max_bytes(config.get().max_state_bytes());
        Self {
            inner: Arc::new(Inner {
                status,
                boot: std::sync::Mutex::new(None),
                actors,
                closing,
                store,
                config,
                log_queue,
                hard_deadline,
                task_budget,
                tracker: tokio_util::task::TaskTracker::new(),
                track_registered: std::sync::Once::new(),
            }),
        }
    }

    /// True once the shutdown has begun: producers stop taking new work. One atomic load.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// assert!(!shutdown.is_closing());
    /// shutdown.shutdown("admin:stop").await;
    /// assert!(shutdown.wait().await.clean);
    /// assert!(shutdown.is_closing());
    /// # }
    /// ```
    #[inline]
    pub fn is_closing(&self) -> bool {
        self.inner.closing.is_closing()
    }

    /// The flag behind [`is_closing`](Self::is_closing), to hand to producers.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// // A producer on its own thread checks the flag before taking each job.
    /// let closing = shutdown.closing_flag();
    /// let producer = std::thread::spawn(move || {
    ///     let mut taken = 0;
    ///     while !closing.is_closing() && taken < 3 {
    ///         taken += 1; // take a job
    ///     }
    ///     taken
    /// });
    /// assert_eq!(producer.join().unwrap(), 3);
    /// # }
    /// ```
    pub fn closing_flag(&self) -> ClosingFlag {
        self.inner.closing.clone()
    }

    /// Asks for a shutdown. Hooks run first: the answer is `ready: false` when one canceled a
    /// graceful request. It does not wait for the pipeline; see [`wait`](Self::wait). When
    /// the Supervisor is gone (its System stopped after the shutdown), the answer is `ready`
    /// and `joined`: there is nothing left to stop.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::{RequestSource, ShutdownRequest};
    ///
    /// let request = ShutdownRequest::forced(RequestSource::Watchdog, "watchdog:stuck");
    /// let answer = shutdown.request(request).await;
    /// assert!(answer.ready); // a forced request cannot be canceled
    /// let report = shutdown.wait().await;
    /// assert!(report.forced);
    /// assert_eq!(report.reason, "watchdog:stuck");
    /// # }
    /// ```
    pub fn request(
        &self,
        request: ShutdownRequest,
    ) -> impl Future<Output = RequestAnswer> + 'static {
        let supervisor = self.inner.actors.supervisor.clone();
        let id = request.id.clone();
        async move {
            supervisor
                .send(RequestShutdown(request))
                .await
                .unwrap_or(RequestAnswer {
                    request_id: id,
                    ready: true,
                    vetoed_by: Vec::new(),
                    joined: true,
                })
        }
    }

    /// Sends a request without waiting for the answer (from signal handlers, other threads).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::{RequestSource, ShutdownRequest};
    ///
    /// let handle = shutdown.clone();
    /// std::thread::spawn(move || {
    ///     // e.g. a health checker on its own thread
    ///     handle.request_detached(ShutdownRequest::graceful(RequestSource::Watchdog, "watchdog:unhealthy"));
    /// });
    /// let report = shutdown.wait().await;
    /// assert_eq!(report.reason, "watchdog:unhealthy");
    /// # }
    /// ```
    pub fn request_detached(&self, request: ShutdownRequest) {
        self.inner
            .actors
            .supervisor
            .do_send(RequestShutdown(request));
    }

    /// A graceful admin shutdown with this reason (e.g. `admin:shutdown`).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// let answer = shutdown.shutdown("admin:shutdown").await;
    /// assert!(answer.ready);
    /// let report = shutdown.wait().await;
    /// assert_eq!(report.exit_code, 0);
    /// # }
    /// ```
    pub fn shutdown(
        &self,
        reason: impl Into<String>,
    ) -> impl Future<Output = RequestAnswer> + 'static {
        self.request(ShutdownRequest::graceful(RequestSource::Admin, reason))
    }

    /// A graceful admin shutdown that ends with the restart exit code (75 by default).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// shutdown.restart("admin:restart").await;
    /// let report = shutdown.wait().await;
    /// assert!(report.restart);
    /// assert_eq!(report.exit_code, 75); // systemd: RestartForceExitStatus=75
    /// # }
    /// ```
    pub fn restart(
        &self,
        reason: impl Into<String>,
    ) -> impl Future<Output = RequestAnswer> + 'static {
        self.request(ShutdownRequest::graceful(RequestSource::Admin, reason).with_restart(true))
    }

    /// Resolves with the report once the shutdown has finished.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::{Config, Shutdown};
    ///
    /// #[actix::main]
    /// async fn main() -> std::process::ExitCode {
    ///     # let dir = tempfile::tempdir().unwrap();
    ///     let config = Config::default().state_dir("state");
    ///     # let config = config.state_dir(dir.path()).signals(false);
    ///     let (shutdown, _boot) = match Shutdown::builder(config).start().await {
    ///         Ok(started) => started,
    ///         Err(e) => return e.exit_code(),
    ///     };
    ///     # shutdown.shutdown("admin:stop").await;
    ///     let report = shutdown.wait().await; // until a signal or a request ends the run
    ///     println!("{report}");
    ///     report.process_exit_code()
    /// }
    /// ```
    pub fn wait(&self) -> impl Future<Output = Arc<ShutdownReport>> + 'static {
        let supervisor = self.inner.actors.supervisor.clone();
        let codes = self.inner.config.get().exit_codes();
        async move {
            match supervisor.send(WaitForShutdown).await {
                Ok(report) => report,
                Err(e) => Arc::new(unreachable_report(codes.failed, &e.to_string())),
            }
        }
    }

    /// Where the Supervisor is, at once and from any thread (no message round-trip, so it
    /// answers even while hooks hold the Supervisor's mailbox).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::SupervisorState;
    ///
    /// assert_eq!(shutdown.status_now(), SupervisorState::Running);
    /// shutdown.shutdown("admin:stop").await;
    /// shutdown.wait().await;
    /// assert_eq!(shutdown.status_now(), SupervisorState::Finished { exit_code: 0 });
    /// # }
    /// ```
    pub fn status_now(&self) -> SupervisorState {
        self.inner.status.get()
    }

    /// How many jobs are pending, recorded as `pending_jobs` in the summary.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let pending = Arc::new(AtomicU64::new(3));
    /// let probe = Arc::clone(&pending);
    /// shutdown.set_pending_jobs(move || probe.load(Ordering::Relaxed));
    /// shutdown.shutdown("admin:stop").await;
    /// assert_eq!(shutdown.wait().await.pending_jobs, Some(3));
    /// # }
    /// ```
    pub fn set_pending_jobs<F: Fn() -> u64 + Send + 'static>(&self, probe: F) {
        self.inner
            .actors
            .supervisor
            .do_send(SetPendingJobsProbe(Box::new(probe)));
    }

    /// Flushes the log queue: resolves once every record emitted before the call is on disk.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::LoggerError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// tracing::info!("the nightly import is done");
    /// let ack = shutdown.flush_logs().await?; // on disk now, in logs/log.txt
    /// assert!(ack.written >= 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn flush_logs(&self) -> impl Future<Output = Result<FlushAck, LoggerError>> + 'static {
        let logger = self.inner.actors.logger.clone();
        async move {
            logger
                .send(FlushLogs)
                .await
                .map_err(|_| LoggerError::WriterGone)?
        }
    }

    /// The log queue: a `MakeWriter` for composing your own subscriber.
    ///
    /// # Examples
    /// ```
    /// use actix_shutdown::{Config, Shutdown};
    /// use tracing_subscriber::prelude::*;
    ///
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = Config::default().install_tracing(false); // compose the subscriber yourself
    /// # let config = config.state_dir(dir.path()).signals(false).stop_system(false);
    /// let (shutdown, _boot) = Shutdown::builder(config).start().await.unwrap();
    /// let to_file = tracing_subscriber::fmt::layer()
    ///     .with_ansi(false)
    ///     .with_writer(shutdown.log_queue().clone());
    /// tracing_subscriber::registry().with(to_file).init();
    /// tracing::info!("into logs/log.txt, flushed at the shutdown");
    /// # }
    /// ```
    pub fn log_queue(&self) -> &LogQueue {
        &self.inner.log_queue
    }

    /// The configuration in force.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::Duration;
    ///
    /// assert_eq!(shutdown.config().get().grace(), Duration::from_secs(10));
    /// println!("state in {}", shutdown.config().get().state_dir().display());
    /// # }
    /// ```
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The Supervisor, for actor-level use.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::SupervisorState;
    /// use actix_shutdown::actors::messages::GetStatus;
    ///
    /// let state = shutdown.supervisor().send(GetStatus).await.unwrap();
    /// assert_eq!(state, SupervisorState::Running);
    /// # }
    /// ```
    pub fn supervisor(&self) -> &Addr<Supervisor> {
        &self.inner.actors.supervisor
    }

    /// Ends the process at once (third signal) with the `failed` code, leaving what the hard
    /// deadline leaves: the summary of a run under way (the step cut short `timed_out`, the
    /// rest `skipped`), the exit marker, the flushed log queue, no lock file.
    pub(crate) fn exit_now(&self, why: &str) -> ! {
        if let Some(hard) = &self.inner.hard_deadline {
            hard.exit_now(why);
        }
        let config = &self.inner.config;
        LastResort {
            summary_path: config.summary_path(),
            lock_path: Some(config.lock_path()),
            exit_marker: Some(config.exit_marker_path()),
            log_queue: Some(self.inner.log_queue.clone()),
            exit_code: config.get().exit_codes().failed,
        }
        .exit(why)
    }
}

/// The report `wait` answers when the Supervisor is gone before it could give its own.
fn unreachable_report(code: i32, why: &str) -> ShutdownReport {
    let mut report = ShutdownReport::new("unknown", RequestSource::Api);
    report.exit_code = code;
    report.clean = false;
    report.lost = vec![format!(
        "the Supervisor is unreachable ({why}): what the shutdown did is unknown"
    )];
    report
}
