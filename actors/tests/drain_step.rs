//! The `drain` step: every drain participant at once, each within the drain budget; one that
//! finishes, times out, fails or panics is reported by name and the pipeline goes on — and
//! draining ends before the tasks are cancelled and the state is persisted. Paused time on the
//! timer grid: durations are exact.

use std::time::Duration;

use actix::prelude::*;
use actix_shutdown_actors::messages::*;
use actix_shutdown_actors::*;
use futures::FutureExt;
use tokio::time::Instant;

#[path = "support/paused_system.rs"]
mod paused_system;
#[path = "support/probe.rs"]
mod probe;
use paused_system::PausedSystem;
use probe::*;

fn drainer<F>(rig: &Rig, name: &str, drain: F)
where
    F: Future<Output = Result<(), String>> + 'static,
    F: Send,
{
    rig.supervisor.do_send(RegisterDrain {
        name: name.into(),
        drainer: Drainer::Fn(Box::new(move || drain.boxed_local())),
    });
}

fn drain_record<'a>(report: &'a ShutdownReport, name: &str) -> &'a DrainRecord {
    report
        .drains
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no drain {name} in {report:#?}"))
}

#[actix_rt::test(system = "PausedSystem")]
async fn in_flight_work_ends_before_the_tasks_are_cancelled_and_the_state_is_persisted() {
    let mut rig = rig(SupervisorConfig::default(), &[]);
    let tx = rig.tx.clone();
    drainer(&rig, "api", async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let _ = tx.send("api drained");
        Ok(())
    });
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    assert_eq!(rig.asked()[..2], ["api drained", "cancel_tasks"]);
    let api = drain_record(&report, "api");
    assert_eq!(api.outcome, ParticipantOutcome::Completed);
    assert_ms(api.duration_ms, 1_500, "the drain took its work's time");
    assert_eq!(outcome(&report, Step::Drain), StepOutcome::Completed);
    assert!(report.clean && report.lost.is_empty(), "{report:#?}");
    assert_eq!(report.exit_code, 0);
}

#[actix_rt::test(system = "PausedSystem")]
async fn participants_that_finish_time_out_fail_or_panic_are_each_reported_and_the_pipeline_goes_on()
 {
    let config = SupervisorConfig {
        drain_timeout: Duration::from_secs(2),
        ..SupervisorConfig::default()
    };
    let mut rig = rig(config, &[]);
    drainer(&rig, "quick", async { Ok(()) });
    drainer(&rig, "slow", futures::future::pending());
    drainer(&rig, "broken", async {
        Err("the broker refused the stop".to_owned())
    });
    drainer(&rig, "buggy", async { panic!("drainer bug") });
    let started = Instant::now();
    request(&rig, graceful()).await;
    let report = report(&rig).await;

    let outcomes: Vec<(&str, ParticipantOutcome)> = report
        .drains
        .iter()
        .map(|d| (d.name.as_str(), d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("quick", ParticipantOutcome::Completed),
            ("slow", ParticipantOutcome::TimedOut),
            ("broken", ParticipantOutcome::Failed),
            ("buggy", ParticipantOutcome::Panicked),
        ]
    );
    // 2 s less the margin that leaves the step room to record the answers (250 ms).
    assert_ms(
        drain_record(&report, "slow").duration_ms,
        1_750,
        "the drain budget",
    );
    assert_eq!(
        drain_record(&report, "broken").error.as_deref(),
        Some("the broker refused the stop")
    );
    assert_eq!(
        drain_record(&report, "buggy").error.as_deref(),
        Some("drainer bug")
    );
    assert_eq!(outcome(&report, Step::Drain), StepOutcome::Failed);
    assert_eq!(rig.asked(), ASKED_STEPS, "every later step still runs");
    assert!(!report.clean);
    assert_eq!(
        report.lost,
        [
            "drain slow timed out: work still in flight after 1750 ms",
            "drain broken failed: the broker refused the stop",
            "drain buggy panicked: drainer bug",
        ]
    );
    assert_eq!(report.exit_code, 1);
    assert_ms(
        report.step(Step::Drain).expect("drain").duration_ms,
        1_750,
        "participants drain at once, not one after another",
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Answers [`Drain`] once its one job in flight is done.
struct Worker {
    job: Duration,
}

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Handler<Drain> for Worker {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, msg: Drain, _: &mut Context<Self>) -> Self::Result {
        let job = self.job;
        Box::pin(async move {
            assert!(msg.deadline > Instant::now(), "the deadline is ahead");
            tokio::time::sleep(job).await;
            Ok(())
        })
    }
}

#[actix_rt::test(system = "PausedSystem")]
async fn an_actor_answering_drain_is_waited_for() {
    let rig = rig(SupervisorConfig::default(), &[]);
    rig.supervisor.do_send(RegisterDrain {
        name: "worker".into(),
        drainer: Drainer::Actor(
            Worker {
                job: Duration::from_millis(700),
            }
            .start()
            .recipient(),
        ),
    });
    request(&rig, graceful()).await;
    let report = report(&rig).await;
    let worker = drain_record(&report, "worker");
    assert_eq!(worker.outcome, ParticipantOutcome::Completed);
    assert_ms(worker.duration_ms, 700, "its job's length");
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_forced_request_during_the_drain_cuts_it_to_the_forced_budget() {
    let config = SupervisorConfig {
        grace: Duration::from_secs(30),
        drain_timeout: Duration::from_secs(20),
        ..SupervisorConfig::default()
    };
    let rig = rig(config, &[]);
    drainer(&rig, "stuck", futures::future::pending());
    let started = Instant::now();
    request(&rig, graceful()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    request(
        &rig,
        ShutdownRequest::forced(RequestSource::Signal, "signal:SIGTERM"),
    )
    .await;
    let report = report(&rig).await;
    assert!(report.forced && report.escalated);
    let stuck = drain_record(&report, "stuck");
    assert_eq!(stuck.outcome, ParticipantOutcome::TimedOut);
    // Forced at 1 s with a 3 s budget: the drain gives up at 4 s.
    assert_ms(stuck.duration_ms, 4_000, "cut at the forced deadline");
    assert!(started.elapsed() < Duration::from_secs(6));
}
