//! Draining: what must end before the state is persisted. Servers stop accepting and finish
//! their requests, tracked futures run to completion, custom drainers and actors answer
//! [`Drain`]. All of them are drained at once at the `drain` step, each within
//! `drain_timeout`; one that does not finish is `timed_out` and the run is not clean.

use std::fmt::Display;
use std::future::Future;

use actix::prelude::*;
use actix_shutdown_actors::messages::{Drain, Drainer, RegisterDrain};
use futures::FutureExt;
use tokio_util::sync::WaitForCancellationFutureOwned;
use tokio_util::task::task_tracker::TrackedFuture;

use super::ShutdownHandle;

/// The name the tracked futures are drained under in the report.
const TRACKED: &str = "tracked";

impl ShutdownHandle {
    /// Resolves once `is_closing` turns true: at once for a signal or a forced request, when
    /// the pipeline begins for the others. For code that is not a task (a consumer loop, a
    /// request handler that long-polls).
    ///
    /// # Examples
    /// ```
    /// # fn main() {
    /// # let paused = || tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    /// # actix::System::with_tokio_rt(paused).block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::Duration;
    ///
    /// let closing = shutdown.closing();
    /// # shutdown.shutdown("admin:stop").await;
    /// tokio::select! {
    ///     () = closing => println!("closing: take no new work"),
    ///     () = tokio::time::sleep(Duration::from_secs(60)) => println!("still running"),
    /// }
    /// # shutdown.wait().await;
    /// # }) }
    /// ```
    pub fn closing(&self) -> WaitForCancellationFutureOwned {
        self.inner.closing.closed()
    }

    /// Registers a drain participant: at the `drain` step, `drain` is called once and its
    /// future must end when the work in flight has ended (stop taking new work first). Its
    /// error is reported (`failed`), a panic is contained (`panicked`), and one that takes
    /// longer than `drain_timeout` is `timed_out`; the pipeline goes on in every case.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    /// let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    /// actix::spawn(async move {
    ///     // a consumer loop: runs until told to stop, then finishes its message
    ///     let _ = stop_rx.await;
    ///     let _ = done_tx.send(());
    /// });
    /// shutdown.on_drain("consumer", move || async move {
    ///     stop_tx.send(()).map_err(|()| "the consumer is gone")?;
    ///     done_rx.await.map_err(|_| "the consumer ended without finishing")
    /// });
    /// shutdown.shutdown("admin:stop").await;
    /// let report = shutdown.wait().await;
    /// assert_eq!(report.drains[0].name, "consumer");
    /// # }
    /// ```
    pub fn on_drain<F, Fut, E>(&self, name: impl Into<String>, drain: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: Display,
    {
        let drainer = Drainer::Fn(Box::new(move || {
            drain()
                .map(|ended| ended.map_err(|e| e.to_string()))
                .boxed_local()
        }));
        self.register_drain(name.into(), drainer);
    }

    /// Registers an actor as a drain participant: it receives [`Drain`] at the `drain` step
    /// and answers once its work in flight has ended.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix::prelude::*;
    /// use actix_shutdown::Drain;
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Context = Context<Self>;
    /// }
    /// impl Handler<Drain> for Worker {
    ///     type Result = Result<(), String>;
    ///     fn handle(&mut self, _: Drain, _: &mut Context<Self>) -> Self::Result {
    ///         Ok(()) // nothing in flight
    ///     }
    /// }
    ///
    /// shutdown.on_drain_actor("worker", Worker.start().recipient());
    /// shutdown.shutdown("admin:stop").await;
    /// assert_eq!(shutdown.wait().await.drains[0].name, "worker");
    /// # }
    /// ```
    pub fn on_drain_actor(&self, name: impl Into<String>, actor: Recipient<Drain>) {
        self.register_drain(name.into(), Drainer::Actor(actor));
    }

    /// Tracks a future that must end before the state is persisted (like tokio-util's
    /// `TaskTracker::track_future`): the `drain` step waits for every tracked future that is
    /// still running, reported together as `tracked`. Spawn or await the returned future as
    /// you would the original.
    ///
    /// # Examples
    /// ```
    /// # fn main() {
    /// # let paused = || tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    /// # actix::System::with_tokio_rt(paused).block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::time::Duration;
    ///
    /// let job = shutdown.track(async {
    ///     // work that changes the state: it finishes before persist_state
    ///     tokio::time::sleep(Duration::from_secs(2)).await;
    /// });
    /// actix::spawn(job);
    /// shutdown.shutdown("admin:stop").await;
    /// let report = shutdown.wait().await;
    /// assert_eq!(report.drains[0].name, "tracked");
    /// # }) }
    /// ```
    pub fn track<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.inner.track_registered.call_once(|| {
            let tracker = self.inner.tracker.clone();
            self.on_drain(TRACKED, move || async move {
                tracker.close();
                tracker.wait().await;
                Ok::<(), String>(())
            });
        });
        self.inner.tracker.track_future(future)
    }

    fn register_drain(&self, name: String, drainer: Drainer) {
        self.inner
            .actors
            .supervisor
            .do_send(RegisterDrain { name, drainer });
    }
}
