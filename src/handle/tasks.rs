//! Background tasks: [`TaskSpawner`] spawns them through the TaskMonitor, which cancels them
//! at the `cancel_tasks` step.

use std::future::Future;
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::Cancellation;
use actix_shutdown_actors::messages::{
    CancelTask, GetTasks, SpawnTask, Task, TaskInfo, TaskOptions, TaskResult,
};
use actix_shutdown_actors::{ClosingFlag, TaskError, TaskMonitor};

use super::ShutdownHandle;

impl ShutdownHandle {
    /// The background tasks.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::TaskError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::Cancellation;
    ///
    /// shutdown.tasks().spawn("poller", |cancel: Cancellation| async move {
    ///     cancel.cancelled().await;
    /// })?;
    /// assert_eq!(shutdown.tasks().list().await.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn tasks(&self) -> TaskSpawner {
        TaskSpawner {
            monitor: self.inner.actors.tasks.clone(),
            closing: self.inner.closing.clone(),
            default_grace: self.inner.config.task_grace,
            budget: self.inner.task_budget,
        }
    }
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
    /// [`Cancellation`] that fires at CancelAll, then the default task grace before it is
    /// aborted. It may return `()` or `Result<(), E>`.
    ///
    /// The [`Cancellation`] is a read-only view (`cancelled()`, `is_cancelled()`,
    /// `run_until_cancelled()`; no `cancel()`) of one token all tasks share, so a task cannot
    /// cancel the others. For a token to fire over sub-tasks of its own, take
    /// [`Cancellation::child_token`]; to cancel one task alone, spawn it with
    /// [`TaskOptions::own_cancellation`] and call [`cancel`](Self::cancel).
    ///
    /// Spawning is a message to the TaskMonitor: a task whose name is taken by a running task
    /// is refused there and logged (an error record). Tasks that ended on their own stay
    /// listed up to [`ENDED_KEPT`](actix_shutdown_actors::ENDED_KEPT); older ones give their
    /// slot to new tasks, so spawning a task per job does not grow the monitor.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::TaskError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::Cancellation;
    ///
    /// let tasks = shutdown.tasks();
    /// tasks.spawn("reminders", |cancel: Cancellation| async move {
    ///     let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    ///     loop {
    ///         tokio::select! {
    ///             () = cancel.cancelled() => break,
    ///             _ = tick.tick() => { /* send the reminders that are due */ }
    ///         }
    ///     }
    /// })?;
    /// shutdown.shutdown("admin:stop").await;
    /// assert_eq!(shutdown.wait().await.tasks[0].name, "reminders");
    /// assert!(tasks.spawn("late", |_: Cancellation| async {}).is_err()); // closing
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`TaskError::Closing`] once the shutdown has begun; [`TaskError::MonitorGone`] when the
    /// TaskMonitor has stopped (its actix System is gone).
    pub fn spawn<F, Fut, R>(&self, name: impl Into<String>, task: F) -> Result<(), TaskError>
    where
        F: Fn(Cancellation) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: TaskResult,
    {
        self.spawn_with(name, TaskOptions::default(), task)
    }

    /// As [`spawn`](Self::spawn), with a grace of its own and a restart policy.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::TaskError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::Duration;
    /// use actix_shutdown::{Cancellation, TaskOptions};
    ///
    /// let mut options = TaskOptions::default();
    /// options.grace = Some(Duration::from_secs(1)); // aborted 1 s after its token fires
    /// options.restart_on_failure = true;            // restarted with backoff if it fails
    /// shutdown.tasks().spawn_with("consumer", options, |cancel: Cancellation| async move {
    ///     cancel.cancelled().await;
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
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
        F: Fn(Cancellation) -> Fut + Send + 'static,
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
                task = %crate::escape(&name),
                "task grace {grace:?} does not fit the shutdown: tasks get at most {:?} (half the grace, within the cancel_tasks step), so it is aborted then if it has not stopped; raise Config::grace to at least {:?} or shorten the task's grace",
                self.budget,
                grace * 2
            );
        }
        self.monitor.do_send(SpawnTask {
            name,
            task: Task::new(task),
            options,
        });
        Ok(())
    }

    /// Fires the cancellation of the running task `name`, spawned with
    /// [`TaskOptions::own_cancellation`]; the other tasks keep running. Resolves to `true`
    /// when it fired one, `false` when no running task of that name has one of its own.
    pub fn cancel(&self, name: impl Into<String>) -> impl Future<Output = bool> + 'static {
        let monitor = self.monitor.clone();
        let name = name.into();
        async move { monitor.send(CancelTask { name }).await.unwrap_or(false) }
    }

    /// Lists the tasks: name, state, restarts, last error.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), actix_shutdown::TaskError> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_shutdown::{Cancellation, TaskState};
    ///
    /// shutdown.tasks().spawn("poller", |cancel: Cancellation| async move {
    ///     cancel.cancelled().await;
    /// })?;
    /// for task in shutdown.tasks().list().await {
    ///     assert_eq!((task.name.as_str(), &task.state), ("poller", &TaskState::Running));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> impl Future<Output = Vec<TaskInfo>> + 'static {
        let monitor = self.monitor.clone();
        async move { monitor.send(GetTasks).await.unwrap_or_default() }
    }
}
