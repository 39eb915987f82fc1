//! TaskMonitor driven by its messages, in paused time: cancellation, grace, abort, panics,
//! failures, refusals and restart backoff, each with exact elapsed times.
//!
//! The runtime starts paused (`PausedSystem`) rather than calling `tokio::time::pause()` in
//! the test: a clock paused after the runtime started sits between two ticks of tokio's
//! millisecond timer wheel, and every deadline then fires 1 ms late, so exact durations could
//! not be asserted.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::{
    AbortAll, CancelAll, CancelReport, CancelTask, GetTasks, SpawnTask, Task, TaskInfo,
    TaskOptions, TaskResult, TaskState,
};
use actix_shutdown_actors::{
    BACKOFF_MAX, Cancellation, ClosingFlag, TaskError, TaskMonitor, TaskOutcome, TaskRecord,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;

/// Bound on a reply that needs no time to pass.
const ASK: Duration = Duration::from_secs(1);
/// Bound on a reply that waits out graces (paused time: free to be generous).
const LONG: Duration = Duration::from_secs(600);

#[path = "support/paused_system.rs"]
mod paused_system;
use paused_system::PausedSystem;

fn task<F, Fut, R>(f: F) -> Task
where
    F: Fn(Cancellation) -> Fut + Send + 'static,
    Fut: Future<Output = R> + 'static,
    R: TaskResult,
{
    Task::new(f)
}

/// Returns once its token fires.
fn cooperative() -> Task {
    task(|token: Cancellation| async move { token.cancelled().await })
}

/// Ignores its token forever; reports the instant its future is dropped (aborted).
fn hung(dropped: &UnboundedSender<Instant>) -> Task {
    let dropped = dropped.clone();
    task(move |_token| {
        let probe = DropProbe(dropped.clone());
        async move {
            let _probe = probe;
            std::future::pending::<()>().await;
        }
    })
}

/// Returns at once, after telling the test it ran.
fn finishing(ran: &UnboundedSender<()>) -> Task {
    let ran = ran.clone();
    task(move |_token| {
        let ran = ran.clone();
        async move {
            let _ = ran.send(());
        }
    })
}

struct DropProbe(UnboundedSender<Instant>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        let _ = self.0.send(Instant::now());
    }
}

fn monitor() -> (Addr<TaskMonitor>, ClosingFlag) {
    let closing = ClosingFlag::new();
    (TaskMonitor::new(closing.clone()).start(), closing)
}

fn own_grace(grace: Duration) -> TaskOptions {
    TaskOptions {
        grace: Some(grace),
        ..TaskOptions::default()
    }
}

async fn spawn(
    monitor: &Addr<TaskMonitor>,
    name: &str,
    options: TaskOptions,
    task: Task,
) -> Result<(), TaskError> {
    monitor
        .send(SpawnTask {
            name: name.to_owned(),
            task,
            options,
        })
        .timeout(ASK)
        .await
        .expect("the TaskMonitor answers SpawnTask")
}

async fn cancel_all(
    monitor: &Addr<TaskMonitor>,
    grace: Duration,
    deadline: Duration,
) -> CancelReport {
    monitor
        .send(CancelAll {
            grace,
            deadline: Instant::now() + deadline,
            forced: false,
        })
        .timeout(LONG)
        .await
        .expect("the TaskMonitor answers CancelAll")
}

async fn tasks(monitor: &Addr<TaskMonitor>) -> Vec<TaskInfo> {
    monitor
        .send(GetTasks)
        .timeout(ASK)
        .await
        .expect("the TaskMonitor answers GetTasks")
}

async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(LONG, rx.recv())
        .await
        .expect("the probe reports in time")
        .expect("the probe channel is open")
}

fn record(name: &str, outcome: TaskOutcome, error: Option<&str>) -> TaskRecord {
    TaskRecord {
        name: name.to_owned(),
        outcome,
        restarts: 0,
        error: error.map(str::to_owned),
    }
}

#[actix_rt::test(system = "PausedSystem")]
async fn cooperative_task_is_cancelled_as_soon_as_cancel_all_fires() {
    let (monitor, _) = monitor();
    spawn(&monitor, "poller", TaskOptions::default(), cooperative())
        .await
        .unwrap();

    let started = Instant::now();
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;

    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(
        report.tasks,
        vec![record("poller", TaskOutcome::Cancelled, None)]
    );
    assert_eq!(
        tasks(&monitor).await[0].state,
        TaskState::Ended(TaskOutcome::Cancelled)
    );
}

