//! Hooks registered through the handle: async closures, actors, and removal.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;
use actix_shutdown::{ParticipantOutcome, RequestSource, ShutdownRequest, ShutdownRequested};

use super::support::start;

fn forced(reason: &str) -> ShutdownRequest {
    ShutdownRequest::forced(RequestSource::Api, reason)
}

#[actix_rt::test]
async fn an_async_hook_cancels_a_graceful_request_and_a_failing_one_is_recorded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    shutdown.on_shutdown_request_async("busy", |request, response| async move {
        if !request.is_forced() {
            response.cancel();
        }
        Ok::<(), String>(())
    });
    shutdown.on_shutdown_request_async("broken", |_, _| async { Err("db down") });

    let answer = shutdown.shutdown("admin:first").await;
    assert!(!answer.ready);
    assert_eq!(answer.vetoed_by, ["busy"]);
    assert!(
        !shutdown.is_closing(),
        "a canceled admin request changes nothing"
    );

    assert!(shutdown.request(forced("api:forced")).await.ready);
    let report = shutdown.wait().await;
    let broken = report
        .hook_errors
        .iter()
        .find(|h| h.hook == "broken")
        .expect("the failing hook is recorded");
    assert_eq!(broken.outcome, ParticipantOutcome::Failed);
    assert_eq!(broken.error.as_deref(), Some("db down"));
}

/// Cancels graceful requests and counts every request it sees.
struct Guard {
    seen: Arc<AtomicUsize>,
}

impl Actor for Guard {
    type Context = Context<Self>;
}

impl Handler<ShutdownRequested> for Guard {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: ShutdownRequested, _: &mut Context<Self>) -> Self::Result {
        self.seen.fetch_add(1, Ordering::SeqCst);
        if !msg.request.is_forced() {
            msg.response.cancel();
        }
        Ok(())
    }
}

#[actix_rt::test]
async fn an_actor_hook_receives_every_request_and_cancels_the_graceful_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let guard = Guard {
        seen: Arc::clone(&seen),
    }
    .start();
    shutdown.on_shutdown_request_actor("guard", guard.recipient());

    let answer = shutdown.shutdown("admin:first").await;
    assert!(!answer.ready);
    assert_eq!(answer.vetoed_by, ["guard"]);

    assert!(shutdown.request(forced("api:forced")).await.ready);
    let report = shutdown.wait().await;
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(report.vetoes.len(), 1);
    assert_eq!(report.vetoes[0].hook, "guard");
    assert_eq!(report.vetoes[0].request_id, answer.request_id);
}

#[actix_rt::test]
async fn a_removed_hook_no_longer_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let id = shutdown.on_shutdown_request("busy", move |_, response| {
        counter.fetch_add(1, Ordering::SeqCst);
        response.cancel();
    });
    shutdown.remove_hook(id);

    let answer = shutdown.shutdown("admin:stop").await;
    assert!(answer.ready, "vetoed by {:?}", answer.vetoed_by);
    let report = shutdown.wait().await;
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(report.vetoes.is_empty());
    assert!(
        report.to_string().ends_with("exit code 0 (clean)"),
        "{report}"
    );
}
