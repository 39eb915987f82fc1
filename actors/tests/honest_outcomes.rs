//! A report never calls a loss clean: `clean` is true and the exit code 0 (or 75 for a
//! restart) only when nothing was lost; every loss is named in `lost`. Paused time.

use actix_shutdown_actors::*;

#[path = "support/paused_system.rs"]
mod paused_system;
#[path = "support/probe.rs"]
mod probe;
use paused_system::PausedSystem;
use probe::*;

#[actix_rt::test(system = "PausedSystem")]
async fn a_run_that_loses_nothing_is_clean_and_exits_0() {
    let rig = rig(SupervisorConfig::default(), &[]);
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert!(report.clean);
    assert!(report.lost.is_empty());
    assert_eq!(report.exit_code, 0);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_forced_run_that_skips_a_state_is_not_clean_and_exits_1() {
    let rig = rig(SupervisorConfig::default(), &[]);
    request(
        &rig,
        ShutdownRequest::forced(RequestSource::Director, "director"),
    )
    .await;
    let report = report(&rig).await;
    assert!(report.forced);
    assert!(!report.clean);
    assert_eq!(report.lost, ["state queue skipped (forced)"]);
    assert_eq!(report.exit_code, 1);
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == StepOutcome::Completed),
        "every step completed, and still a loss: {report:#?}"
    );
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_run_with_an_aborted_task_is_not_clean_and_exits_1() {
    let rig = rig(SupervisorConfig::default(), &[("cancel_tasks", Act::Abort)]);
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert_eq!(report.lost, ["task worker-1 aborted"]);
    assert_eq!(report.exit_code, 1);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_restart_that_lost_something_exits_1_not_75() {
    let rig = rig(SupervisorConfig::default(), &[("persist_state", Act::Fail)]);
    request(&rig, graceful().with_restart(true)).await;
    let report = report(&rig).await;
    assert!(report.restart);
    assert_eq!(
        report.lost,
        ["state queue failed: No space left on device (os error 28)"]
    );
    assert_eq!(report.exit_code, 1);
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_loss_after_the_summary_is_written_rewrites_it_with_the_final_code() {
    let mut rig = rig(SupervisorConfig::default(), &[("release_lock", Act::Fail)]);
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert_eq!(report.exit_code, 1);
    let asked = rig.asked();
    assert_eq!(
        asked.iter().filter(|s| **s == "write_summary").count(),
        2,
        "written at its step, then again with exit code 1: {asked:?}"
    );
}
