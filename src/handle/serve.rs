//! The bot's own actix-web servers as drain participants.

use std::fmt;
use std::time::Duration;

use actix_http::Request;
use actix_service::IntoServiceFactory;
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response, ServerHandle, Service, ServiceFactory};
use actix_web::{Error, HttpServer};

use super::ShutdownHandle;

impl ShutdownHandle {
    /// Runs the bot's own actix-web server (bound, not yet running) and drains it at the
    /// `drain` step: it stops accepting connections, the requests in flight finish, then the
    /// state is persisted — so a request answered 200 is in the saved state. The library turns
    /// actix-web's own signal handling off (the shutdown owns the signals) and sets its
    /// `shutdown_timeout` a second under `drain_timeout` (whole seconds, at least 1): a request
    /// still running then is cut off (its client gets an error, never a 200 for a job the saved
    /// state lacks), and the drain is reported failed or timed out.
    ///
    /// Returns the server's handle (say, to pause it); the server runs on the current actix
    /// System and ends with it. A request that arrives once draining began is refused
    /// (connection refused).
    ///
    /// # Examples
    /// ```
    /// # #[actix::main] async fn main() -> Result<(), std::io::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let config = actix_shutdown::Config::default().state_dir(dir.path()).signals(false).stop_system(false);
    /// # let (shutdown, _) = actix_shutdown::Shutdown::builder(config).start().await.unwrap();
    /// use actix_web::{App, HttpServer, web};
    ///
    /// let server = HttpServer::new(|| App::new().route("/", web::get().to(|| async { "hi" })))
    ///     .bind("127.0.0.1:0")?;
    /// shutdown.serve("api", server);
    /// shutdown.shutdown("admin:stop").await;
    /// assert_eq!(shutdown.wait().await.drains[0].name, "api");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn serve<F, I, S, B>(
        &self,
        name: impl Into<String>,
        server: HttpServer<F, I, S, B>,
    ) -> ServerHandle
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<Response<B>> + 'static,
        <S::Service as Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let name = name.into();
        let budget = self.inner.config.drain_timeout;
        if budget < Duration::from_secs(2) {
            tracing::warn!(
                server = %crate::escape(&name),
                "drain_timeout {budget:?} is short for an actix-web server: it checks its workers once a second, so a drain with a connection open takes at least that long"
            );
        }
        // actix-web drops the workers still serving requests after its shutdown timeout (whole
        // seconds): a second under the drain budget, so that no request is answered after the
        // drain gave up and the state was persisted.
        let cut_after = Duration::from_secs(budget.as_secs().saturating_sub(1).max(1));
        let server = server
            .disable_signals()
            .shutdown_timeout(cut_after.as_secs())
            .run();
        let handle = server.handle();
        let label = name.clone();
        actix::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(server = %crate::escape(&label), "the server stopped with an error: {e}");
            }
        });
        let stop = handle.clone();
        self.on_drain(name, move || async move {
            let began = std::time::Instant::now();
            stop.stop(true).await;
            // A stop that lasted the shutdown timeout ended with requests cut off.
            if began.elapsed() >= cut_after {
                Err(format!(
                    "requests still running after {} s were cut off (their clients got an error)",
                    cut_after.as_secs()
                ))
            } else {
                Ok(())
            }
        });
        handle
    }
}
