//! The [`TaskMonitor`] actor: spawns tasks into the slot table, cancels them (all at once, or
//! one with a cancellation of its own), aborts the laggards and reports every task.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, RandomState};
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::table::{AbortReason, ENDED_KEPT, EndGuard, PreHashed, Slot, Table};
use super::{
    AbortAll, CancelAll, CancelReport, CancelTask, Cancellation, GetTasks, SpawnTask, Task,
    TaskInfo, TaskOptions, TaskState,
};
use crate::closing::ClosingFlag;
use crate::errors::TaskError;
use crate::report::{TaskOutcome, TaskRecord};

/// Runs and tracks named tasks; answers [`SpawnTask`], [`CancelAll`], [`AbortAll`],
/// [`GetTasks`], [`CancelTask`].
pub struct TaskMonitor {
    table: Rc<Table>,
    /// Hash of a name → the newest slot whose name has that hash.
    names: HashMap<u64, usize, BuildHasherDefault<PreHashed>>,
    hasher: RandomState,
    root: CancellationToken,
    closing: ClosingFlag,
}

impl std::fmt::Debug for TaskMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskMonitor")
            .field("tasks", &self.table.slots.borrow().len())
            .field("closing", &self.closing.is_closing())
            .finish()
    }
}

impl TaskMonitor {
    /// A monitor that refuses new tasks once `closing` is set.
    pub fn new(closing: ClosingFlag) -> Self {
        Self {
            table: Rc::new(Table::default()),
            names: HashMap::default(),
            hasher: RandomState::new(),
            root: CancellationToken::new(),
            closing,
        }
    }

    /// True when a task of that name has not ended.
    fn is_running(&self, name: &str, hash: u64) -> bool {
        let Some(&newest) = self.names.get(&hash) else {
            return false;
        };
        let slots = self.table.slots.borrow();
        if slots[newest].name == name {
            return !slots[newest].is_ended();
        }
        // Two names with one hash: rare enough for a scan.
        slots.iter().any(|s| s.name == name && !s.is_ended())
    }

    /// Spawns a task on the current thread's local task set (the actix arbiter).
    ///
    /// # Errors
    /// [`TaskError::Closing`] once the shutdown has begun, [`TaskError::Duplicate`] when a
    /// task of that name is still running.
    pub fn spawn(
        &mut self,
        name: String,
        task: Task,
        options: TaskOptions,
    ) -> Result<(), TaskError> {
        if self.closing.is_closing() || self.table.cancelled.get() {
            return Err(TaskError::Closing { name });
        }
        let hash = self.hasher.hash_one(name.as_str());
        if self.is_running(&name, hash) {
            return Err(TaskError::Duplicate { name });
        }
        let slot = Slot::new(name, options.grace);
        let reuse = {
            let mut ended = self.table.ended.borrow_mut();
            (ended.len() > ENDED_KEPT)
                .then(|| ended.pop_front())
                .flatten()
        };
        let index = {
            let mut slots = self.table.slots.borrow_mut();
            match reuse {
                Some(index) => {
                    let old = std::mem::replace(&mut slots[index], slot);
                    let old_hash = self.hasher.hash_one(old.name.as_str());
                    if self.names.get(&old_hash) == Some(&index) {
                        self.names.remove(&old_hash);
                    }
                    index
                }
                None => {
                    slots.push(slot);
                    slots.len() - 1
                }
            }
        };
        let guard = EndGuard {
            table: Rc::clone(&self.table),
            index,
        };
        // One shared token behind a read-only view: a clone per task, nothing to fire. Only a
        // task that asked for a cancellation of its own gets a child token.
        let own = options.own_cancellation.then(|| self.root.child_token());
        let cancel = Cancellation::new(own.clone().unwrap_or_else(|| self.root.clone()));
        let join = task.start(guard, cancel, options.restart_on_failure);
        self.table.update(index, |slot| {
            slot.handle = Some(join);
            if own.is_some() {
                slot.extra_mut().own = own;
            }
        });
        self.names.insert(hash, index);
        Ok(())
    }

    /// Fires the cancellation of the running task `name` if it has one of its own
    /// ([`TaskOptions::own_cancellation`]); true when it did.
    pub fn cancel_task(&self, name: &str) -> bool {
        let hash = self.hasher.hash_one(name);
        let Some(&newest) = self.names.get(&hash) else {
            return false;
        };
        let slots = self.table.slots.borrow();
        let found = if slots[newest].name == name && !slots[newest].is_ended() {
            Some(&slots[newest])
        } else {
            slots.iter().find(|s| s.name == name && !s.is_ended())
        };
        match found.and_then(Slot::own) {
            Some(own) => {
                own.cancel();
                true
            }
            None => false,
        }
    }

