//! The Logger loses nothing: 100,000 records emitted from several threads while a shutdown
//! runs are all in `logs/log.txt` when it is over, and a panic in a task reaches
//! `logs/crash.log`. In-process, through the global subscriber that `start` installs (one
//! per test binary, hence one test here).

use std::time::Duration;

use actix_shutdown::{
    Cancellation, Config, Shutdown, Step, StepOutcome, StepTimeouts, TaskOptions,
};

const THREADS: usize = 4;
const PER_THREAD: usize = 25_000;

#[actix_rt::test]
async fn every_record_emitted_during_a_shutdown_is_in_the_log_and_panics_reach_the_crash_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = Config::default()
        .state_dir(tmp.path().join("state"))
        .signals(false)
        .stop_system(false)
        .grace(Duration::from_secs(60))
        .task_grace(Duration::from_secs(60))
        .steps(generous_steps());
    let (shutdown, _boot) = Shutdown::builder(config.clone())
        .start()
        .await
        .expect("start");

    // A task that keeps emitting from several threads after the shutdown begins, and that
    // the shutdown waits for (its grace is long), so every record precedes FlushLogs.
    shutdown
        .tasks()
        .spawn("emitters", |cancel: Cancellation| async move {
            cancel.cancelled().await;
            let threads = tokio::task::spawn_blocking(|| {
                let handles: Vec<_> = (0..THREADS)
                    .map(|t| {
                        std::thread::spawn(move || {
                            for i in 0..PER_THREAD {
                                tracing::info!(thread = t, i, "load-record");
                            }
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .for_each(|h| h.join().expect("emitter thread"));
            });
            threads.await.expect("emitters");
        })
        .expect("spawn emitters");
    shutdown
        .tasks()
        .spawn_with(
            "doomed",
            TaskOptions::default(),
            |_cancel: Cancellation| async move { explode() },
        )
        .expect("spawn doomed");

    let answer = shutdown.shutdown("test:load").await;
    assert!(answer.ready);
    let report = tokio::time::timeout(Duration::from_secs(120), shutdown.wait())
        .await
        .expect("bounded");
    assert_eq!(
        report.step(Step::FlushLogs).map(|s| s.outcome),
        Some(StepOutcome::Completed),
        "{report:#?}"
    );

    let log = std::fs::read_to_string(config.log_path()).expect("log.txt");
    let records = log.lines().filter(|l| l.contains("load-record")).count();
    assert_eq!(records, THREADS * PER_THREAD, "every record is on disk");
    assert_eq!(report.logs_dropped, 0);
    let crash = std::fs::read_to_string(config.crash_log_path()).expect("crash.log");
    assert!(crash.contains("doomed task exploded"), "{crash}");
}

/// Writing and syncing 100,000 records may take longer than the default 2 s step on a slow
/// disk; this test is about losing none, not about speed.
fn generous_steps() -> StepTimeouts {
    let mut steps = StepTimeouts::default();
    steps.flush_logs = Duration::from_secs(60);
    steps.stop_logging = Duration::from_secs(60);
    steps
}

fn explode() {
    panic!("doomed task exploded");
}
