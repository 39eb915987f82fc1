//! Draining tracked futures: 10,000 futures tracked with `ShutdownHandle::track`, released when
//! the `drain` step starts and waited for by it, against tokio-util's `TaskTracker` with
//! `track_future` (release, close, wait). Both sides spawn the same futures on the same
//! runtime; boot and the rest of the pipeline are outside the measure.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_shutdown::{Config, Shutdown, Step, StepEvent};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::rows::{Row, ms, reps, side_by_side};
use crate::tasks::{all_started, idle, reset_started};

const TRACKED: usize = 10_000;

/// When the drain step started and ended, as the progress listener saw them.
type DrainTimes = Arc<Mutex<(Option<Instant>, Option<Instant>)>>;

/// Ours: spawn the tracked futures, begin a shutdown; the progress listener releases them
/// when `drain` starts. The spawn time plus the drain step's own time.
async fn ours(dir: &Path) -> f64 {
    let release = CancellationToken::new();
    let times: DrainTimes = Arc::default();
    let (seen, fire) = (Arc::clone(&times), release.clone());
    let config = Config::default()
        .state_dir(dir)
        .signals(false)
        .stop_system(false)
        .install_tracing(false)
        .panic_hook(false);
    let (handle, _boot) = Shutdown::builder(config)
        .on_progress(move |event| match event {
            StepEvent::Started { step: Step::Drain } => {
                seen.lock().unwrap().0 = Some(Instant::now());
                fire.cancel();
            }
            StepEvent::Finished { record } if record.name == Step::Drain => {
                seen.lock().unwrap().1 = Some(Instant::now());
            }
            _ => {}
        })
        .start()
        .await
        .expect("boot");
    reset_started();
    let spawning = Instant::now();
    for _ in 0..TRACKED {
        actix::spawn(handle.track(idle(release.clone())));
    }
    all_started(TRACKED).await;
    let spawned = spawning.elapsed();
    assert!(handle.shutdown("bench").await.ready);
    let report = handle.wait().await;
    assert!(report.clean, "every tracked future drained: {report:?}");
    let (Some(started), Some(ended)) = *times.lock().unwrap() else {
        panic!("the drain step ran")
    };
    ms(spawned + ended.duration_since(started))
}

/// The reference: the same futures through `TaskTracker::track_future`, released, the tracker
/// closed and waited for.
async fn reference() -> f64 {
    let release = CancellationToken::new();
    let tracker = TaskTracker::new();
    reset_started();
    let spawning = Instant::now();
    for _ in 0..TRACKED {
        actix::spawn(tracker.track_future(idle(release.clone())));
    }
    all_started(TRACKED).await;
    let spawned = spawning.elapsed();
    let draining = Instant::now();
    release.cancel();
    tracker.close();
    tracker.wait().await;
    ms(spawned + draining.elapsed())
}

pub(crate) async fn drain_10k_tracked(scratch: &Path) -> Vec<Row> {
    let mut run = 0;
    let (ours, reference) = side_by_side(
        reps(15),
        || {
            run += 1;
            let dir = scratch.join(format!("drain-{run}"));
            async move { ours(&dir).await }
        },
        || async { reference().await },
    )
    .await;
    vec![Row::new(
        "drain_10k_tracked",
        "ms",
        ours,
        "TaskTracker::track_future: 10,000 futures, release, close, wait",
        reference,
        Some(1.2),
    )]
}
