//! The closing check and 10,000 subsystems against tokio-graceful-shutdown.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use actix_shutdown::ClosingFlag;
use tokio_graceful_shutdown::{SubsystemBuilder, SubsystemHandle, Toplevel};
use tokio_util::sync::CancellationToken;

use crate::pipeline::{boot, shut_down};
use crate::rows::{Row, median, ms, reps, side_by_side};
use crate::tasks::{
    all_started, cancel_through_message, idle_ours, mark_started, monitor_with, reset_started,
};

// ---------------------------------------------------------------- checks and subsystems

pub(crate) fn is_closing_check() -> Vec<Row> {
    const CHECKS: u64 = 50_000_000;
    let flag = ClosingFlag::new();
    let token = CancellationToken::new();
    let time = |check: &dyn Fn() -> bool| {
        let started = Instant::now();
        let mut set = 0_u64;
        for _ in 0..CHECKS {
            set += u64::from(black_box(check()));
        }
        black_box(set);
        started.elapsed().as_secs_f64() * 1e9 / CHECKS as f64
    };
    let ours_check = || black_box(&flag).is_closing();
    let reference_check = || black_box(&token).is_cancelled();
    time(&ours_check);
    time(&reference_check);
    let (mut ours, mut reference) = (Vec::new(), Vec::new());
    for _ in 0..reps(7) {
        ours.push(time(&ours_check));
        reference.push(time(&reference_check));
    }
    vec![Row::new(
        "is_closing_check",
        "ns",
        median(ours),
        "tokio-util CancellationToken::is_cancelled",
        median(reference),
        Some(1.0),
    )]
}

pub(crate) type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// tokio-graceful-shutdown: a toplevel with `n` subsystems waiting for the shutdown; timed
/// from the shutdown request until `handle_shutdown_requests` returns.
pub(crate) async fn graceful_shutdown_subsystems(n: usize) -> f64 {
    reset_started();
    let token = CancellationToken::new();
    let toplevel = Toplevel::<BoxedError>::new_with_shutdown_token(
        async move |s: &mut SubsystemHandle| {
            for i in 0..n {
                s.start(SubsystemBuilder::new(
                    format!("task-{i}"),
                    async |h: &mut SubsystemHandle| {
                        mark_started();
                        h.on_shutdown_requested().await;
                        Ok::<(), BoxedError>(())
                    },
                ));
            }
        },
        token.clone(),
    );
    let run = tokio::task::spawn_local(toplevel.handle_shutdown_requests(Duration::from_secs(30)));
    all_started(n).await;
    let started = Instant::now();
    token.cancel();
    run.await.expect("joined").expect("clean shutdown");
    ms(started.elapsed())
}

pub(crate) async fn subsystems_10k(scratch: &Path) -> Vec<Row> {
    const N: usize = 10_000;
    let (ours, reference) = side_by_side(
        reps(11),
        || async {
            let addr = monitor_with(N).await;
            ms(cancel_through_message(&addr, N).await)
        },
        || graceful_shutdown_subsystems(N),
    )
    .await;
    let dir = scratch.join("subsystems");
    let mut pipeline = Vec::new();
    for _ in 0..reps(7) {
        let handle = boot(&dir).await;
        let spawner = handle.tasks();
        reset_started();
        for i in 0..N {
            spawner
                .spawn(format!("task-{i}"), idle_ours)
                .expect("not closing");
        }
        all_started(N).await;
        let started = Instant::now();
        let report = shut_down(&handle).await;
        pipeline.push(ms(started.elapsed()));
        assert_eq!(report.tasks.len(), N);
    }
    let reference_name = "tokio-graceful-shutdown: 10,000 subsystems, shutdown request to return";
    vec![
        Row::new(
            "subsystems_10k",
            "ms",
            ours,
            reference_name,
            reference,
            Some(0.5),
        ),
        Row::new(
            "subsystems_10k_whole_pipeline",
            "ms",
            median(pipeline),
            reference_name,
            reference,
            None,
        ),
    ]
}
