//! TaskMonitor: named background tasks on the actor's thread, each with a cancellation token.
//! At [`CancelAll`] every token fires, each task gets its grace, then it is aborted; panics
//! are contained; crashed tasks may restart with exponential backoff.
//!
//! Cost model (see `benches/compare.rs`): every task records its own end in a slot of one
//! shared table, so CancelAll waits on a single counter rather than on one join handle and
//! one timer per task, and needs one timer per distinct deadline. Names are checked for
//! duplicates through a hash index, so spawning stays O(1) per task.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use actix::prelude::*;
use futures::FutureExt;
use tokio::task::JoinHandle;
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

/// Why a task was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AbortReason {
    /// Still running when its grace (or the CancelAll deadline) ran out.
    PastGrace,
    /// Aborted by [`AbortAll`] (an escalation) before it ended.
    Forced,
}

impl AbortReason {
    fn text(self) -> &'static str {
        match self {
            Self::PastGrace => "ignored cancellation past its grace",
            Self::Forced => "aborted by a forced shutdown",
        }
    }
}

/// One spawned task, in spawn order.
struct Slot {
    name: String,
    grace: Option<Duration>,
    /// Aborts the task; dropped once it has ended, so that its memory is freed.
    handle: Option<JoinHandle<()>>,
    state: TaskState,
    restarts: u32,
    last_error: Option<String>,
    aborted: Option<AbortReason>,
}

impl Slot {
    fn is_ended(&self) -> bool {
        matches!(self.state, TaskState::Ended(_))
    }

