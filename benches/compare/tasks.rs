//! Tasks on both sides: our TaskMonitor and tokio-util's TaskTracker with token clones, and
//! the metrics that compare them (cancel, spawn, memory per task, cancel scaling).

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_shutdown::{Cancellation, ClosingFlag, TaskOutcome};
use actix_shutdown_actors::TaskMonitor;
use actix_shutdown_actors::messages::{CancelAll, SpawnTask, Task, TaskOptions};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alloc::{live_bytes_after, settle};
use crate::pipeline::{boot, shut_down};
use crate::rows::{Row, median, ms, reps, side_by_side};

// ---------------------------------------------------------------- tasks, both sides

thread_local! {
    static STARTED: Cell<usize> = const { Cell::new(0) };
}

pub(crate) fn reset_started() {
    STARTED.with(|s| s.set(0));
}

pub(crate) fn mark_started() {
    STARTED.with(|s| s.set(s.get() + 1));
}

/// Yields to the local task set until `n` tasks have run their first poll.
pub(crate) async fn all_started(n: usize) {
    while STARTED.with(Cell::get) < n {
        tokio::task::yield_now().await;
    }
}

/// The cooperative idle task every metric uses, on both sides: note the start, wait for the
/// token (the reference's side).
pub(crate) async fn idle(token: CancellationToken) {
    mark_started();
    token.cancelled().await;
}

/// The same idle task on our side: note the start, wait for the cancellation.
pub(crate) async fn idle_ours(cancel: Cancellation) {
    mark_started();
    cancel.cancelled().await;
}

/// The idle task, as the TaskSpawner makes it.
pub(crate) fn idle_task() -> Task {
    Task::new(idle_ours)
}

pub(crate) fn spawn_message(i: usize) -> SpawnTask {
    SpawnTask {
        name: format!("task-{i}"),
        task: idle_task(),
        options: TaskOptions::default(),
    }
}

pub(crate) fn cancel_message(forced: bool) -> CancelAll {
    CancelAll {
        grace: Duration::from_secs(5),
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        forced,
    }
}

/// A TaskMonitor actor with `n` idle tasks, spawned through [`SpawnTask`] messages, all running.
pub(crate) async fn monitor_with(n: usize) -> Addr<TaskMonitor> {
    reset_started();
    let addr = TaskMonitor::new(ClosingFlag::new()).start();
    for i in 0..n {
        addr.do_send(spawn_message(i));
    }
    all_started(n).await;
    addr
}

/// Sends CancelAll and checks that every task ended cancelled; returns the time it took.
pub(crate) async fn cancel_through_message(addr: &Addr<TaskMonitor>, n: usize) -> Duration {
    let started = Instant::now();
    let report = addr
        .send(cancel_message(false))
        .await
        .expect("the TaskMonitor answers");
    let took = started.elapsed();
    assert_eq!(report.tasks.len(), n, "every task is reported");
    assert!(
        report
            .tasks
            .iter()
            .all(|t| t.outcome == TaskOutcome::Cancelled),
        "every task ended cancelled"
    );
    took
}

/// `n` idle tasks on a TaskTracker, each holding a clone of one CancellationToken, all running.
/// `n` idle tasks on a TaskTracker, each holding a clone of one CancellationToken (or, with
/// `child`, a child token of its own, as our tasks have), all running.
pub(crate) async fn tracker_with(n: usize, child: bool) -> (TaskTracker, CancellationToken) {
    reset_started();
    let tracker = TaskTracker::new();
    let token = CancellationToken::new();
    for _ in 0..n {
        let own = if child {
            token.child_token()
        } else {
            token.clone()
        };
        tracker.spawn_local(idle(own));
    }
    all_started(n).await;
    (tracker, token)
}

pub(crate) async fn cancel_tracker(tracker: &TaskTracker, token: &CancellationToken) -> Duration {
    let started = Instant::now();
    token.cancel();
    tracker.close();
    tracker.wait().await;
    started.elapsed()
}

// ---------------------------------------------------------------- task metrics

pub(crate) const TASKS: usize = 100_000;

pub(crate) async fn cancel_100k_tasks() -> Vec<Row> {
    let reference = |child: bool| async move {
        let (tracker, token) = tracker_with(TASKS, child).await;
        ms(cancel_tracker(&tracker, &token).await)
    };
    let (ours, clones) = side_by_side(
        reps(7),
        || async {
            let addr = monitor_with(TASKS).await;
            ms(cancel_through_message(&addr, TASKS).await)
        },
        || reference(false),
    )
    .await;
    let (direct, children) = side_by_side(
        reps(5),
        || async {
            reset_started();
            let mut monitor = TaskMonitor::new(ClosingFlag::new());
            for i in 0..TASKS {
                let msg = spawn_message(i);
                monitor
                    .spawn(msg.name, msg.task, msg.options)
                    .expect("spawned");
            }
            all_started(TASKS).await;
            let started = Instant::now();
            let report = monitor.cancel_all(&cancel_message(false)).await;
            let took = ms(started.elapsed());
            assert_eq!(report.tasks.len(), TASKS);
            took
        },
        || reference(true),
    )
    .await;
    vec![
        Row::new(
            "cancel_100k_tasks",
            "ms",
            ours,
            "tokio-util TaskTracker + CancellationToken clones: cancel, close, wait",
            clones,
            Some(1.2),
        ),
        Row::new(
            "cancel_100k_tasks_direct",
            "ms",
            direct,
            "same, TaskMonitor::cancel_all called directly",
            clones,
            None,
        ),
        Row::new(
            "cancel_100k_tasks_vs_child_tokens",
            "ms",
            ours,
            "tokio-util TaskTracker + a child token per task: cancel, close, wait",
            children,
            None,
        ),
    ]
}
/// Spawns `TASKS` idle tasks on a TaskTracker (clones of one token, or a child token each)
/// and returns the time until all run.
pub(crate) async fn spawn_on_tracker(child: bool) -> f64 {
    reset_started();
    let tracker = TaskTracker::new();
    let token = CancellationToken::new();
    let started = Instant::now();
    for _ in 0..TASKS {
        let own = if child {
            token.child_token()
        } else {
            token.clone()
        };
        tracker.spawn_local(idle(own));
    }
    all_started(TASKS).await;
    let took = ms(started.elapsed());
    cancel_tracker(&tracker, &token).await;
    took
}