    /// Lists the tasks: every running one, and up to [`ENDED_KEPT`] that ended on their own
    /// (in slot order, which is spawn order until slots are reused).
    pub fn list(&self) -> Vec<TaskInfo> {
        self.table
            .slots
            .borrow()
            .iter()
            .map(|s| TaskInfo {
                name: s.name.clone(),
                state: s.state,
                restarts: s.restarts(),
                last_error: s.last_error().cloned(),
            })
            .collect()
    }

    /// Aborts every task still running.
    pub fn abort_all(&self) {
        // An abort only schedules the task; its future is dropped (and its guard records the
        // abort) when the local task set next runs it, after this borrow ends.
        for handle in self
            .table
            .slots
            .borrow()
            .iter()
            .filter_map(|s| s.handle.as_ref())
        {
            handle.abort();
        }
    }

    /// Fires the shared cancellation (and with it every task's own) and returns a future that waits for each task up to its grace
    /// (capped by the deadline), aborts the laggards and reports every task.
    pub fn cancel_all(&mut self, msg: &CancelAll) -> impl Future<Output = CancelReport> + 'static {
        self.closing.set();
        self.table.cancelled.set(true);
        self.root.cancel();
        let now = Instant::now();
        let table = Rc::clone(&self.table);
        let first = table.claimed.get();
        let (range, mut deadlines, mut tasks) = {
            let slots = table.slots.borrow();
            let range = first..slots.len();
            // One pass over the claimed slots: count the running tasks, collect their distinct
            // graces, and make the records (with their names) now, before the tasks end: once
            // they end, the allocator is busy taking back their memory.
            let mut running = 0;
            let mut graces: Vec<Option<Duration>> = Vec::new();
            let mut tasks = Vec::with_capacity(range.len());
            for slot in &slots[range.clone()] {
                if !slot.is_ended() {
                    running += 1;
                    let grace = slot.grace();
                    if !graces.contains(&grace) {
                        graces.push(grace);
                    }
                }
                tasks.push(TaskRecord {
                    name: slot.name.clone(),
                    outcome: TaskOutcome::Aborted,
                    restarts: 0,
                    error: None,
                });
            }
            table.claimed.set(range.end);
            table.waiting_for.set(table.waiting_for.get() + running);
            let deadlines: Vec<Instant> = if running == 0 {
                Vec::new()
            } else if msg.forced {
                vec![now]
            } else {
                graces
                    .into_iter()
                    .map(|grace| (now + grace.unwrap_or(msg.grace)).min(msg.deadline))
                    .collect()
            };
            (range, deadlines, tasks)
        };
        deadlines.sort();
        deadlines.dedup();
        let (forced, grace, deadline) = (msg.forced, msg.grace, msg.deadline);
        // When each task is aborted, and whether the deadline cut its own grace short.
        let deadline_of = move |slot: &Slot| {
            if forced {
                (now, false)
            } else {
                let own = now + slot.grace().unwrap_or(grace);
                (own.min(deadline), own > deadline)
            }
        };
        async move {
            for until in deadlines {
                if tokio::time::timeout_at(until, table.all_claimed_ended())
                    .await
                    .is_ok()
                {
                    break;
                }
                // A forced CancelAll aborts on purpose: the tasks are not to blame.
                let reason = if forced {
                    AbortReason::Forced
                } else {
                    AbortReason::PastGrace
                };
                table.abort_expired(range.clone(), &deadline_of, until, reason);
            }
            let slots = table.slots.borrow();
            for (record, slot) in tasks.iter_mut().zip(&slots[range]) {
                if let TaskState::Ended(outcome) = slot.state {
                    record.outcome = outcome;
                }
                record.restarts = slot.restarts();
                record.error = slot.end_error();
            }
            CancelReport { tasks }
        }
    }
}

impl Actor for TaskMonitor {
    type Context = Context<Self>;
}

impl Handler<SpawnTask> for TaskMonitor {
    type Result = Result<(), TaskError>;

    fn handle(&mut self, msg: SpawnTask, _: &mut Context<Self>) -> Self::Result {
        self.spawn(msg.name, msg.task, msg.options)
            .inspect_err(|e| {
                let (TaskError::Closing { name }
                | TaskError::Duplicate { name }
                | TaskError::MonitorGone { name }) = e;
                tracing::error!(task = %name, "{e}");
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

impl Handler<CancelTask> for TaskMonitor {
    type Result = bool;

    fn handle(&mut self, msg: CancelTask, _: &mut Context<Self>) -> bool {
        self.cancel_task(&msg.name)
    }
}