    /// The error a report gives for this task's end: the last run's for a crash, the reason
    /// for an abort.
    fn end_error(&self) -> Option<String> {
        match self.state {
            TaskState::Ended(TaskOutcome::Failed | TaskOutcome::Panicked) => {
                self.last_error.clone()
            }
            TaskState::Ended(TaskOutcome::Aborted) => Some(
                self.aborted
                    .unwrap_or(AbortReason::Forced)
                    .text()
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// The table the monitor and its tasks share (all on the actor's thread).
#[derive(Default)]
struct Table {
    slots: RefCell<Vec<Slot>>,
    /// Set by CancelAll together with the root token (checking it needs no lock).
    cancelled: Cell<bool>,
    /// Slots below this index belong to a CancelAll already.
    claimed: Cell<usize>,
    /// Claimed tasks that have not ended yet.
    waiting_for: Cell<usize>,
    /// The CancelAll waiting for `waiting_for` to reach zero.
    waiter: Cell<Option<Waker>>,
    /// Slots of tasks that ended before any CancelAll, oldest first: past
    /// [`ENDED_KEPT`] of them, the oldest is reused by the next spawn.
    ended: RefCell<std::collections::VecDeque<usize>>,
}

impl Table {
    /// Records the end of task `index` (once; later calls are ignored) and wakes CancelAll
    /// when it was the last one it waited for.
    fn end(&self, index: usize, outcome: TaskOutcome, aborted: Option<AbortReason>) {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return;
        };
        let slot = &mut slots[index];
        if slot.is_ended() {
            return;
        }
        slot.state = TaskState::Ended(outcome);
        slot.aborted = aborted;
        let handle = slot.handle.take();
        drop(slots);
        drop(handle);
        self.ended_claimed(index, 1);
    }

    fn ended_claimed(&self, index: usize, count: usize) {
        if index < self.claimed.get() && count > 0 {
            let left = self.waiting_for.get().saturating_sub(count);
            self.waiting_for.set(left);
            if left == 0
                && let Some(waiter) = self.waiter.take()
            {
                waiter.wake();
            }
        }
    }

    /// True when CancelAll fired (no lock taken) or the task cancelled its own token.
    fn is_cancelled(&self, token: &CancellationToken) -> bool {
        self.cancelled.get() || token.is_cancelled()
    }

    fn update(&self, index: usize, f: impl FnOnce(&mut Slot)) {
        f(&mut self.slots.borrow_mut()[index]);
    }

    fn name(&self, index: usize) -> String {
        self.slots.borrow()[index].name.clone()
    }

    /// Resolves once every claimed task has ended.
    async fn all_claimed_ended(&self) {
        std::future::poll_fn(|cx| {
            if self.waiting_for.get() == 0 {
                Poll::Ready(())
            } else {
                self.waiter.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await;
    }

    /// Aborts the still-running tasks of `range` whose deadline is at or before `now`.
    fn abort_expired(
        &self,
        range: std::ops::Range<usize>,
        deadline_of: &impl Fn(&Slot) -> Instant,
        now: Instant,
        reason: AbortReason,
    ) {
        let mut aborted = Vec::new();
        {
            let mut slots = self.slots.borrow_mut();
            for slot in &mut slots[range.clone()] {
                if slot.is_ended() || deadline_of(slot) > now {
                    continue;
                }
                tracing::warn!(task = %slot.name, "task {}; aborted", reason.text());
                slot.state = TaskState::Ended(TaskOutcome::Aborted);
                slot.aborted = Some(reason);
                aborted.extend(slot.handle.take());
            }
        }
        let count = aborted.len();
        for handle in aborted {
            handle.abort();
        }
        self.ended_claimed(range.start, count);
    }
}

/// Records an abort when a task's future is dropped before it ended (AbortAll, or the
/// runtime going away).
struct EndGuard {
    table: Rc<Table>,
    index: usize,
}

impl EndGuard {
    /// Logs a crash and keeps its error as the task's last one.
    fn after_run(&self, outcome: TaskOutcome, error: Option<String>) -> TaskOutcome {
        if let Some(e) = error {
            tracing::error!(task = %self.table.name(self.index), ?outcome, "task crashed: {e}");
            self.table
                .update(self.index, |slot| slot.last_error = Some(e));
        }
        outcome
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.table
            .end(self.index, TaskOutcome::Aborted, Some(AbortReason::Forced));
        if self.index >= self.table.claimed.get() {
            self.table.ended.borrow_mut().push_back(self.index);
        }
    }
}

/// Tasks that ended on their own stay listed (GetTasks, the report) up to this many; older
/// ones give their slot to new tasks, so a bot that spawns a task per job does not grow.
pub const ENDED_KEPT: usize = 1024;

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Runs and tracks named tasks; answers [`SpawnTask`], [`CancelAll`], [`AbortAll`],
/// [`GetTasks`].
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
        factory: TaskFactory,
        options: TaskOptions,
    ) -> Result<(), TaskError> {
        if self.closing.is_closing() || self.table.cancelled.get() {
            return Err(TaskError::Closing { name });
        }
        let hash = self.hasher.hash_one(name.as_str());
        if self.is_running(&name, hash) {
            return Err(TaskError::Duplicate { name });
        }
        let slot = Slot {
            name,
            grace: options.grace,
            handle: None,
            state: TaskState::Running,
            restarts: 0,
            last_error: None,
            aborted: None,
        };
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
        let token = self.root.child_token();
        let join =
            tokio::task::spawn_local(supervise(guard, factory, token, options.restart_on_failure));
        self.table.update(index, |slot| slot.handle = Some(join));
        self.names.insert(hash, index);
        Ok(())
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
                restarts: s.restarts,
                last_error: s.last_error.clone(),
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

    /// Fires every token and returns a future that waits for each task up to its grace
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
                    if !graces.contains(&slot.grace) {
                        graces.push(slot.grace);
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
        let deadline_of = move |slot: &Slot| {
            if forced {
                now
            } else {
                (now + slot.grace.unwrap_or(grace)).min(deadline)
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
                record.restarts = slot.restarts;
                record.error = slot.end_error();
            }
            CancelReport { tasks }
        }
    }
}

/// Runs a task's factory until it ends for good; restarts crashes with backoff when asked.
/// The guard records the end, or an abort if this future is dropped first.
///
/// A plain function returning an `async move` block that uses its captures in place (an
/// `async fn` would store its arguments twice), with the restart loop boxed: a task that never
/// crashes then fits tokio's 256-byte task cell.
#[expect(
    clippy::manual_async_fn,
    reason = "as an async fn its task takes a 384-byte tokio cell instead of 256 (benches/compare.rs)"
)]
fn supervise(
    guard: EndGuard,
    factory: TaskFactory,
    token: CancellationToken,
    restart_on_failure: bool,
) -> impl Future<Output = ()> + 'static {
    async move {
        // Only the backoff needs the start time: no clock read for the other tasks.
        let started = restart_on_failure.then(Instant::now);
        let (outcome, error) = run_once(&guard.table, &factory, &token).await;
        let mut outcome = guard.after_run(outcome, error);
        if let Some(started) = started
            && is_crash(outcome)
            && !guard.table.is_cancelled(&token)
        {
            outcome = Box::pin(restart(&guard, &factory, &token, outcome, started)).await;
        }
        guard.table.end(guard.index, outcome, None);
    }
}

/// One run of the task: its outcome, and the error of a crash. The factory itself may panic
/// before it returns a future: it is called inside the guard too.
async fn run_once(
    table: &Table,
    factory: &TaskFactory,
    token: &CancellationToken,
) -> (TaskOutcome, Option<String>) {
    let run = match std::panic::catch_unwind(AssertUnwindSafe(|| factory(token.clone()))) {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match run {
        Ok(Ok(())) if table.is_cancelled(token) => (TaskOutcome::Cancelled, None),
        Ok(Ok(())) => (TaskOutcome::Finished, None),
        Ok(Err(e)) => (TaskOutcome::Failed, Some(e)),
        Err(panic) => (TaskOutcome::Panicked, Some(panic_message(&*panic))),
    }
}

fn is_crash(outcome: TaskOutcome) -> bool {
    matches!(outcome, TaskOutcome::Failed | TaskOutcome::Panicked)
}

/// Restarts a crashed task with backoff (1 s doubling to 60 s, back to 1 s after a run longer
/// than that) until a run ends without crashing or the token fires; the final outcome.
async fn restart(
    guard: &EndGuard,
    factory: &TaskFactory,
    token: &CancellationToken,
    mut outcome: TaskOutcome,
    mut started: Instant,
) -> TaskOutcome {
    let mut backoff = BACKOFF_START;
    loop {
        if started.elapsed() > BACKOFF_MAX {
            backoff = BACKOFF_START;
        }
        guard
            .table
            .update(guard.index, |slot| slot.state = TaskState::Restarting);
        tracing::info!(task = %guard.table.name(guard.index), "restarting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = token.cancelled() => return outcome,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        guard.table.update(guard.index, |slot| {
            slot.restarts += 1;
            slot.state = TaskState::Running;
        });
        started = Instant::now();
        let (ran, error) = run_once(&guard.table, factory, token).await;
        outcome = guard.after_run(ran, error);
        if !is_crash(outcome) || guard.table.is_cancelled(token) {
            return outcome;
        }
    }
}

impl Actor for TaskMonitor {
    type Context = Context<Self>;
}

impl Handler<SpawnTask> for TaskMonitor {
    type Result = Result<(), TaskError>;

    fn handle(&mut self, msg: SpawnTask, _: &mut Context<Self>) -> Self::Result {
        self.spawn(msg.name, msg.factory, msg.options)
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
