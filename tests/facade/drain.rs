//! Draining through the handle: `closing`, `track`, `on_drain` and `serve`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use actix_shutdown::actors::defaults;
use actix_shutdown::{Loaded, ParticipantOutcome};

use super::support::{PausedSystem, start};

#[actix_rt::test(system = "PausedSystem")]
async fn closing_resolves_when_the_shutdown_begins() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let closing = shutdown.closing();
    let early = tokio::time::timeout(Duration::from_secs(60), shutdown.closing()).await;
    assert!(early.is_err(), "closing resolved before any request");

    assert!(shutdown.shutdown("test:stop").await.ready);
    tokio::time::timeout(Duration::from_secs(1), closing)
        .await
        .expect("closing resolves once the run begins");
    assert!(shutdown.is_closing());
    shutdown.wait().await;
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_tracked_future_ends_before_the_state_is_persisted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let done = Arc::new(AtomicBool::new(false));
    let closing = shutdown.closing();
    let finished = Arc::clone(&done);
    actix::spawn(shutdown.track(async move {
        closing.await;
        tokio::time::sleep(Duration::from_secs(1)).await; // the work still in flight
        finished.store(true, Ordering::SeqCst);
    }));
    let saved = Arc::clone(&done);
    shutdown
        .persist_fn("done", move || saved.load(Ordering::SeqCst))
        .expect("persist");

    assert!(shutdown.shutdown("test:stop").await.ready);
    let report = shutdown.wait().await;
    let tracked = &report.drains[0];
    assert_eq!(tracked.name, "tracked");
    assert_eq!(tracked.outcome, ParticipantOutcome::Completed);
    assert_eq!(tracked.duration_ms, 1000);
    assert!(matches!(
        shutdown.load::<bool>("done"),
        Ok(Loaded::Restored { value: true, .. })
    ));
}

#[actix_rt::test(system = "PausedSystem")]
async fn a_drainer_that_outlives_drain_timeout_is_timed_out_just_before_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c.drain_timeout(Duration::from_secs(2))).await;
    shutdown.on_drain("stuck", std::future::pending::<Result<(), String>>);
    shutdown.on_drain("quick", || async { Err("the consumer was already gone") });

    assert!(shutdown.shutdown("test:stop").await.ready);
    let report = shutdown.wait().await;
    let stuck = report
        .drains
        .iter()
        .find(|d| d.name == "stuck")
        .expect("stuck");
    assert_eq!(stuck.outcome, ParticipantOutcome::TimedOut);
    // Given up a little before the step's own limit, so that the step can still report it.
    let budget = Duration::from_secs(2) - defaults::MIN_STEP_TIME;
    assert_eq!(u128::from(stuck.duration_ms), budget.as_millis());
    let quick = report
        .drains
        .iter()
        .find(|d| d.name == "quick")
        .expect("quick");
    assert_eq!(quick.outcome, ParticipantOutcome::Failed);
    assert_eq!(
        quick.error.as_deref(),
        Some("the consumer was already gone")
    );
    assert!(!report.clean);
    assert!(
        report
            .lost
            .iter()
            .any(|l| l.starts_with("drain stuck timed out")),
        "{:?}",
        report.lost
    );
}

/// A request in flight when the shutdown begins is answered, and what it changed is in the
/// saved state. Real sockets, so real time; no sleep: the handler holds until the test
/// releases it once draining began.
#[cfg(feature = "http")]
#[actix_rt::test]
async fn serve_finishes_a_request_in_flight_before_the_state_is_persisted() {
    use std::io::{Read, Write};

    use actix_web::{App, HttpServer, web};
    use tokio::sync::{Notify, oneshot};

    let tmp = tempfile::tempdir().expect("tempdir");
    let (shutdown, _) = start(tmp.path(), |c| c).await;
    let served = Arc::new(AtomicU64::new(0));
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (count, entered, gate) = (
        Arc::clone(&served),
        Arc::clone(&started),
        Arc::clone(&release),
    );
    let server = HttpServer::new(move || {
        let (count, entered, gate) = (Arc::clone(&count), Arc::clone(&entered), Arc::clone(&gate));
        App::new().route(
            "/",
            web::get().to(move || {
                let (count, entered, gate) =
                    (Arc::clone(&count), Arc::clone(&entered), Arc::clone(&gate));
                async move {
                    entered.notify_one();
                    gate.notified().await;
                    count.fetch_add(1, Ordering::SeqCst);
                    "done"
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    shutdown.serve("api", server);
    let saved = Arc::clone(&served);
    shutdown
        .persist_fn("served", move || saved.load(Ordering::SeqCst))
        .expect("persist");

    let (answer_tx, answer_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let _ = answer_tx.send(answer);
    });
    started.notified().await;
    assert!(shutdown.shutdown("test:stop").await.ready);
    shutdown.closing().await;
    release.notify_one();

    let report = shutdown.wait().await;
    let answer = answer_rx.await.expect("the client thread answers");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("done"), "{answer}");
    let api = report.drains.iter().find(|d| d.name == "api").expect("api");
    assert_eq!(api.outcome, ParticipantOutcome::Completed);
    assert!(matches!(
        shutdown.load::<u64>("served"),
        Ok(Loaded::Restored { value: 1, .. })
    ));
}