pub(crate) async fn spawn_100k_tasks(scratch: &Path) -> Vec<Row> {
    let dir = scratch.join("spawn");
    // Ours: the user's path, `ShutdownHandle::tasks().spawn(..)`, one SpawnTask message each.
    let (ours, clones) = side_by_side(
        reps(7),
        || async {
            let handle = boot(&dir).await;
            let spawner = handle.tasks();
            reset_started();
            let started = Instant::now();
            for i in 0..TASKS {
                spawner
                    .spawn(format!("task-{i}"), idle_ours)
                    .expect("not closing");
            }
            all_started(TASKS).await;
            let took = ms(started.elapsed());
            let report = shut_down(&handle).await;
            assert_eq!(report.tasks.len(), TASKS);
            took
        },
        || spawn_on_tracker(false),
    )
    .await;
    let (direct, children) = side_by_side(
        reps(5),
        || async {
            reset_started();
            let mut monitor = TaskMonitor::new(ClosingFlag::new());
            let started = Instant::now();
            for i in 0..TASKS {
                monitor
                    .spawn(format!("task-{i}"), idle_task(), TaskOptions::default())
                    .expect("spawned");
            }
            all_started(TASKS).await;
            let took = ms(started.elapsed());
            monitor.cancel_all(&cancel_message(true)).await;
            took
        },
        || spawn_on_tracker(true),
    )
    .await;
    vec![
        Row::new(
            "spawn_100k_tasks",
            "ms",
            ours,
            "tokio-util TaskTracker::spawn_local, CancellationToken clones",
            clones,
            Some(1.5),
        ),
        Row::new(
            "spawn_100k_tasks_direct",
            "ms",
            direct,
            "same, TaskMonitor::spawn called directly",
            clones,
            None,
        ),
        Row::new(
            "spawn_100k_tasks_vs_child_tokens",
            "ms",
            ours,
            "tokio-util TaskTracker::spawn_local, a child token per task",
            children,
            None,
        ),
    ]
}

pub(crate) async fn bytes_per_task() -> Vec<Row> {
    let per_task = |bytes: isize| bytes as f64 / TASKS as f64;
    let (mut ours, mut clones, mut children) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps(3) {
        settle().await;
        let (bytes, addr) = live_bytes_after(monitor_with(TASKS)).await;
        ours.push(per_task(bytes));
        cancel_through_message(&addr, TASKS).await;
        drop(addr);

        for (child, into) in [(false, &mut clones), (true, &mut children)] {
            settle().await;
            let (bytes, (tracker, token)) = live_bytes_after(tracker_with(TASKS, child)).await;
            into.push(per_task(bytes));
            cancel_tracker(&tracker, &token).await;
        }
    }
    let ours = median(ours);
    vec![
        Row::new(
            "bytes_per_task",
            "bytes",
            ours,
            "tokio-util TaskTracker::spawn_local + a CancellationToken clone",
            median(clones),
            Some(1.5),
        ),
        Row::new(
            "bytes_per_task_vs_child_tokens",
            "bytes",
            ours,
            "tokio-util TaskTracker::spawn_local + a child token per task",
            median(children),
            None,
        ),
    ]
}

pub(crate) async fn cancel_scaling() -> (Vec<Row>, Vec<(usize, f64, f64)>) {
    let sizes = [(1_000, 31), (10_000, 15), (100_000, 7), (1_000_000, 3)];
    // Per size: (tasks, ours ns/task, TaskTracker ns/task).
    let mut per_task = Vec::new();
    // Warm-up.
    let addr = monitor_with(10_000).await;
    cancel_through_message(&addr, 10_000).await;
    drop(addr);
    for (n, full_reps) in sizes {
        let per = |took: Duration| took.as_secs_f64() * 1e9 / n as f64;
        let (ours, tracker) = side_by_side(
            reps(full_reps),
            || async {
                let addr = monitor_with(n).await;
                per(cancel_through_message(&addr, n).await)
            },
            || async {
                let (tracker, token) = tracker_with(n, false).await;
                per(cancel_tracker(&tracker, &token).await)
            },
        )
        .await;
        per_task.push((n, ours, tracker));
    }
    let spread = |pick: fn(&(usize, f64, f64)) -> f64| {
        let worst = per_task.iter().map(pick).fold(f64::MIN, f64::max);
        let best = per_task.iter().map(pick).fold(f64::MAX, f64::min);
        (worst, best)
    };
    let (worst, best) = spread(|p| p.1);
    let (tracker_worst, tracker_best) = spread(|p| p.2);
    let at_1k = per_task[0].1;
    let rows = vec![
        Row::new(
            "cancel_scaling",
            "ns/task",
            worst,
            &format!("own best per-task cancel cost over 1k..1M tasks (1k: {at_1k:.0} ns)"),
            best,
            Some(2.0),
        ),
        Row::new(
            "cancel_scaling_tracker",
            "ns/task",
            tracker_worst,
            "TaskTracker's own best per-task cancel cost over 1k..1M tasks (its max/min)",
            tracker_best,
            None,
        ),
    ];
    (rows, per_task)
}
