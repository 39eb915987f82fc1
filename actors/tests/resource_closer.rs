//! ResourceCloser driven by its messages, in paused time: newest-first order, per-resource
//! timeouts, the CloseAll deadline, failures and contained panics.
//!
//! The runtime starts paused (`PausedSystem`) so that deadlines fall on tokio's millisecond
//! timer grid and elapsed times can be asserted exactly.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::{
    CloseAll, CloseReport, CloserFn, RegisterResource, TaskResult,
};
use actix_shutdown_actors::{ParticipantOutcome, ResourceCloser, ResourceRecord};
use futures::future::LocalBoxFuture;
use tokio::time::Instant;

const ASK: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[path = "support/paused_system.rs"]
mod paused_system;
use paused_system::PausedSystem;

/// Which closer started, and when.
type Probe = mpsc::Sender<(&'static str, Instant)>;

fn closer<F, Fut, R>(close: F) -> CloserFn
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R> + 'static,
    R: TaskResult,
{
    Box::new(move || {
        let fut = close();
        Box::pin(async move { fut.await.into_task_result() })
    })
}

/// Records its start, then succeeds.
fn quick(name: &'static str, probe: &Probe) -> CloserFn {
    let probe = probe.clone();
    closer(move || async move {
        probe.send((name, Instant::now())).unwrap();
    })
}

/// Records its start, then never finishes.
fn hung(name: &'static str, probe: &Probe) -> CloserFn {
    let probe = probe.clone();
    closer(move || async move {
        probe.send((name, Instant::now())).unwrap();
        std::future::pending::<()>().await;
    })
}

async fn register(
    closer: &Addr<ResourceCloser>,
    name: &str,
    timeout: Option<Duration>,
    close: CloserFn,
) {
    closer
        .send(RegisterResource {
            name: name.to_owned(),
            closer: close,
            timeout,
        })
        .timeout(ASK)
        .await
        .expect("the ResourceCloser answers RegisterResource");
}

async fn close_all(closer: &Addr<ResourceCloser>, deadline: Duration) -> CloseReport {
    closer
        .send(CloseAll {
            deadline: Instant::now() + deadline,
        })
        .timeout(LONG)
        .await
        .expect("the ResourceCloser answers CloseAll")
}

fn record(
    name: &str,
    outcome: ParticipantOutcome,
    duration: Duration,
    error: Option<&str>,
) -> ResourceRecord {
    ResourceRecord {
        name: name.to_owned(),
        outcome,
        duration_ms: u64::try_from(duration.as_millis()).unwrap(),
        error: error.map(str::to_owned),
    }
}

#[actix_rt::test(system = "PausedSystem")]
async fn closers_run_newest_first() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    for name in ["database", "http-client", "broker"] {
        register(&resources, name, None, quick(name, &probe)).await;
    }

    let report = close_all(&resources, Duration::from_secs(60)).await;

    let order: Vec<_> = started.try_iter().map(|(name, _)| name).collect();
    assert_eq!(order, ["broker", "http-client", "database"]);
    let reported: Vec<_> = report
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.outcome))
        .collect();
    assert_eq!(
        reported,
        [
            ("broker", ParticipantOutcome::Completed),
            ("http-client", ParticipantOutcome::Completed),
            ("database", ParticipantOutcome::Completed),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn hung_closer_times_out_at_its_own_timeout_and_the_next_closer_still_runs() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    register(&resources, "database", None, quick("database", &probe)).await;
    register(
        &resources,
        "broker",
        Some(Duration::from_secs(2)),
        hung("broker", &probe),
    )
    .await;

    let t0 = Instant::now();
    let report = close_all(&resources, Duration::from_secs(60)).await;

    let starts: Vec<_> = started
        .try_iter()
        .map(|(name, at)| (name, at - t0))
        .collect();
    assert_eq!(
        starts,
        [
            ("broker", Duration::ZERO),
            ("database", Duration::from_secs(2))
        ]
    );
    assert_eq!(
        report.resources,
        vec![
            record(
                "broker",
                ParticipantOutcome::TimedOut,
                Duration::from_secs(2),
                Some("did not close within 2s")
            ),
            record(
                "database",
                ParticipantOutcome::Completed,
                Duration::ZERO,
                None
            ),
        ]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn hung_closer_without_its_own_timeout_gets_the_default() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, _started) = mpsc::channel();
    register(&resources, "broker", None, hung("broker", &probe)).await;

    let t0 = Instant::now();
    let report = close_all(&resources, Duration::from_secs(60)).await;

    assert_eq!(t0.elapsed(), DEFAULT_TIMEOUT);
    assert_eq!(
        report.resources,
        vec![record(
            "broker",
            ParticipantOutcome::TimedOut,
            DEFAULT_TIMEOUT,
            Some("did not close within 5s")
        )]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn failing_closer_is_failed_with_its_error() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let failing =
        closer(|| async { Err::<(), _>(std::io::Error::other("connection reset by peer")) });
    register(&resources, "database", None, failing).await;

    let report = close_all(&resources, Duration::from_secs(60)).await;

    assert_eq!(
        report.resources,
        vec![record(
            "database",
            ParticipantOutcome::Failed,
            Duration::ZERO,
            Some("connection reset by peer")
        )]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn panicking_closer_is_panicked_and_the_older_closers_still_run() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    register(&resources, "database", None, quick("database", &probe)).await;
    let panicking = closer::<_, _, ()>(|| async { panic!("pool mutex poisoned") });
    register(&resources, "pool", None, panicking).await;

    let report = close_all(&resources, Duration::from_secs(60)).await;

    assert_eq!(
        report.resources,
        vec![
            record(
                "pool",
                ParticipantOutcome::Panicked,
                Duration::ZERO,
                Some("pool mutex poisoned")
            ),
            record(
                "database",
                ParticipantOutcome::Completed,
                Duration::ZERO,
                None
            ),
        ]
    );
    assert_eq!(
        started.try_iter().map(|(name, _)| name).collect::<Vec<_>>(),
        ["database"]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn close_all_deadline_caps_a_closer_timeout_and_later_closers_do_not_run() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    register(&resources, "database", None, quick("database", &probe)).await;
    register(
        &resources,
        "broker",
        Some(Duration::from_secs(30)),
        hung("broker", &probe),
    )
    .await;

    let t0 = Instant::now();
    let report = close_all(&resources, Duration::from_secs(3)).await;

    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    assert_eq!(
        report.resources,
        vec![
            record(
                "broker",
                ParticipantOutcome::TimedOut,
                Duration::from_secs(3),
                Some("did not close within 3s")
            ),
            record(
                "database",
                ParticipantOutcome::TimedOut,
                Duration::ZERO,
                Some("no time left before the shutdown deadline")
            ),
        ]
    );
    assert_eq!(
        started.try_iter().map(|(name, _)| name).collect::<Vec<_>>(),
        ["broker"]
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn second_close_all_has_nothing_left_to_close() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    register(&resources, "database", None, quick("database", &probe)).await;
    close_all(&resources, Duration::from_secs(60)).await;

    let again = close_all(&resources, Duration::from_secs(60)).await;

    assert_eq!(again, CloseReport::default());
    assert_eq!(started.try_iter().count(), 1, "each closer runs once");
}

#[actix_rt::test(system = "PausedSystem")]
async fn closer_that_panics_before_returning_its_future_is_panicked_and_contained() {
    let resources = ResourceCloser::new(DEFAULT_TIMEOUT).start();
    let (probe, started) = mpsc::channel();
    register(&resources, "database", None, quick("database", &probe)).await;
    let panicking: CloserFn = Box::new(|| -> LocalBoxFuture<'static, Result<(), String>> {
        panic!("pool already dropped")
    });
    register(&resources, "pool", None, panicking).await;

    let report = close_all(&resources, Duration::from_secs(60)).await;

    assert_eq!(
        report.resources,
        vec![
            record(
                "pool",
                ParticipantOutcome::Panicked,
                Duration::ZERO,
                Some("pool already dropped")
            ),
            record(
                "database",
                ParticipantOutcome::Completed,
                Duration::ZERO,
                None
            ),
        ]
    );
    assert_eq!(started.try_iter().count(), 1);
}
