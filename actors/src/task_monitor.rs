//! TaskMonitor: named background tasks on the actor's thread, each with a cancellation token.
//! At [`CancelAll`] every token fires, each task gets its grace, then it is aborted; panics
//! are contained; crashed tasks may restart with exponential backoff.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use futures::FutureExt;
use futures::future::join_all;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::closing::ClosingFlag;
use crate::errors::TaskError;
use crate::messages::{
    AbortAll, CancelAll, CancelReport, GetTasks, SpawnTask, TaskFactory, TaskInfo, TaskOptions,
    TaskState,
};
use crate::panic_message;
use crate::report::{TaskOutcome, TaskRecord};

/// First restart delay after a crash.
pub const BACKOFF_START: Duration = Duration::from_secs(1);
/// Longest restart delay; a run that lasted longer than this resets the backoff.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Status {
    state: TaskState,
    restarts: u32,
    last_error: Option<String>,
}

type Ended = (TaskOutcome, Option<String>);

struct Entry {
    name: String,
    grace: Option<Duration>,
    status: Rc<RefCell<Status>>,
    join: Option<JoinHandle<Ended>>,
    abort: AbortHandle,
}

/// Runs and tracks named tasks; answers [`SpawnTask`], [`CancelAll`], [`AbortAll`],
/// [`GetTasks`].
pub struct TaskMonitor {
    entries: Vec<Entry>,
    root: CancellationToken,
    closing: ClosingFlag,
}

impl std::fmt::Debug for TaskMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskMonitor")
            .field("tasks", &self.entries.len())
            .field("closing", &self.closing.is_closing())
            .finish()
    }
}

impl TaskMonitor {
    /// A monitor that refuses new tasks once `closing` is set.
    pub fn new(closing: ClosingFlag) -> Self {
        Self { entries: Vec::new(), root: CancellationToken::new(), closing }
    }

    /// Spawns a task on the current thread's local task set (the actix arbiter).
    ///
    /// # Errors
    /// [`TaskError::Closing`] once the shutdown has begun, [`TaskError::Duplicate`] when a
    /// task of that name is still running.
    pub fn spawn(
        &mut self,
        name: String,
        factory: TaskFactory,
        options: TaskOptions,
    ) -> Result<(), TaskError> {
        if self.closing.is_closing() || self.root.is_cancelled() {
            return Err(TaskError::Closing { name });
        }
        if self
            .entries
            .iter()
            .any(|e| e.name == name && !matches!(e.status.borrow().state, TaskState::Ended(_)))
        {
            return Err(TaskError::Duplicate { name });
        }
        let status = Rc::new(RefCell::new(Status {
            state: TaskState::Running,
            restarts: 0,
            last_error: None,
        }));
        let token = self.root.child_token();
        let join = tokio::task::spawn_local(supervise(
            name.clone(),
            factory,
            token,
            options.restart_on_failure,
            Rc::clone(&status),
        ));
        let abort = join.abort_handle();
        self.entries.push(Entry { name, grace: options.grace, status, join: Some(join), abort });
        Ok(())
    }

    /// Lists the tasks in spawn order.
    pub fn list(&self) -> Vec<TaskInfo> {
        self.entries
            .iter()
            .map(|e| {
                let s = e.status.borrow();
                TaskInfo {
                    name: e.name.clone(),
                    state: s.state,
                    restarts: s.restarts,
                    last_error: s.last_error.clone(),
                }
            })
            .collect()
    }

    /// Aborts every task still running.
    pub fn abort_all(&self) {
        for entry in &self.entries {
            entry.abort.abort();
        }
    }

    /// Fires every token and returns a future that waits for each task up to its grace
    /// (capped by the deadline), aborts the laggards and reports every task.
    pub fn cancel_all(&mut self, msg: &CancelAll) -> impl Future<Output = CancelReport> + 'static {
        self.closing.set();
        self.root.cancel();
        let now = Instant::now();
        let waits: Vec<_> = self
            .entries
            .iter_mut()
            .filter_map(|entry| {
                let join = entry.join.take()?;
                let until = if msg.forced {
                    now
                } else {
                    (now + entry.grace.unwrap_or(msg.grace)).min(msg.deadline)
                };
                Some(wait_or_abort(entry.name.clone(), join, until, Rc::clone(&entry.status)))
            })
            .collect();
        async move { CancelReport { tasks: join_all(waits).await } }
    }
}