/// Hands its cancellation to the test, then returns once it fires.
fn watched(views: &UnboundedSender<Cancellation>) -> Task {
    let views = views.clone();
    task(move |cancel: Cancellation| {
        let _ = views.send(cancel.clone());
        async move { cancel.cancelled().await }
    })
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_task_cannot_cancel_another_through_what_it_was_handed() {
    let (monitor, _) = monitor();
    let (views, mut views_rx) = unbounded_channel();
    spawn(
        &monitor,
        "bystander",
        TaskOptions::default(),
        watched(&views),
    )
    .await
    .unwrap();
    let bystander = next(&mut views_rx).await;
    let (fired, mut fired_rx) = unbounded_channel();
    // The most a task can fire is a child of its view: its own sub-tasks' token.
    let meddler = task(move |cancel: Cancellation| {
        let fired = fired.clone();
        async move {
            cancel.child_token().cancel();
            let _ = fired.send(());
            cancel.cancelled().await;
        }
    });
    spawn(&monitor, "meddler", TaskOptions::default(), meddler)
        .await
        .unwrap();
    next(&mut fired_rx).await;

    assert!(
        !bystander.is_cancelled(),
        "the other task was not cancelled"
    );
    let states: Vec<_> = tasks(&monitor).await.iter().map(|t| t.state).collect();
    assert_eq!(states, vec![TaskState::Running, TaskState::Running]);
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;
    assert_eq!(
        report.tasks,
        vec![
            record("bystander", TaskOutcome::Cancelled, None),
            record("meddler", TaskOutcome::Cancelled, None),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn cancel_task_stops_only_the_task_with_its_own_cancellation() {
    let (monitor, _) = monitor();
    let own = TaskOptions {
        own_cancellation: true,
        ..TaskOptions::default()
    };
    let (views, mut views_rx) = unbounded_channel();
    for name in ["a", "b"] {
        spawn(&monitor, name, own.clone(), watched(&views))
            .await
            .unwrap();
    }
    spawn(&monitor, "shared", TaskOptions::default(), watched(&views))
        .await
        .unwrap();
    let (a, b, shared) = (
        next(&mut views_rx).await,
        next(&mut views_rx).await,
        next(&mut views_rx).await,
    );
    let cancel = |name: &str| {
        monitor
            .send(CancelTask {
                name: name.to_owned(),
            })
            .timeout(ASK)
    };

    assert!(cancel("a").await.expect("answered"), "a has its own");
    assert!(
        !cancel("shared").await.expect("answered"),
        "shared has none"
    );
    assert!(!cancel("nobody").await.expect("answered"));
    assert!(a.is_cancelled());
    assert!(!b.is_cancelled() && !shared.is_cancelled());
    a.cancelled().await;
    let states: Vec<_> = tasks(&monitor).await.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        vec![
            TaskState::Ended(TaskOutcome::Cancelled),
            TaskState::Running,
            TaskState::Running,
        ]
    );

    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;
    assert!(
        b.is_cancelled() && shared.is_cancelled(),
        "CancelAll fires them all"
    );
    assert_eq!(
        report.tasks,
        vec![
            record("a", TaskOutcome::Cancelled, None),
            record("b", TaskOutcome::Cancelled, None),
            record("shared", TaskOutcome::Cancelled, None),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn task_that_returned_before_cancel_all_is_finished() {
    let (monitor, _) = monitor();
    let (ran, mut ran_rx) = unbounded_channel();
    spawn(
        &monitor,
        "migration",
        TaskOptions::default(),
        finishing(&ran),
    )
    .await
    .unwrap();
    next(&mut ran_rx).await;
    assert_eq!(
        tasks(&monitor).await[0].state,
        TaskState::Ended(TaskOutcome::Finished)
    );

    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;

    assert_eq!(
        report.tasks,
        vec![record("migration", TaskOutcome::Finished, None)]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn hung_task_is_aborted_exactly_at_its_own_grace_or_the_default_one() {
    let (monitor, _) = monitor();
    let (dropped, mut dropped_rx) = unbounded_channel();
    spawn(
        &monitor,
        "own-grace",
        own_grace(Duration::from_secs(3)),
        hung(&dropped),
    )
    .await
    .unwrap();
    spawn(
        &monitor,
        "default-grace",
        TaskOptions::default(),
        hung(&dropped),
    )
    .await
    .unwrap();

    let started = Instant::now();
    let report = cancel_all(&monitor, Duration::from_secs(10), Duration::from_secs(60)).await;

    assert_eq!(
        next(&mut dropped_rx).await - started,
        Duration::from_secs(3)
    );
    assert_eq!(
        next(&mut dropped_rx).await - started,
        Duration::from_secs(10)
    );
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    let why = Some("ignored cancellation past its grace");
    assert_eq!(
        report.tasks,
        vec![
            record("own-grace", TaskOutcome::Aborted, why),
            record("default-grace", TaskOutcome::Aborted, why),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn cancel_all_deadline_caps_a_longer_grace() {
    let (monitor, _) = monitor();
    let (dropped, mut dropped_rx) = unbounded_channel();
    spawn(
        &monitor,
        "slow",
        own_grace(Duration::from_secs(30)),
        hung(&dropped),
    )
    .await
    .unwrap();

    let started = Instant::now();
    let report = cancel_all(&monitor, Duration::from_secs(10), Duration::from_secs(4)).await;

    assert_eq!(
        next(&mut dropped_rx).await - started,
        Duration::from_secs(4)
    );
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    assert_eq!(report.tasks[0].outcome, TaskOutcome::Aborted);
}

#[actix_rt::test(system = "PausedSystem")]
async fn forced_cancel_all_aborts_at_once_and_keeps_finished_tasks_finished() {
    let (monitor, _) = monitor();
    let (ran, mut ran_rx) = unbounded_channel();
    let (dropped, mut dropped_rx) = unbounded_channel();
    spawn(&monitor, "done", TaskOptions::default(), finishing(&ran))
        .await
        .unwrap();
    next(&mut ran_rx).await;
    spawn(
        &monitor,
        "stuck",
        own_grace(Duration::from_secs(30)),
        hung(&dropped),
    )
    .await
    .unwrap();

    let started = Instant::now();
    let report = monitor
        .send(CancelAll {
            grace: Duration::from_secs(30),
            deadline: started + Duration::from_secs(60),
            forced: true,
        })
        .timeout(LONG)
        .await
        .unwrap();

    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(next(&mut dropped_rx).await, started);
    assert_eq!(report.tasks[0], record("done", TaskOutcome::Finished, None));
    assert_eq!(report.tasks[1].name, "stuck");
    assert_eq!(report.tasks[1].outcome, TaskOutcome::Aborted);
}

#[actix_rt::test(system = "PausedSystem")]
async fn abort_all_during_a_long_cancel_all_aborts_the_hung_task_right_away() {
    let (monitor, _) = monitor();
    let (dropped, mut dropped_rx) = unbounded_channel();
    spawn(&monitor, "stuck", TaskOptions::default(), hung(&dropped))
        .await
        .unwrap();

    let started = Instant::now();
    let cancel = monitor
        .send(CancelAll {
            grace: Duration::from_secs(120),
            deadline: started + Duration::from_secs(300),
            forced: false,
        })
        .timeout(LONG);
    monitor.send(AbortAll).timeout(ASK).await.unwrap();
    let report = cancel.await.unwrap();

    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(next(&mut dropped_rx).await, started);
    assert_eq!(
        report.tasks,
        vec![record(
            "stuck",
            TaskOutcome::Aborted,
            Some("aborted by a forced shutdown")
        )]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn panicking_task_is_panicked_with_its_message_and_the_monitor_keeps_working() {
    let (monitor, _) = monitor();
    let (ran, mut ran_rx) = unbounded_channel::<()>();
    let crashing = task::<_, _, ()>(move |_token| {
        let ran = ran.clone();
        async move {
            let _ = ran.send(());
            panic!("worker exploded at item 7")
        }
    });
    spawn(&monitor, "crashy", TaskOptions::default(), crashing)
        .await
        .unwrap();
    next(&mut ran_rx).await;

    let crashed = &tasks(&monitor).await[0];
    assert_eq!(crashed.state, TaskState::Ended(TaskOutcome::Panicked));
    assert_eq!(
        crashed.last_error.as_deref(),
        Some("worker exploded at item 7")
    );
    spawn(&monitor, "after", TaskOptions::default(), cooperative())
        .await
        .unwrap();
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;

    assert_eq!(
        report.tasks,
        vec![
            record(
                "crashy",
                TaskOutcome::Panicked,
                Some("worker exploded at item 7")
            ),
            record("after", TaskOutcome::Cancelled, None),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn task_returning_err_is_failed_with_the_error_text() {
    let (monitor, _) = monitor();
    let (ran, mut ran_rx) = unbounded_channel::<()>();
    let failing = task(move |_token| {
        let ran = ran.clone();
        async move {
            let _ = ran.send(());
            Err::<(), _>(std::io::Error::other("disk quota exceeded"))
        }
    });
    spawn(&monitor, "exporter", TaskOptions::default(), failing)
        .await
        .unwrap();
    next(&mut ran_rx).await;

    let info = &tasks(&monitor).await[0];
    assert_eq!(info.state, TaskState::Ended(TaskOutcome::Failed));
    assert_eq!(info.last_error.as_deref(), Some("disk quota exceeded"));
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;

    assert_eq!(
        report.tasks,
        vec![record(
            "exporter",
            TaskOutcome::Failed,
            Some("disk quota exceeded")
        )]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn spawn_after_cancel_all_is_refused_as_closing() {
    let (monitor, closing) = monitor();
    cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;
    assert!(
        closing.is_closing(),
        "CancelAll sets the shared closing flag"
    );

    let refused = spawn(&monitor, "late", TaskOptions::default(), cooperative()).await;

    assert!(
        matches!(refused, Err(TaskError::Closing { ref name }) if name == "late"),
        "{refused:?}"
    );
    assert!(tasks(&monitor).await.is_empty());
}

#[actix_rt::test(system = "PausedSystem")]
async fn spawn_after_the_closing_flag_is_set_is_refused_as_closing() {
    let (monitor, closing) = monitor();
    closing.set();

    let refused = spawn(&monitor, "late", TaskOptions::default(), cooperative()).await;

    assert!(
        matches!(refused, Err(TaskError::Closing { ref name }) if name == "late"),
        "{refused:?}"
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn duplicate_name_is_refused_while_the_first_task_runs_and_accepted_once_it_ended() {
    let (monitor, _) = monitor();
    spawn(&monitor, "poller", TaskOptions::default(), cooperative())
        .await
        .unwrap();

    let refused = spawn(&monitor, "poller", TaskOptions::default(), cooperative()).await;
    assert!(
        matches!(refused, Err(TaskError::Duplicate { ref name }) if name == "poller"),
        "{refused:?}"
    );

    let (ran, mut ran_rx) = unbounded_channel();
    spawn(&monitor, "once", TaskOptions::default(), finishing(&ran))
        .await
        .unwrap();
    next(&mut ran_rx).await;
    spawn(&monitor, "once", TaskOptions::default(), finishing(&ran))
        .await
        .unwrap();
    assert_eq!(tasks(&monitor).await.len(), 3);
}

#[actix_rt::test(system = "PausedSystem")]
async fn failing_task_restarts_after_one_then_two_seconds() {
    let (monitor, _) = monitor();
    let (starts, mut starts_rx) = unbounded_channel();
    let failing = task(move |_token| {
        let starts = starts.clone();
        async move {
            let _ = starts.send(Instant::now());
            Err::<(), _>("database unreachable")
        }
    });
    let options = TaskOptions {
        restart_on_failure: true,
        ..TaskOptions::default()
    };
    let t0 = Instant::now();
    spawn(&monitor, "sync", options, failing).await.unwrap();

    assert_eq!(next(&mut starts_rx).await - t0, Duration::ZERO);
    assert_eq!(next(&mut starts_rx).await - t0, Duration::from_secs(1));
    assert_eq!(next(&mut starts_rx).await - t0, Duration::from_secs(3));
    assert_eq!(
        tasks(&monitor).await,
        vec![TaskInfo {
            name: "sync".to_owned(),
            state: TaskState::Restarting,
            restarts: 2,
            last_error: Some("database unreachable".to_owned()),
        }]
    );

    let cancelled_at = Instant::now();
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;

    assert_eq!(
        cancelled_at.elapsed(),
        Duration::ZERO,
        "CancelAll ends the backoff at once"
    );
    assert_eq!(
        report.tasks,
        vec![TaskRecord {
            name: "sync".to_owned(),
            outcome: TaskOutcome::Failed,
            restarts: 2,
            error: Some("database unreachable".to_owned()),
        }]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn backoff_starts_again_at_one_second_after_a_run_longer_than_the_longest_backoff() {
    let (monitor, _) = monitor();
    let (starts, mut starts_rx) = unbounded_channel();
    let runs = Arc::new(AtomicU32::new(0));
    let failing = task(move |_token| {
        let starts = starts.clone();
        let run = runs.fetch_add(1, Ordering::SeqCst);
        async move {
            let _ = starts.send(Instant::now());
            if run == 2 {
                tokio::time::sleep(BACKOFF_MAX + Duration::from_secs(1)).await;
            }
            Err::<(), _>("upstream closed the stream")
        }
    });
    let options = TaskOptions {
        restart_on_failure: true,
        ..TaskOptions::default()
    };
    let t0 = Instant::now();
    spawn(&monitor, "stream", options, failing).await.unwrap();

    let mut at = Vec::new();
    for _ in 0..4 {
        at.push(next(&mut starts_rx).await - t0);
    }

    // 0 s fails, 1 s later fails, 2 s later runs 61 s and fails, then 1 s again (not 4 s).
    assert_eq!(at, [0, 1, 3, 65].map(Duration::from_secs));
}

#[actix_rt::test(system = "PausedSystem")]
async fn factory_that_panics_before_returning_its_future_is_restarted() {
    let (monitor, _) = monitor();
    let (starts, mut starts_rx) = unbounded_channel();
    let panicking = task(move |_token| -> std::future::Ready<()> {
        let _ = starts.send(Instant::now());
        panic!("cannot open the connection pool");
    });
    let options = TaskOptions {
        restart_on_failure: true,
        ..TaskOptions::default()
    };
    let t0 = Instant::now();
    spawn(&monitor, "pool", options, panicking).await.unwrap();

    assert_eq!(next(&mut starts_rx).await - t0, Duration::ZERO);
    assert_eq!(next(&mut starts_rx).await - t0, Duration::from_secs(1));
    let info = &tasks(&monitor).await[0];
    assert_eq!(info.restarts, 1);
    assert_eq!(
        info.last_error.as_deref(),
        Some("cannot open the connection pool")
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn factory_that_panics_without_restart_is_panicked_and_the_monitor_keeps_working() {
    let (monitor, _) = monitor();
    let panicking = task(|_token| -> std::future::Ready<()> {
        panic!("cannot open the connection pool");
    });
    spawn(&monitor, "pool", TaskOptions::default(), panicking)
        .await
        .unwrap();
    spawn(&monitor, "worker", TaskOptions::default(), cooperative())
        .await
        .expect("the monitor still spawns");
    let report = cancel_all(&monitor, Duration::from_secs(5), Duration::from_secs(60)).await;
    assert_eq!(report.tasks[0].outcome, TaskOutcome::Panicked);
    assert_eq!(
        report.tasks[0].error.as_deref(),
        Some("cannot open the connection pool")
    );
    assert_eq!(report.tasks[1].outcome, TaskOutcome::Cancelled);
}

#[actix_rt::test(system = "PausedSystem")]
async fn tasks_that_ended_long_ago_give_their_slots_to_new_ones() {
    let monitor = TaskMonitor::new(ClosingFlag::new()).start();
    let (ran_tx, mut ran) = unbounded_channel();
    let total = actix_shutdown_actors::ENDED_KEPT * 3;
    for i in 0..total {
        spawn(
            &monitor,
            &format!("job-{i}"),
            TaskOptions::default(),
            finishing(&ran_tx),
        )
        .await
        .expect("spawned");
        tokio::time::timeout(ASK, ran.recv())
            .await
            .expect("bounded")
            .expect("ran");
    }
    spawn(&monitor, "worker", TaskOptions::default(), cooperative())
        .await
        .expect("spawned");
    let tasks = monitor.send(GetTasks).timeout(ASK).await.expect("listed");
    assert!(
        tasks.len() <= actix_shutdown_actors::ENDED_KEPT + 2,
        "{} tasks listed after {total} short ones ended",
        tasks.len()
    );
    assert!(
        tasks
            .iter()
            .any(|t| t.name == "worker" && t.state == TaskState::Running)
    );
    assert!(
        tasks.iter().any(|t| t.name == format!("job-{}", total - 1)),
        "the newest ended ones stay listed"
    );
    let report = monitor
        .send(CancelAll {
            grace: Duration::from_secs(1),
            deadline: Instant::now() + LONG,
            forced: false,
        })
        .timeout(LONG)
        .await
        .expect("cancelled");
    let worker = report
        .tasks
        .iter()
        .find(|t| t.name == "worker")
        .expect("worker reported");
    assert_eq!(worker.outcome, TaskOutcome::Cancelled);
    assert_eq!(report.tasks.len(), tasks.len());
}
