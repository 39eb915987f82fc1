//! [`ShutdownHandle`]: what the embedding program holds to register its tasks, states,
//! resources and hooks, to ask for a shutdown, and to wait for the report.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::SetPendingJobsProbe;
use actix_shutdown_actors::messages::{
    FlushAck, FlushLogs, GetTasks, HookId, RegisterHook, RegisterResource, RegisterState,
    RequestAnswer, RequestShutdown, Snapshot, SpawnTask, SupervisorState, TakeSnapshot, TaskInfo,
    TaskOptions, TaskResult, UnregisterHook, WaitForShutdown,
};
use actix_shutdown_actors::supervisor::{StatusView, Supervisor};
use actix_shutdown_actors::{
    ClosingFlag, HardDeadlineThread, LastResort, Loaded, LogQueue, Logger, LoggerError,
    PersistError, Persister, RequestSource, ResourceCloser, ShutdownReport, ShutdownRequest,
    ShutdownResponse, StateStore, TaskError, TaskMonitor, async_hook, sync_hook, validate_name,
};
use futures::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::boot::{BootReport, RestoredQueue};
use crate::config::Config;
use crate::rehydrate::{QueuedJob, Rehydrated, RequeuePolicy, rehydrate_queue};

mod drain;
#[cfg(feature = "http")]
mod serve;

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
            .field("state_dir", &self.inner.config.state_dir_path())
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
        let store = StateStore::new(config.state_dir_path());
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
    #[inline]
    pub fn is_closing(&self) -> bool {
        self.inner.closing.is_closing()
    }

    /// The flag behind [`is_closing`](Self::is_closing), to hand to producers.
    pub fn closing_flag(&self) -> ClosingFlag {
        self.inner.closing.clone()
    }

    /// Asks for a shutdown. Hooks run first: the answer is `ready: false` when one canceled a
    /// graceful request. It does not wait for the pipeline; see [`wait`](Self::wait). When
    /// the Supervisor is gone (its System stopped after the shutdown), the answer is `ready`
    /// and `joined`: there is nothing left to stop.
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
    pub fn request_detached(&self, request: ShutdownRequest) {
        self.inner
            .actors
            .supervisor
            .do_send(RequestShutdown(request));
    }

    /// A graceful admin shutdown with this reason (e.g. `admin:shutdown`).
    pub fn shutdown(
        &self,
        reason: impl Into<String>,
    ) -> impl Future<Output = RequestAnswer> + 'static {
        self.request(ShutdownRequest::graceful(RequestSource::Admin, reason))
    }

    /// A graceful admin shutdown that ends with the restart exit code (75 by default).
    pub fn restart(
        &self,
        reason: impl Into<String>,
    ) -> impl Future<Output = RequestAnswer> + 'static {
        self.request(ShutdownRequest::graceful(RequestSource::Admin, reason).with_restart(true))
    }

    /// Resolves with the report once the shutdown has finished.
    pub fn wait(&self) -> impl Future<Output = Arc<ShutdownReport>> + 'static {
        let supervisor = self.inner.actors.supervisor.clone();
        let codes = self.inner.config.exit_code_table();
        async move {
            match supervisor.send(WaitForShutdown).await {
                Ok(report) => report,
                Err(e) => Arc::new(unreachable_report(codes.failed, &e.to_string())),
            }
        }
    }

    /// Where the Supervisor is, at once and from any thread (no message round-trip, so it
    /// answers even while hooks hold the Supervisor's mailbox).
    pub fn status_now(&self) -> SupervisorState {
        self.inner.status.get()
    }

    /// The background tasks.
    pub fn tasks(&self) -> TaskSpawner {
        TaskSpawner {
            monitor: self.inner.actors.tasks.clone(),
            closing: self.inner.closing.clone(),
            default_grace: self.inner.config.task_grace,
            budget: self.inner.task_budget,
        }
    }

    /// Registers an async closer, run at CloseAll (newest first) within the default close
    /// timeout; its error is reported.
    pub fn on_close<F, Fut, R>(&self, name: impl Into<String>, close: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.on_close_within(name, None, close);
    }

    /// As [`on_close`](Self::on_close), with its own timeout.
    pub fn on_close_within<F, Fut, R>(
        &self,
        name: impl Into<String>,
        timeout: Option<Duration>,
        close: F,
    ) where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.inner.actors.closer.do_send(RegisterResource {
            name: name.into(),
            closer: Box::new(move || {
                let fut = close();
                Box::pin(async move { fut.await.into_task_result() })
            }),
            timeout,
        });
    }

    /// Persists an actor's state: it answers [`TakeSnapshot`] at each PersistAll.
    ///
    /// Registration is a message to the Persister: a second state of the same name is refused
    /// there and logged (an error record, also in `crash.log`), and a state registered after
    /// the shutdown has written the states is never written. Register at boot.
    ///
    /// # Errors
    /// An invalid state name (path separators, `..`, reserved names, the library's own files).
    pub fn persist(
        &self,
        name: impl Into<String>,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.persist_actor(name.into(), false, source)
    }

    /// As [`persist`](Self::persist), for state that is written even in a forced shutdown.
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_critical(
        &self,
        name: impl Into<String>,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.persist_actor(name.into(), true, source)
    }

    /// Persists what a closure returns: an owned copy of the state, encoded to JSON by the
    /// Persister off the actor thread. For a large state kept as an immutable snapshot, return
    /// an `Arc` of it: no deep copy is made.
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_fn<F, T>(&self, name: impl Into<String>, snapshot: F) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.persist_closure(name.into(), false, snapshot)
    }

    /// As [`persist_fn`](Self::persist_fn), for state that is written even in a forced
    /// shutdown.
    ///
    /// # Errors
    /// An invalid state name.
    pub fn persist_critical_fn<F, T>(
        &self,
        name: impl Into<String>,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.persist_closure(name.into(), true, snapshot)
    }

    fn persist_actor(
        &self,
        name: String,
        critical: bool,
        source: Recipient<TakeSnapshot>,
    ) -> Result<(), PersistError> {
        self.register_state(name, critical, move || {
            let sent = source.send(TakeSnapshot);
            async move {
                sent.await
                    .map_err(|e| format!("the state actor is unreachable: {e}"))?
            }
        })
    }

    fn persist_closure<F, T>(
        &self,
        name: String,
        critical: bool,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> T + Send + 'static,
        T: Serialize + Send + 'static,
    {
        self.register_state(name, critical, move || {
            let snapshot = Snapshot::of(snapshot());
            async move { Ok(snapshot) }
        })
    }

    fn register_state<F, Fut>(
        &self,
        name: String,
        critical: bool,
        snapshot: F,
    ) -> Result<(), PersistError>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Snapshot, String>> + 'static,
    {
        validate_name(&name)?;
        if self.inner.config.own_file_stems().contains(&name) {
            return Err(PersistError::InvalidName {
                name,
                why: "it is the name of one of the library's own files in this configuration",
            });
        }
        self.inner.actors.persister.do_send(RegisterState {
            name,
            source: Box::new(move || Box::pin(snapshot())),
            critical,
        });
        Ok(())
    }

    /// Loads a saved state as `T`. A corrupt file, one with an unknown schema version or data
    /// that does not fit `T` is archived as `<file>.broken.<UTC timestamp>` and reported as
    /// [`Loaded::Archived`]: start empty.
    ///
    /// # Errors
    /// An invalid name, or a read or archive failure (the file is then untouched).
    pub fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Loaded<T>, PersistError> {
        self.inner.store.load(name)
    }

    /// Loads a saved queue and keeps only the jobs `policy` accepts (timestamps not in the
    /// future nor too old, ids unique); the counts of dropped jobs go into the
    /// [`boot_report`](Self::boot_report). A corrupt file is archived, as with
    /// [`load`](Self::load), and the queue starts empty.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_queue<T>(
        &self,
        name: &str,
        policy: &RequeuePolicy,
    ) -> Result<Rehydrated<T>, PersistError>
    where
        T: DeserializeOwned + QueuedJob,
    {
        let saved = self.load::<Vec<T>>(name)?.into_value().unwrap_or_default();
        let restored = rehydrate_queue(saved, policy, std::time::SystemTime::now());
        if restored.dropped.total() > 0 {
            tracing::warn!(state = name, "rehydration {}", restored.dropped);
        }
        tracing::info!(state = name, jobs = restored.jobs.len(), "queue restored");
        if let Some(boot) = self
            .inner
            .boot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            boot.restored_queues.retain(|q| q.name != name);
            boot.restored_queues.push(RestoredQueue {
                name: name.to_owned(),
                restored: restored.jobs.len(),
                dropped: restored.dropped,
            });
        }
        Ok(restored)
    }

    /// The boot report, including the queues restored since.
    pub fn boot_report(&self) -> Option<BootReport> {
        self.inner
            .boot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_boot_report(&self, boot: BootReport) {
        *self.inner.boot.lock().unwrap_or_else(|p| p.into_inner()) = Some(boot);
    }

    /// Registers a hook, run for every shutdown request in registration order. Calling
    /// `response.cancel()` on a graceful request cancels it; forced requests ignore cancels.
    /// A panicking hook is recorded and does not cancel.
    pub fn on_shutdown_request<F>(&self, name: impl Into<String>, hook: F) -> HookId
    where
        F: Fn(&ShutdownRequest, &ShutdownResponse) + Send + 'static,
    {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: sync_hook(hook),
        });
        id
    }

    /// Registers an async hook, bounded by the hook budget; its error is recorded (it does
    /// not cancel).
    pub fn on_shutdown_request_async<F, Fut, E>(&self, name: impl Into<String>, hook: F) -> HookId
    where
        F: Fn(ShutdownRequest, ShutdownResponse) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: std::fmt::Display,
    {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: async_hook(hook),
        });
        id
    }

    /// Registers an actor as a hook: it receives
    /// [`ShutdownRequested`](actix_shutdown_actors::messages::ShutdownRequested) for every
    /// request, bounded by the hook budget.
    pub fn on_shutdown_request_actor(
        &self,
        name: impl Into<String>,
        recipient: Recipient<actix_shutdown_actors::messages::ShutdownRequested>,
    ) -> HookId {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: actix_shutdown_actors::recipient_hook(recipient),
        });
        id
    }

    /// Removes a hook.
    pub fn remove_hook(&self, id: HookId) {
        self.inner.actors.supervisor.do_send(UnregisterHook(id));
    }

    /// How many jobs are pending, recorded as `pending_jobs` in the summary.
    pub fn set_pending_jobs<F: Fn() -> u64 + Send + 'static>(&self, probe: F) {
        self.inner
            .actors
            .supervisor
            .do_send(SetPendingJobsProbe(Box::new(probe)));
    }

    /// Flushes the log queue: resolves once every record emitted before the call is on disk.
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
    pub fn log_queue(&self) -> &LogQueue {
        &self.inner.log_queue
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The Supervisor, for actor-level use.
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
            exit_code: config.exit_code_table().failed,
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

/// Spawns named tasks through the TaskMonitor.
#[derive(Clone, Debug)]
pub struct TaskSpawner {
    monitor: Addr<TaskMonitor>,
    closing: ClosingFlag,
    default_grace: Duration,
    /// The most a task gets between cancellation and abort.
    budget: Duration,
}

impl TaskSpawner {
    /// Spawns a task on the actix thread (its future need not be `Send`). It gets a
    /// cancellation token that fires at CancelAll, then the default task grace before it is
    /// aborted. It may return `()` or `Result<(), E>`.
    ///
    /// Spawning is a message to the TaskMonitor: a task whose name is taken by a running task
    /// is refused there and logged (an error record). Tasks that ended on their own stay
    /// listed up to [`ENDED_KEPT`](actix_shutdown_actors::ENDED_KEPT); older ones give their
    /// slot to new tasks, so spawning a task per job does not grow the monitor.
    ///
    /// # Errors
    /// [`TaskError::Closing`] once the shutdown has begun; [`TaskError::MonitorGone`] when the
    /// TaskMonitor has stopped (its actix System is gone).
    pub fn spawn<F, Fut, R>(&self, name: impl Into<String>, task: F) -> Result<(), TaskError>
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.spawn_with(name, TaskOptions::default(), task)
    }

    /// As [`spawn`](Self::spawn), with a grace of its own and a restart policy.
    ///
    /// # Errors
    /// [`TaskError::Closing`] once the shutdown has begun; [`TaskError::MonitorGone`] when the
    /// TaskMonitor has stopped (its actix System is gone).
    pub fn spawn_with<F, Fut, R>(
        &self,
        name: impl Into<String>,
        options: TaskOptions,
        task: F,
    ) -> Result<(), TaskError>
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        let name = name.into();
        if self.closing.is_closing() {
            return Err(TaskError::Closing { name });
        }
        if !self.monitor.connected() {
            return Err(TaskError::MonitorGone { name });
        }
        let grace = options.grace.unwrap_or(self.default_grace);
        if grace > self.budget {
            tracing::warn!(
                task = %name.escape_debug(),
                "task grace {grace:?} does not fit the shutdown: tasks get at most {:?} (half the grace, within the cancel_tasks step), so it is aborted then if it has not stopped; raise Config::grace to at least {:?} or shorten the task's grace",
                self.budget,
                grace * 2
            );
        }
        self.monitor.do_send(SpawnTask {
            name,
            // `map` stores the user's future once (an `async` block would hold it twice).
            factory: Box::new(move |token| {
                Box::pin(task(token).map(|result| result.into_task_result()))
            }),
            options,
        });
        Ok(())
    }

    /// Lists the tasks: name, state, restarts, last error.
    pub fn list(&self) -> impl Future<Output = Vec<TaskInfo>> + 'static {
        let monitor = self.monitor.clone();
        async move { monitor.send(GetTasks).await.unwrap_or_default() }
    }
}
