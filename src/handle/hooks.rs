//! Shutdown hooks: closures and actors asked about every request, which may cancel a graceful
//! one.

use std::future::Future;

use actix::prelude::*;
use actix_shutdown_actors::messages::{HookId, RegisterHook, ShutdownRequested, UnregisterHook};
use actix_shutdown_actors::{
    ShutdownRequest, ShutdownResponse, async_hook, recipient_hook, sync_hook,
};

use super::ShutdownHandle;

impl ShutdownHandle {
    /// Registers a hook, run for every shutdown request in registration order. Calling
    /// `response.cancel()` on a graceful request cancels it; forced requests ignore cancels.
    /// A panicking hook is recorded and does not cancel.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let busy = Arc::new(AtomicBool::new(true));
    /// let flag = Arc::clone(&busy);
    /// shutdown.on_shutdown_request("busy", move |request, response| {
    ///     if !request.is_forced() && flag.load(Ordering::SeqCst) {
    ///         response.cancel();
    ///     }
    /// });
    /// let answer = shutdown.shutdown("admin:stop").await;
    /// assert!(!answer.ready);
    /// assert_eq!(answer.vetoed_by, ["busy"]);
    /// busy.store(false, Ordering::SeqCst);
    /// assert!(shutdown.shutdown("admin:stop").await.ready);
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn on_shutdown_request<F>(&self, name: impl Into<String>, hook: F) -> HookId
    where
        F: Fn(&ShutdownRequest, &ShutdownResponse) + Send + 'static,
    {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: sync_hook(hook),
        });
        id
    }

    /// Registers an async hook, bounded by the hook budget; its error is recorded (it does
    /// not cancel).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// shutdown.on_shutdown_request_async("jobs", |request, response| async move {
    ///     let in_flight = 0; // e.g. ask the queue actor
    ///     if in_flight > 0 && !request.is_forced() {
    ///         response.cancel();
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// assert!(shutdown.shutdown("admin:stop").await.ready);
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn on_shutdown_request_async<F, Fut, E>(&self, name: impl Into<String>, hook: F) -> HookId
    where
        F: Fn(ShutdownRequest, ShutdownResponse) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: std::fmt::Display,
    {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: async_hook(hook),
        });
        id
    }

    /// Registers an actor as a hook: it receives
    /// [`ShutdownRequested`] for every
    /// request, bounded by the hook budget.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix::prelude::*;
    /// use actix_shutdown::ShutdownRequested;
    ///
    /// struct Queue { in_flight: usize }
    /// impl Actor for Queue {
    ///     type Context = Context<Self>;
    /// }
    /// impl Handler<ShutdownRequested> for Queue {
    ///     type Result = Result<(), String>;
    ///     fn handle(&mut self, msg: ShutdownRequested, _: &mut Context<Self>) -> Self::Result {
    ///         if self.in_flight > 0 && !msg.request.is_forced() {
    ///             msg.response.cancel();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let queue = Queue { in_flight: 2 }.start();
    /// shutdown.on_shutdown_request_actor("queue", queue.recipient());
    /// assert_eq!(shutdown.shutdown("admin:stop").await.vetoed_by, ["queue"]);
    /// # shutdown.request(actix_shutdown::ShutdownRequest::forced(actix_shutdown::RequestSource::Api, "end")).await;
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn on_shutdown_request_actor(
        &self,
        name: impl Into<String>,
        recipient: Recipient<ShutdownRequested>,
    ) -> HookId {
        let id = HookId::next();
        self.inner.actors.supervisor.do_send(RegisterHook {
            id,
            name: name.into(),
            hook: recipient_hook(recipient),
        });
        id
    }

    /// Removes a hook.
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// let id = shutdown.on_shutdown_request("maintenance", |_, response| response.cancel());
    /// assert!(!shutdown.shutdown("admin:stop").await.ready);
    /// shutdown.remove_hook(id);
    /// assert!(shutdown.shutdown("admin:stop").await.ready);
    /// # shutdown.wait().await;
    /// # }
    /// ```
    pub fn remove_hook(&self, id: HookId) {
        self.inner.actors.supervisor.do_send(UnregisterHook(id));
    }
}
