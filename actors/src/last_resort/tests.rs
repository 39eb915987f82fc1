//! The last resort's traces whichever of it and the pipeline reaches the summary first.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{LastResort, RunProgress};
use crate::report::{ShutdownReport, StepOutcome, StepRecord};
use crate::request::RequestSource;
use crate::step::Step;

struct Fixture {
    dir: tempfile::TempDir,
    last_resort: LastResort,
    run: RunProgress,
}

/// A run whose pipeline completed every step before `at`, which it is in now; a lock file and
/// a summary path in a fresh directory; a last resort that ends with code 1.
fn run_in_step(at: Step) -> Fixture {
    let dir = tempfile::tempdir().expect("a temp dir");
    let lock = dir.path().join("bot.lock");
    std::fs::write(&lock, "{}").expect("a lock file");
    let mut report = ShutdownReport::new("signal:SIGTERM", RequestSource::Signal);
    report.steps = Step::ALL
        .into_iter()
        .take_while(|step| *step != at)
        .map(|name| StepRecord {
            name,
            outcome: StepOutcome::Completed,
            duration_ms: 1,
            error: None,
        })
        .collect();
    let current = Arc::new(Mutex::new(Some((at, Instant::now()))));
    let last_resort = LastResort {
        summary_path: dir.path().join("last_shutdown.json"),
        lock_path: Some(lock),
        exit_marker: Some(dir.path().join("exit_code")),
        log_queue: None,
        exit_code: 1,
    };
    Fixture {
        run: RunProgress::new(report, current, Arc::default()),
        last_resort,
        dir,
    }
}

fn summary(fixture: &Fixture) -> serde_json::Value {
    let text = std::fs::read_to_string(&fixture.last_resort.summary_path).expect("a summary");
    serde_json::from_str(&text).expect("JSON")
}

fn step_names(summary: &serde_json::Value) -> Vec<String> {
    summary["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn before_the_pipeline_writes_the_last_resort_writes_the_summary_and_removes_the_lock() {
    let fixture = run_in_step(Step::CloseResources);
    fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    let summary = summary(&fixture);
    let all: Vec<String> = Step::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(step_names(&summary), all);
    assert_eq!(summary["steps"][5]["outcome"], "timed_out");
    assert_eq!(summary["exit_code"], 1);
    assert!(!fixture.dir.path().join("bot.lock").exists());
    assert!(
        !fixture.run.summary.claim_for_pipeline(),
        "the pipeline writes no summary after the last resort"
    );
}

#[test]
fn after_the_pipeline_wrote_its_summary_the_last_resort_corrects_it_and_removes_the_lock() {
    // The pipeline wrote its summary (exit code 0) and is releasing the lock when the hard
    // deadline passes (a process stopped and continued past it lands here as often as not).
    let fixture = run_in_step(Step::ReleaseLock);
    assert!(fixture.run.summary.claim_for_pipeline());
    let written = ShutdownReport::new("signal:SIGTERM", RequestSource::Signal);
    std::fs::write(
        &fixture.last_resort.summary_path,
        serde_json::to_string(&written).expect("JSON"),
    )
    .expect("the pipeline's summary");
    fixture.run.summary.pipeline_write_ended(true);

    fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    let summary = summary(&fixture);
    assert_eq!(summary["exit_code"], 1, "the file agrees with the process");
    assert_eq!(summary["clean"], false);
    let names = step_names(&summary);
    assert_eq!(names.len(), Step::ALL.len(), "every step once: {names:?}");
    assert_eq!(
        summary["steps"][7]["outcome"], "timed_out",
        "release_lock cut short"
    );
    assert!(
        !fixture.dir.path().join("bot.lock").exists(),
        "a summary of this run is on disk: the lock file goes"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.dir.path().join("exit_code")).expect("the marker"),
        "1\n"
    );
}

#[test]
fn a_run_the_pipeline_sealed_is_left_as_it_is_and_ends_with_its_code() {
    // Every step ran (the lock released, the logs stopped) when the hard deadline passed.
    let fixture = run_in_step(Step::StopLogging);
    std::fs::remove_file(fixture.dir.path().join("bot.lock")).expect("released by the run");
    assert!(fixture.run.summary.claim_for_pipeline());
    fixture.run.summary.pipeline_write_ended(true);
    assert!(fixture.run.summary.seal(0));
    let code = fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    assert_eq!(code, 0, "the run's own code");
    assert!(
        !fixture.last_resort.summary_path.exists(),
        "the run's summary is left as it is"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.dir.path().join("exit_code")).expect("the marker"),
        "0\n"
    );
}

#[test]
fn over_an_abandoned_pipeline_write_the_summary_is_written_and_the_lock_file_kept() {
    // The pipeline's write timed out (a slow disk): it may still land after ours, so the lock
    // file stays and the next boot reports a run that did not finish, whatever the file says.
    let fixture = run_in_step(Step::ReleaseLock);
    assert!(fixture.run.summary.claim_for_pipeline());
    fixture.run.summary.pipeline_write_ended(false);
    let code = fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    assert_eq!(code, 1);
    let summary = summary(&fixture);
    assert_eq!(summary["exit_code"], 1);
    assert!(fixture.dir.path().join("bot.lock").exists());
}

#[test]
fn a_run_cut_short_after_its_last_step_is_still_not_clean() {
    let fixture = run_in_step(Step::StopLogging);
    let mut report = fixture.run.report.lock().unwrap();
    report.steps.push(StepRecord {
        name: Step::StopLogging,
        outcome: StepOutcome::Completed,
        duration_ms: 1,
        error: None,
    });
    drop(report);
    fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    let summary = summary(&fixture);
    assert_eq!(summary["clean"], false, "{summary:#}");
    assert_eq!(
        summary["lost"],
        serde_json::json!(["the run was cut short: hard deadline"]),
        "{summary:#}"
    );
}

#[test]
fn a_pipeline_write_still_under_way_keeps_the_lock_file() {
    let fixture = run_in_step(Step::WriteSummary);
    assert!(fixture.run.summary.claim_for_pipeline());
    fixture
        .last_resort
        .leave_traces("hard deadline", Some(&fixture.run));
    assert!(
        !fixture.last_resort.summary_path.exists(),
        "left to the pipeline"
    );
    assert!(
        fixture.dir.path().join("bot.lock").exists(),
        "no summary of this run is known to be on disk: the next boot reports it unfinished"
    );
}