async fn wait_or_abort(
    name: String,
    mut join: JoinHandle<Ended>,
    until: Instant,
    status: Rc<RefCell<Status>>,
) -> TaskRecord {
    let (outcome, error) = match tokio::time::timeout_at(until, &mut join).await {
        Ok(Ok(ended)) => ended,
        Ok(Err(e)) if e.is_panic() => (TaskOutcome::Panicked, Some(panic_message(&*e.into_panic()))),
        Ok(Err(_)) => (TaskOutcome::Aborted, Some("aborted by a forced shutdown".to_owned())),
        Err(_) => {
            join.abort();
            tracing::warn!(task = %name, "task ignored cancellation past its grace; aborted");
            (TaskOutcome::Aborted, Some("ignored cancellation past its grace".to_owned()))
        }
    };
    let mut s = status.borrow_mut();
    s.state = TaskState::Ended(outcome);
    TaskRecord { name, outcome, restarts: s.restarts, error }
}

async fn supervise(
    name: String,
    factory: TaskFactory,
    token: CancellationToken,
    restart_on_failure: bool,
    status: Rc<RefCell<Status>>,
) -> Ended {
    let mut backoff = BACKOFF_START;
    loop {
        let started = Instant::now();
        // The factory itself may panic before it returns a future: call it inside the guard.
        let run = AssertUnwindSafe(async { factory(token.clone()).await }).catch_unwind().await;
        let (outcome, error) = match run {
            Ok(Ok(())) if token.is_cancelled() => (TaskOutcome::Cancelled, None),
            Ok(Ok(())) => (TaskOutcome::Finished, None),
            Ok(Err(e)) => (TaskOutcome::Failed, Some(e)),
            Err(panic) => (TaskOutcome::Panicked, Some(panic_message(&*panic))),
        };
        let crashed = matches!(outcome, TaskOutcome::Failed | TaskOutcome::Panicked);
        if let Some(e) = &error {
            tracing::error!(task = %name, ?outcome, "task crashed: {e}");
            status.borrow_mut().last_error = Some(e.clone());
        }
        if !(crashed && restart_on_failure && !token.is_cancelled()) {
            status.borrow_mut().state = TaskState::Ended(outcome);
            return (outcome, error);
        }
        if started.elapsed() > BACKOFF_MAX {
            backoff = BACKOFF_START;
        }
        status.borrow_mut().state = TaskState::Restarting;
        tracing::info!(task = %name, "restarting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = token.cancelled() => {
                status.borrow_mut().state = TaskState::Ended(outcome);
                return (outcome, error);
            }
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        let mut s = status.borrow_mut();
        s.restarts += 1;
        s.state = TaskState::Running;
    }
}

impl Actor for TaskMonitor {
    type Context = Context<Self>;
}

impl Handler<SpawnTask> for TaskMonitor {
    type Result = Result<(), TaskError>;

    fn handle(&mut self, msg: SpawnTask, _: &mut Context<Self>) -> Self::Result {
        let name = msg.name.clone();
        self.spawn(msg.name, msg.factory, msg.options).inspect_err(|e| {
            tracing::warn!(task = %name, "{e}");
        })
    }
}

impl Handler<CancelAll> for TaskMonitor {
    type Result = ResponseFuture<CancelReport>;

    fn handle(&mut self, msg: CancelAll, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.cancel_all(&msg))
    }
}

impl Handler<AbortAll> for TaskMonitor {
    type Result = ();

    fn handle(&mut self, _: AbortAll, _: &mut Context<Self>) {
        self.abort_all();
    }
}

impl Handler<GetTasks> for TaskMonitor {
    type Result = MessageResult<GetTasks>;

    fn handle(&mut self, _: GetTasks, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.list())
    }
}
