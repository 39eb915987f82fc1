//! The slot table the monitor and its tasks share on the actor's thread: one slot per task in
//! spawn order, the count CancelAll waits on, and the guard through which a task records its
//! own end (or its abort, when its future is dropped first).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::hash::Hasher;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::TaskState;
use crate::report::TaskOutcome;

/// Tasks that ended on their own stay listed (GetTasks, the report) up to this many; older
/// ones give their slot to new tasks, so a bot that spawns a task per job does not grow.
pub const ENDED_KEPT: usize = 1024;

/// Why a task was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AbortReason {
    /// Still running when its grace ran out.
    PastGrace,
    /// Still running when the shutdown deadline came, before its own grace ended.
    GraceCut,
    /// Aborted by [`AbortAll`] (an escalation) before it ended.
    Forced,
}

impl AbortReason {
    pub(super) fn text(self) -> &'static str {
        match self {
            Self::PastGrace => "ignored cancellation past its grace",
            Self::GraceCut => {
                "still running at the shutdown deadline, which cut its grace short (raise the shutdown's grace or shorten the task's)"
            }
            Self::Forced => "aborted by a forced shutdown",
        }
    }
}

/// One spawned task, in spawn order. What few tasks have (their own grace or cancellation, a
/// restart count, a crash's error) is out of line in [`SlotExtra`], so that the slot of a
/// plain task stays at 48 bytes.
pub(super) struct Slot {
    pub(super) name: String,
    /// Aborts the task; dropped once it has ended, so that its memory is freed.
    pub(super) handle: Option<JoinHandle<()>>,
    pub(super) extra: Option<Box<SlotExtra>>,
    pub(super) state: TaskState,
    pub(super) aborted: Option<AbortReason>,
}

// The size the doc above states, kept true (bytes_per_task in benches/compare.rs counts it).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Slot>() == 48);

/// The rarer parts of a [`Slot`].
#[derive(Default)]
pub(super) struct SlotExtra {
    /// A grace of its own (`TaskOptions::grace`).
    pub(super) grace: Option<Duration>,
    pub(super) restarts: u32,
    pub(super) last_error: Option<String>,
    /// The task's own cancellation, when it asked for one (`TaskOptions::own_cancellation`).
    pub(super) own: Option<CancellationToken>,
}

impl Slot {
    /// A running task's slot.
    pub(super) fn new(name: String, grace: Option<Duration>) -> Self {
        let mut slot = Slot {
            name,
            handle: None,
            extra: None,
            state: TaskState::Running,
            aborted: None,
        };
        if grace.is_some() {
            slot.extra_mut().grace = grace;
        }
        slot
    }

    pub(super) fn is_ended(&self) -> bool {
        matches!(self.state, TaskState::Ended(_))
    }

    pub(super) fn grace(&self) -> Option<Duration> {
        self.extra.as_ref().and_then(|e| e.grace)
    }

    pub(super) fn restarts(&self) -> u32 {
        self.extra.as_ref().map_or(0, |e| e.restarts)
    }

    pub(super) fn last_error(&self) -> Option<&String> {
        self.extra.as_ref().and_then(|e| e.last_error.as_ref())
    }

    pub(super) fn own(&self) -> Option<&CancellationToken> {
        self.extra.as_ref().and_then(|e| e.own.as_ref())
    }

    /// Drops the task's own cancellation (it ended).
    pub(super) fn take_own(&mut self) -> Option<CancellationToken> {
        self.extra.as_mut().and_then(|e| e.own.take())
    }

    pub(super) fn extra_mut(&mut self) -> &mut SlotExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The error a report gives for this task's end: the last run's for a crash, the reason
    /// for an abort.
    pub(super) fn end_error(&self) -> Option<String> {
        match self.state {
            TaskState::Ended(TaskOutcome::Failed | TaskOutcome::Panicked) => {
                self.last_error().cloned()
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
pub(super) struct Table {
    pub(super) slots: RefCell<Vec<Slot>>,
    /// Set by CancelAll together with the root token (checking it needs no lock).
    pub(super) cancelled: Cell<bool>,
    /// Slots below this index belong to a CancelAll already.
    pub(super) claimed: Cell<usize>,
    /// Claimed tasks that have not ended yet.
    pub(super) waiting_for: Cell<usize>,
    /// The CancelAll waiting for `waiting_for` to reach zero.
    pub(super) waiter: Cell<Option<Waker>>,
    /// Slots of tasks that ended before any CancelAll, oldest first: past
    /// [`ENDED_KEPT`] of them, the oldest is reused by the next spawn.
    pub(super) ended: RefCell<VecDeque<usize>>,
}

impl Table {
    /// Records the end of task `index` (once; later calls are ignored) and wakes CancelAll
    /// when it was the last one it waited for.
    pub(super) fn end(&self, index: usize, outcome: TaskOutcome, aborted: Option<AbortReason>) {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return;
        };
        let slot = &mut slots[index];
        if slot.is_ended() {
            return;
        }
        slot.state = TaskState::Ended(outcome);
        slot.aborted = aborted;
        let (handle, own) = (slot.handle.take(), slot.take_own());
        drop(slots);
        drop((handle, own));
        self.ended_claimed(index, 1);
    }

    pub(super) fn ended_claimed(&self, index: usize, count: usize) {
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

    /// True when CancelAll fired (no lock taken) or task `index`'s own cancellation did (it is
    /// in its slot until the task ends).
    pub(super) fn is_task_cancelled(&self, index: usize) -> bool {
        self.cancelled.get()
            || self.slots.try_borrow().is_ok_and(|slots| {
                slots[index]
                    .own()
                    .is_some_and(CancellationToken::is_cancelled)
            })
    }

    pub(super) fn update(&self, index: usize, f: impl FnOnce(&mut Slot)) {
        f(&mut self.slots.borrow_mut()[index]);
    }

    pub(super) fn name(&self, index: usize) -> String {
        self.slots.borrow()[index].name.clone()
    }

    /// Resolves once every claimed task has ended.
    pub(super) async fn all_claimed_ended(&self) {
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
    pub(super) fn abort_expired(
        &self,
        range: std::ops::Range<usize>,
        deadline_of: &impl Fn(&Slot) -> (Instant, bool),
        now: Instant,
        reason: AbortReason,
    ) {
        let mut aborted = Vec::new();
        {
            let mut slots = self.slots.borrow_mut();
            for slot in &mut slots[range.clone()] {
                let (until, cut) = deadline_of(slot);
                if slot.is_ended() || until > now {
                    continue;
                }
                let reason = match reason {
                    AbortReason::PastGrace if cut => AbortReason::GraceCut,
                    reason => reason,
                };
                tracing::warn!(task = %crate::escape::escape(&slot.name), "task {}; aborted", reason.text());
                slot.state = TaskState::Ended(TaskOutcome::Aborted);
                slot.aborted = Some(reason);
                aborted.extend(slot.handle.take());
                slot.take_own();
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
pub(super) struct EndGuard {
    pub(super) table: Rc<Table>,
    pub(super) index: usize,
}

impl EndGuard {
    /// Logs a crash and keeps its error as the task's last one.
    pub(super) fn after_run(&self, outcome: TaskOutcome, error: Option<String>) -> TaskOutcome {
        if let Some(e) = error {
            tracing::error!(task = %self.table.name(self.index), ?outcome, "task crashed: {e}");
            self.table
                .update(self.index, |slot| slot.extra_mut().last_error = Some(e));
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

/// A hasher for keys that are hashes already.
#[derive(Default)]
pub(super) struct PreHashed(u64);

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
