//! A task grace that the shutdown deadline cannot honour is said when the task is spawned —
//! a warning naming the task and both durations — and never cut in silence: the task that is
//! aborted for it is named in what the run lost.

use std::time::Duration;

use actix_shutdown::{Config, Shutdown, TaskOptions};

#[actix_rt::test]
async fn a_grace_longer_than_the_shutdown_allows_is_warned_at_spawn_and_its_abort_is_a_loss() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = Config::default()
        .state_dir(tmp.path().join("state"))
        .signals(false)
        .stop_system(false)
        .grace(Duration::from_secs(2))
        .forced_budget(Duration::from_secs(1));
    let (shutdown, _boot) = Shutdown::builder(config.clone())
        .start()
        .await
        .expect("start");
    let options = TaskOptions {
        grace: Some(Duration::from_secs(8)),
        ..TaskOptions::default()
    };
    shutdown
        .tasks()
        .spawn_with("slow-to-stop", options, |_cancel| {
            futures::future::pending::<()>()
        })
        .expect("spawned");
    shutdown.flush_logs().await.expect("flushed");
    let log = std::fs::read_to_string(config.log_path()).expect("log.txt");
    let warning = log
        .lines()
        .find(|l| l.contains("does not fit the shutdown"))
        .unwrap_or_else(|| panic!("no warning in\n{log}"));
    assert!(
        warning.contains("slow-to-stop") && warning.contains("8s") && warning.contains("1s"),
        "{warning}"
    );

    let answer = shutdown.shutdown("test").await;
    assert!(answer.ready, "{answer:?}");
    let report = shutdown.wait().await;
    assert!(!report.clean);
    assert!(
        report
            .lost
            .iter()
            .any(|l| l.starts_with("task slow-to-stop aborted")),
        "{:?}",
        report.lost
    );
    assert_eq!(report.exit_code, 1);
}
